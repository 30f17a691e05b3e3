import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import {
  authorizeUrl,
  awaitAuthorizationCode,
  checkState,
  createState,
  OAuthCancelledError,
  OAuthError,
  parsePastedCode,
  parseState,
  validateRedirectUri,
} from '../../src/accounts/oauth';

const CALLBACK = 'vscode://opendata-tools.socrata-publisher/oauth-callback';

/** A callback source like the extension's UriHandler event, counting live listeners. */
class Callbacks {
  private listeners = new Set<(query: string) => void>();
  get live() {
    return this.listeners.size;
  }
  subscribe = (listener: (query: string) => void) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(query: string) {
    for (const l of [...this.listeners]) l(query);
  }
}

describe('oauth state', () => {
  it('is fresh per attempt and carries the callback URI', () => {
    const a = createState(CALLBACK);
    const b = createState(CALLBACK);
    assert.notEqual(a, b);
    assert.equal(parseState(a).callbackUri, CALLBACK);
    assert.ok(parseState(a).nonce.length >= 43, '32 random bytes');
  });

  it('refuses malformed states and short nonces', () => {
    assert.throws(
      () => parseState('abc'),
      (e: unknown) => e instanceof OAuthError && e.code === 'invalid-state',
    );
    assert.throws(() => parseState(`short.${Buffer.from(CALLBACK).toString('base64url')}`), OAuthError);
    assert.throws(() => createState(CALLBACK, Buffer.alloc(8)), RangeError);
  });

  it('accepts only the exact state of the attempt', () => {
    const s = createState(CALLBACK);
    checkState(s, s);
    const other = createState(CALLBACK);
    assert.throws(
      () => checkState(s, other),
      (e: unknown) => e instanceof OAuthError && e.code === 'state-mismatch',
    );
    assert.throws(() => checkState(s, undefined), OAuthError);
    assert.throws(() => checkState(s, `${s}x`), OAuthError);
  });
});

describe('oauth urls', () => {
  it('builds the authorize URL on https, and on http only for loopback test domains', () => {
    const u = authorizeUrl('data.city.gov', { clientId: 'demo-app-token', redirectUri: 'https://localhost/cb?x=1', state: 's' });
    assert.equal(u.origin, 'https://data.city.gov');
    assert.equal(u.pathname, '/oauth/authorize');
    assert.equal(u.searchParams.get('client_id'), 'demo-app-token');
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.equal(u.searchParams.get('redirect_uri'), 'https://localhost/cb?x=1');
    assert.equal(u.searchParams.get('state'), 's');
    assert.equal(authorizeUrl('127.0.0.1:8080', { clientId: 'c', redirectUri: 'r', state: 's' }).origin, 'http://127.0.0.1:8080');
    assert.throws(() => authorizeUrl('evil.com/x', { clientId: 'c', redirectUri: 'r', state: 's' }));
  });

  it('validates the redirect URI the user registered', () => {
    assert.equal(validateRedirectUri(' https://example.org/socrata/cb.html '), 'https://example.org/socrata/cb.html');
    assert.equal(validateRedirectUri('http://127.0.0.1:9999/cb'), 'http://127.0.0.1:9999/cb');
    for (const bad of ['http://example.org/cb', 'vscode://x/y', 'not a url', 'https://u:p@example.org/', 'https://example.org/#frag']) {
      assert.throws(
        () => validateRedirectUri(bad),
        (e: unknown) => e instanceof OAuthError && e.code === 'invalid-redirect',
        bad,
      );
    }
  });

  it('reads a pasted code or callback address', () => {
    assert.deepEqual(parsePastedCode('  abc123 '), { code: 'abc123', state: undefined });
    assert.deepEqual(parsePastedCode('https://localhost/cb?code=XYZ&state=S1'), { code: 'XYZ', state: 'S1' });
    assert.throws(
      () => parsePastedCode('https://localhost/cb?error=access_denied'),
      (e: unknown) => e instanceof OAuthError && e.code === 'access-denied',
    );
    assert.throws(
      () => parsePastedCode('https://localhost/cb?state=1'),
      (e: unknown) => e instanceof OAuthError && e.code === 'missing-code',
    );
    assert.throws(() => parsePastedCode('<script>'), OAuthError);
    assert.throws(() => parsePastedCode(''), OAuthError);
  });
});

describe('oauth wait for the code', () => {
  it('resolves on a callback with the right state, ignoring (and reporting) others, and leaves no listener', async () => {
    const state = createState(CALLBACK);
    const callbacks = new Callbacks();
    const rejected: string[] = [];
    const pending = awaitAuthorizationCode({ state, onCallback: callbacks.subscribe, timeoutMs: 60_000, onRejected: (r) => rejected.push(r) });
    assert.equal(callbacks.live, 1);
    callbacks.fire(`code=forged&state=${createState(CALLBACK)}`);
    callbacks.fire('code=forged');
    assert.equal(rejected.length, 2);
    callbacks.fire(`code=good&state=${state}`);
    assert.equal(await pending, 'good');
    assert.equal(callbacks.live, 0);
  });

  it('turns a denial into an error', async () => {
    const state = createState(CALLBACK);
    const callbacks = new Callbacks();
    const pending = awaitAuthorizationCode({ state, onCallback: callbacks.subscribe, timeoutMs: 60_000 });
    callbacks.fire(`error=access_denied&state=${state}`);
    await assert.rejects(pending, (e: unknown) => e instanceof OAuthError && e.code === 'access-denied');
    assert.equal(callbacks.live, 0);
  });

  it('ends cleanly on cancel and on time-out, and keeps waiting when the paste box is dismissed', async () => {
    const state = createState(CALLBACK);
    const callbacks = new Callbacks();
    const abort = new AbortController();
    const cancelled = awaitAuthorizationCode({ state, onCallback: callbacks.subscribe, timeoutMs: 60_000, signal: abort.signal });
    abort.abort();
    await assert.rejects(cancelled, (e: unknown) => e instanceof OAuthCancelledError && e.reason === 'cancelled');
    assert.equal(callbacks.live, 0);

    const timedOut = awaitAuthorizationCode({ state, onCallback: callbacks.subscribe, timeoutMs: 1 });
    await assert.rejects(timedOut, (e: unknown) => e instanceof OAuthCancelledError && e.reason === 'timeout');
    assert.equal(callbacks.live, 0);

    // A dismissed paste box does not end the attempt: the browser may still answer.
    const dismissed = awaitAuthorizationCode({ state, onCallback: callbacks.subscribe, timeoutMs: 60_000, askForPastedCode: () => Promise.resolve(undefined) });
    await new Promise((r) => setImmediate(r));
    assert.equal(callbacks.live, 1);
    callbacks.fire(`code=late&state=${state}`);
    assert.equal(await dismissed, 'late');
    assert.equal(callbacks.live, 0);
  });

  it('accepts a pasted code, checks the state of a pasted address, and closes the paste box when the callback wins', async () => {
    const state = createState(CALLBACK);
    const callbacks = new Callbacks();
    assert.equal(
      await awaitAuthorizationCode({ state, onCallback: callbacks.subscribe, timeoutMs: 60_000, askForPastedCode: () => Promise.resolve('pasted-code') }),
      'pasted-code',
    );
    await assert.rejects(
      awaitAuthorizationCode({
        state,
        onCallback: callbacks.subscribe,
        timeoutMs: 60_000,
        askForPastedCode: () => Promise.resolve(`https://localhost/cb?code=c&state=${createState(CALLBACK)}`),
      }),
      (e: unknown) => e instanceof OAuthError && e.code === 'state-mismatch',
    );
    let boxSignal: AbortSignal | undefined;
    const winner = awaitAuthorizationCode({
      state,
      onCallback: callbacks.subscribe,
      timeoutMs: 60_000,
      askForPastedCode: (signal) => {
        boxSignal = signal;
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve(undefined)));
      },
    });
    callbacks.fire(`code=from-browser&state=${state}`);
    assert.equal(await winner, 'from-browser');
    assert.equal(boxSignal?.aborted, true, 'the input box is told to close');
    assert.equal(callbacks.live, 0);
  });
});

describe('oauth callback page (media/oauth-callback.html)', () => {
  const html = readFileSync(join(__dirname, '..', '..', 'media', 'oauth-callback.html'), 'utf8');
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';

  it('has one inline script, allowed by its hash in a strict policy', () => {
    assert.equal(html.match(/<script/g)?.length, 1);
    const hash = createHash('sha256').update(script).digest('base64');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.ok(csp.includes(`script-src 'sha256-${hash}'`), 'the policy allows exactly this script');
    assert.ok(!csp.includes('unsafe-inline'));
    assert.match(html, /name="referrer" content="no-referrer"/);
  });

  /** Runs the page's script with the given address and allowed origins; returns where it navigated (if anywhere) and what it said. */
  function runPage(href: string, allowedOrigins = ''): { navigatedTo: string | undefined; status: string; code: string } {
    const elements: Record<string, { textContent: string; hidden: boolean }> = {
      status: { textContent: '', hidden: false },
      manual: { textContent: '', hidden: true },
      code: { textContent: '', hidden: false },
    };
    let navigatedTo: string | undefined;
    const url = new URL(href);
    runInNewContext(script, {
      URL,
      URLSearchParams,
      TextDecoder,
      Uint8Array,
      atob,
      location: { search: url.search, replace: (to: string) => (navigatedTo = to) },
      document: {
        getElementById: (id: string) => elements[id],
        querySelector: () => ({ getAttribute: () => allowedOrigins }),
      },
    });
    return { navigatedTo, status: elements.status?.textContent ?? '', code: elements.code?.textContent ?? '' };
  }

  it('forwards code and state to the extension callback URI', () => {
    const state = createState(CALLBACK);
    const r = runPage(`https://localhost/cb.html?code=C0DE&state=${state}`);
    assert.ok(r.navigatedTo !== undefined);
    const to = new URL(r.navigatedTo);
    assert.equal(to.protocol, 'vscode:');
    assert.equal(to.host, 'opendata-tools.socrata-publisher');
    assert.equal(to.searchParams.get('code'), 'C0DE');
    assert.equal(to.searchParams.get('state'), state);
    assert.equal(r.code, 'C0DE', 'the code is shown for pasting');
  });

  it('forwards a denial', () => {
    const state = createState(CALLBACK);
    const r = runPage(`https://localhost/cb.html?error=access_denied&state=${state}`);
    assert.equal(new URL(r.navigatedTo ?? 'x:').searchParams.get('error'), 'access_denied');
  });

  it('is not an open redirect', () => {
    for (const target of [
      'https://evil.example/steal',
      'vscode://other.extension/oauth-callback',
      'vscode://opendata-tools.socrata-publisher/elsewhere',
      'javascript:alert(1)',
      'http://127.0.0.1:8080/callback',
    ]) {
      const r = runPage(`https://localhost/cb.html?code=C&state=${createState(target)}`);
      assert.equal(r.navigatedTo, undefined, target);
      assert.match(r.status, /not an editor|cannot be forwarded/, target);
    }
    assert.equal(runPage('https://localhost/cb.html?code=C&state=garbage').navigatedTo, undefined);
  });

  it('follows a browser editor only when its origin is listed', () => {
    const web =
      'http://127.0.0.1:8080/callback?vscode-reqid=1&vscode-scheme=code-oss&vscode-authority=opendata-tools.socrata-publisher&vscode-path=%2Foauth-callback';
    const state = createState(web);
    assert.equal(runPage(`https://localhost/cb.html?code=C&state=${state}`).navigatedTo, undefined);
    const r = runPage(`https://localhost/cb.html?code=C&state=${state}`, 'https://code.example.org http://127.0.0.1:8080');
    const to = new URL(r.navigatedTo ?? 'x:');
    assert.equal(to.origin, 'http://127.0.0.1:8080');
    assert.equal(to.searchParams.get('vscode-reqid'), '1');
    assert.equal(to.searchParams.get('code'), 'C');
  });
});
