// The OAuth flow end to end over loopback HTTP: the extension's flow logic (src/accounts/oauth.ts) against the
// emulator's /oauth endpoints, and the issued token against /api/users/current.json.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { authorizeUrl, awaitAuthorizationCode, createState, exchangeCode, OAuthError } from '../../src/accounts/oauth';
import { SodaClient } from '../../src/soda/client';
import { isSodaError } from '../../src/soda/errors';
import { type RunningEmulator, SAMPLE, startEmulator } from '../emulator/index';
import { oauthSettings } from '../emulator/oauth';

const CALLBACK = 'vscode://opendata-tools.socrata-publisher/oauth-callback';
const { clientId, clientSecret } = SAMPLE.oauthClient;
const { email, password } = SAMPLE.users.publisher;

let emu: RunningEmulator;
let redirectUri: string;

before(async () => {
  emu = await startEmulator({ port: 0, seed: 'sample' });
  // A loopback page standing in for the hosted callback page; an existing query must be kept.
  redirectUri = `http://127.0.0.1:${emu.port + 1}/socrata/oauth-callback.html?site=1`;
});
after(async () => {
  await emu.stop();
});

async function getAuthorize(params: Record<string, string>): Promise<Response> {
  const url = new URL('/oauth/authorize', emu.url);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return fetch(url, { redirect: 'manual' });
}

/** Opens the authorize page and submits the form; returns the redirect target (or the page when none). */
async function approve(
  state: string,
  opts: { user?: string; pass?: string; decision?: string; redirect?: string } = {},
): Promise<{ status: number; location: URL | undefined; html: string }> {
  const url = authorizeUrl(emu.domain, { clientId, redirectUri: opts.redirect ?? redirectUri, state });
  const page = await fetch(url, { redirect: 'manual' });
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const requestId = /name="request" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(requestId, 'the page carries the pending request');
  assert.match(html, /id="approve"/);
  assert.match(html, /id="deny"/);
  const res = await fetch(new URL('/oauth/authorize', emu.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      request: requestId,
      email: opts.user ?? email,
      password: opts.pass ?? password,
      decision: opts.decision ?? 'approve',
    }).toString(),
  });
  const location = res.headers.get('location');
  return { status: res.status, location: location ? new URL(location) : undefined, html: await res.text() };
}

async function codeFor(state = createState(CALLBACK)): Promise<string> {
  const r = await approve(state);
  assert.equal(r.status, 302);
  const code = r.location?.searchParams.get('code');
  assert.ok(code);
  return code;
}

describe('emulator OAuth: authorize page', () => {
  it('shows an error page, and never redirects, for an unknown client or a redirect outside the callback prefix', async () => {
    const state = createState(CALLBACK);
    const cases: Record<string, string>[] = [
      { client_id: 'nobody', response_type: 'code', redirect_uri: redirectUri, state },
      { client_id: clientId, response_type: 'code', redirect_uri: 'https://evil.example/cb', state },
      { client_id: clientId, response_type: 'code', redirect_uri: 'http://evil.example/cb', state },
      { client_id: clientId, response_type: 'code', state },
      { client_id: clientId, response_type: 'token', redirect_uri: redirectUri, state },
    ];
    for (const params of cases) {
      const res = await getAuthorize(params);
      const html = await res.text();
      assert.equal(res.status, 400, JSON.stringify(params));
      assert.equal(res.headers.get('location'), null);
      assert.match(html, /id="oauth-error"/);
    }
  });

  it('accepts the registered https prefix', async () => {
    const res = await getAuthorize({ client_id: clientId, response_type: 'code', redirect_uri: 'https://localhost/socrata/cb.html', state: 's' });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<form method="post"/);
  });

  it('asks again after a wrong password, and redirects with code and state (keeping the query) after Approve', async () => {
    const state = createState(CALLBACK);
    const wrong = await approve(state, { pass: 'nope' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.location, undefined);
    assert.match(wrong.html, /Wrong email or password/);

    const ok = await approve(state);
    assert.equal(ok.status, 302);
    assert.equal(ok.location?.origin + (ok.location?.pathname ?? ''), new URL(redirectUri).origin + new URL(redirectUri).pathname);
    assert.equal(ok.location?.searchParams.get('site'), '1');
    assert.equal(ok.location?.searchParams.get('state'), state);
    assert.ok(ok.location?.searchParams.get('code'));
  });

  it('redirects with error=access_denied after Deny', async () => {
    const state = createState(CALLBACK);
    const r = await approve(state, { decision: 'deny' });
    assert.equal(r.status, 302);
    assert.equal(r.location?.searchParams.get('error'), 'access_denied');
    assert.equal(r.location?.searchParams.get('code'), null);
    assert.equal(r.location?.searchParams.get('state'), state);
  });
});

describe('emulator OAuth: the whole flow', () => {
  it('state round trip → code → token → current user; the token works as Authorization: OAuth', async () => {
    const state = createState(CALLBACK);
    const listeners = new Set<(q: string) => void>();
    const waiting = awaitAuthorizationCode({
      state,
      timeoutMs: 60_000,
      onCallback: (l) => {
        listeners.add(l);
        return { dispose: () => listeners.delete(l) };
      },
    });
    const r = await approve(state);
    // What the callback page does: forward code and state to the editor callback.
    for (const l of listeners) l(r.location?.search ?? '');
    const code = await waiting;
    assert.equal(listeners.size, 0);
    const token = await exchangeCode(emu.domain, { clientId, clientSecret, redirectUri, code });
    const client = new SodaClient({ domain: emu.domain, auth: { type: 'oauth', accessToken: token } });
    try {
      const me = await client.currentUser();
      assert.equal(me.id, SAMPLE.users.publisher.id);
      assert.equal(me.displayName, 'Pat Publisher');
      assert.equal(me.email, email);
    } finally {
      await client.close();
    }
  });

  it("a callback with another attempt's state is rejected", async () => {
    const mine = createState(CALLBACK);
    const theirs = createState(CALLBACK);
    const r = await approve(theirs);
    const listeners = new Set<(q: string) => void>();
    const rejected: string[] = [];
    const abort = new AbortController();
    const waiting = awaitAuthorizationCode({
      state: mine,
      timeoutMs: 60_000,
      signal: abort.signal,
      onRejected: (reason) => rejected.push(reason),
      onCallback: (l) => {
        listeners.add(l);
        return { dispose: () => listeners.delete(l) };
      },
    });
    for (const l of listeners) l(r.location?.search ?? '');
    assert.equal(rejected.length, 1);
    abort.abort();
    await assert.rejects(waiting);
    assert.equal(listeners.size, 0);
  });
});

describe('emulator OAuth: token endpoint errors', () => {
  it('a reused code is refused and the token issued for it is revoked', async () => {
    const code = await codeFor();
    const token = await exchangeCode(emu.domain, { clientId, clientSecret, redirectUri, code });
    await assert.rejects(
      exchangeCode(emu.domain, { clientId, clientSecret, redirectUri, code }),
      (e: unknown) => e instanceof OAuthError && e.code === 'invalid-grant',
    );
    const client = new SodaClient({ domain: emu.domain, auth: { type: 'oauth', accessToken: token }, retry: { maxAttempts: 1 } });
    try {
      await assert.rejects(client.currentUser(), (e: unknown) => isSodaError(e, 'auth') && e.status === 401);
    } finally {
      await client.close();
    }
  });

  it('an expired code is refused', async () => {
    const code = await codeFor();
    const realNow = oauthSettings.now;
    oauthSettings.now = () => realNow() + oauthSettings.codeTtlMs + 1;
    try {
      await assert.rejects(
        exchangeCode(emu.domain, { clientId, clientSecret, redirectUri, code }),
        (e: unknown) => e instanceof OAuthError && e.code === 'invalid-grant' && /expired/.test(e.message),
      );
    } finally {
      oauthSettings.now = realNow;
    }
  });

  it('a wrong client secret is refused (and the code stays usable by the real client)', async () => {
    const code = await codeFor();
    await assert.rejects(
      exchangeCode(emu.domain, { clientId, clientSecret: 'wrong-secret', redirectUri, code }),
      (e: unknown) => e instanceof OAuthError && e.code === 'invalid-client' && !e.message.includes('wrong-secret'),
    );
    assert.ok(await exchangeCode(emu.domain, { clientId, clientSecret, redirectUri, code }));
  });

  it('a code presented with another redirect URI, or an unknown code, is refused', async () => {
    const code = await codeFor();
    await assert.rejects(
      exchangeCode(emu.domain, { clientId, clientSecret, redirectUri: 'https://localhost/other', code }),
      (e: unknown) => e instanceof OAuthError && e.code === 'invalid-grant',
    );
    await assert.rejects(
      exchangeCode(emu.domain, { clientId, clientSecret, redirectUri, code: 'made-up' }),
      (e: unknown) => e instanceof OAuthError && e.code === 'invalid-grant',
    );
  });

  it('answers errors in the OAuth 2 shape, and reads parameters from the query string as the Socrata docs show', async () => {
    const res = await fetch(new URL('/oauth/access_token?grant_type=password', emu.url), { method: 'POST' });
    assert.equal(res.status, 400);
    assert.deepEqual(Object.keys((await res.json()) as object).sort(), ['error', 'error_description']);
    const code = await codeFor();
    const url = new URL('/oauth/access_token', emu.url);
    url.search = new URLSearchParams({
      client_id: clientId,
      client_secret: clientSecret,
      grant_type: 'authorization_code',
      redirect_uri: redirectUri,
      code,
    }).toString();
    const ok = await fetch(url, { method: 'POST' });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { access_token?: unknown };
    assert.equal(typeof body.access_token, 'string');
  });
});
