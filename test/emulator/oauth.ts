/**
 * OAuth 2.0 endpoints (`/oauth/**`) of the emulator: the authorization-code flow as Socrata documents it.
 *
 * - `GET /oauth/authorize?client_id&response_type=code&redirect_uri&state` — an HTML page with a small login
 *   form (email and password of a seed user) and Approve / Deny buttons. An unknown client, a missing or
 *   unregistered redirect URI, or another response type gives an error page and no redirect (a redirect to
 *   an unchecked address would be an open redirect).
 * - `POST /oauth/authorize` (the form) — Approve with the right password redirects (302) to
 *   `redirect_uri` with `code` and `state` appended (an existing query is kept); Deny redirects with
 *   `error=access_denied`; a wrong password shows the form again (401).
 * - `POST /oauth/access_token` — `client_id`, `client_secret`, `grant_type=authorization_code`,
 *   `redirect_uri`, `code`, read from the query string (as the Socrata docs show them) and/or an
 *   `application/x-www-form-urlencoded` or JSON body. Answers `{"access_token": "…"}` (the only field the
 *   docs mention). Codes are one-time, expire after `oauthSettings.codeTtlMs`, and are bound to the client and
 *   the redirect URI. Reusing a code also revokes the token it produced (RFC 6749 §4.1.2).
 *
 * Errors of the token endpoint use the OAuth 2 standard body `{error, error_description}` (RFC 6749 §5.2):
 * the Socrata docs do not document the error format of this endpoint, and the standard one is what OAuth
 * libraries expect. 400 `invalid_request` / `unsupported_grant_type` / `invalid_grant`, 401 `invalid_client`.
 *
 * Issued tokens come from `store.issueAccessToken`, so they are accepted as `Authorization: OAuth <token>`
 * on every API route.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { EmulatorContext } from './context';
import type { EmulatorStore, OAuthClient } from './store';

/** Tunables, changeable by in-process tests (e.g. to let codes expire without waiting). */
export const oauthSettings = {
  codeTtlMs: 10 * 60_000,
  pendingTtlMs: 30 * 60_000,
  now: (): number => Date.now(),
};

interface PendingRequest {
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  expiresAt: number;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  userId: string;
  expiresAt: number;
  used: boolean;
  token: string | undefined;
}

interface OAuthState {
  pending: Map<string, PendingRequest>;
  codes: Map<string, IssuedCode>;
}

const states = new WeakMap<EmulatorStore, OAuthState>();

function stateOf(store: EmulatorStore): OAuthState {
  let s = states.get(store);
  if (!s) {
    s = { pending: new Map(), codes: new Map() };
    states.set(store, s);
  }
  return s;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether `redirectUri` is acceptable for the client: https with a registered prefix, or loopback http when allowed. */
export function redirectAllowed(client: OAuthClient, redirectUri: string): boolean {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') return false;
  if (url.protocol === 'https:' && client.callbackPrefixes.some((prefix) => redirectUri.startsWith(prefix))) return true;
  return client.allowLoopback && url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** The page's policy. `form-action` also governs the redirect that answers the form, so it lists the client's redirect origin. */
function csp(redirectOrigin?: string): string {
  return `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${redirectOrigin ? ` ${redirectOrigin}` : ''}; frame-ancestors 'none'; base-uri 'none'`;
}

function sendPage(ctx: EmulatorContext, status: number, title: string, body: string, redirectOrigin?: string): void {
  // Links and the form use relative addresses, so the page also works behind a path proxy (`/proxy/<port>/`).
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.6rem 0}input{width:100%;padding:.3rem}button{margin:.8rem .5rem 0 0;padding:.4rem 1.2rem}.error{color:#b00020}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
  ctx.sendRaw(status, html, 'text/html; charset=utf-8', {
    'Content-Security-Policy': csp(redirectOrigin),
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
  });
}

function errorPage(ctx: EmulatorContext, status: number, message: string): void {
  sendPage(ctx, status, 'Authorization error', `<p class="error" id="oauth-error">${escapeHtml(message)}</p>`);
}

function loginForm(ctx: EmulatorContext, requestId: string, pending: PendingRequest, problem?: string): void {
  const status = problem === undefined ? 200 : 401;
  sendPage(
    ctx,
    status,
    'Authorize application',
    `<p>The application <strong>${escapeHtml(pending.clientId)}</strong> wants to access <strong>${escapeHtml(ctx.domain)}</strong> on your behalf.</p>
${problem === undefined ? '' : `<p class="error" id="oauth-error">${escapeHtml(problem)}</p>`}
<form method="post" action="authorize">
<input type="hidden" name="request" value="${escapeHtml(requestId)}">
<label>Email <input type="email" name="email" id="email" autocomplete="username"></label>
<label>Password <input type="password" name="password" id="password" autocomplete="current-password"></label>
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>
<p>You will be sent back to <code>${escapeHtml(pending.redirectUri)}</code>.</p>`,
    new URL(pending.redirectUri).origin,
  );
}

function redirectTo(ctx: EmulatorContext, redirectUri: string, params: Record<string, string | undefined>): void {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  ctx.sendRaw(302, '', 'text/plain; charset=utf-8', { Location: url.toString(), 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
}

async function readParams(ctx: EmulatorContext): Promise<URLSearchParams> {
  const params = new URLSearchParams(ctx.url.search);
  const type = (ctx.req.headers['content-type'] ?? '').toLowerCase();
  const body = (await ctx.readBody(64 * 1024)).toString('utf8');
  if (body.trim() === '') return params;
  if (type.includes('application/json')) {
    try {
      const json: unknown = JSON.parse(body);
      if (typeof json === 'object' && json !== null) {
        for (const [k, v] of Object.entries(json)) if (typeof v === 'string') params.set(k, v);
      }
    } catch {
      // leave the params as they are; the handler reports what is missing
    }
  } else {
    for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
  }
  return params;
}

function purge(s: OAuthState, now: number): void {
  for (const [k, v] of s.pending) if (v.expiresAt <= now) s.pending.delete(k);
  for (const [k, v] of s.codes) if (v.expiresAt + oauthSettings.codeTtlMs <= now && v.used) s.codes.delete(k);
}

function getAuthorize(ctx: EmulatorContext): void {
  const q = ctx.url.searchParams;
  const clientId = q.get('client_id') ?? '';
  const redirectUri = q.get('redirect_uri') ?? '';
  const client = ctx.store.oauthClient(clientId);
  if (clientId === '' || client === undefined) return errorPage(ctx, 400, `Unknown application (client_id ${JSON.stringify(clientId)}).`);
  if (redirectUri === '') return errorPage(ctx, 400, 'The request has no redirect_uri.');
  if (!redirectAllowed(client, redirectUri)) {
    return errorPage(
      ctx,
      400,
      `The redirect_uri ${JSON.stringify(redirectUri)} does not start with the callback prefix registered for this application (https only).`,
    );
  }
  if (q.get('response_type') !== 'code') return errorPage(ctx, 400, 'Only response_type=code is supported.');
  const s = stateOf(ctx.store);
  const now = oauthSettings.now();
  purge(s, now);
  const requestId = randomBytes(18).toString('base64url');
  const pending: PendingRequest = { clientId, redirectUri, state: q.get('state') ?? undefined, expiresAt: now + oauthSettings.pendingTtlMs };
  s.pending.set(requestId, pending);
  loginForm(ctx, requestId, pending);
}

async function postAuthorize(ctx: EmulatorContext): Promise<void> {
  const form = await readParams(ctx);
  const s = stateOf(ctx.store);
  const requestId = form.get('request') ?? '';
  const pending = s.pending.get(requestId);
  const now = oauthSettings.now();
  if (pending === undefined || pending.expiresAt <= now) {
    s.pending.delete(requestId);
    return errorPage(ctx, 400, 'This authorization request is unknown or has expired; start the sign-in again.');
  }
  if (form.get('decision') === 'deny') {
    s.pending.delete(requestId);
    return redirectTo(ctx, pending.redirectUri, { error: 'access_denied', error_description: 'The user denied the request.', state: pending.state });
  }
  if (form.get('decision') !== 'approve') return loginForm(ctx, requestId, pending, 'Choose Approve or Deny.');
  const email = form.get('email') ?? '';
  const user = email.includes('@') ? ctx.store.authenticateBasic(email, form.get('password') ?? '') : undefined;
  if (user === undefined) return loginForm(ctx, requestId, pending, 'Wrong email or password.');
  s.pending.delete(requestId);
  const code = randomBytes(24).toString('base64url');
  s.codes.set(code, {
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    userId: user.id,
    expiresAt: now + oauthSettings.codeTtlMs,
    used: false,
    token: undefined,
  });
  redirectTo(ctx, pending.redirectUri, { code, state: pending.state });
}

function tokenError(ctx: EmulatorContext, status: number, error: string, description: string): void {
  ctx.sendJson(status, { error, error_description: description }, { 'Cache-Control': 'no-store' });
}

async function postAccessToken(ctx: EmulatorContext): Promise<void> {
  const p = await readParams(ctx);
  const clientId = p.get('client_id') ?? '';
  const clientSecret = p.get('client_secret') ?? '';
  const code = p.get('code') ?? '';
  const redirectUri = p.get('redirect_uri') ?? '';
  if (p.get('grant_type') !== 'authorization_code') {
    return tokenError(ctx, 400, 'unsupported_grant_type', 'Only grant_type=authorization_code is supported.');
  }
  const missing = ['client_id', 'client_secret', 'code', 'redirect_uri'].filter((k) => (p.get(k) ?? '') === '');
  if (missing.length > 0) return tokenError(ctx, 400, 'invalid_request', `Missing parameter(s): ${missing.join(', ')}.`);
  const client = ctx.store.oauthClient(clientId);
  if (client === undefined || !safeEqual(client.clientSecret, clientSecret)) {
    return tokenError(ctx, 401, 'invalid_client', 'Unknown client or wrong client secret.');
  }
  const s = stateOf(ctx.store);
  const issued = s.codes.get(code);
  if (issued === undefined) return tokenError(ctx, 400, 'invalid_grant', 'Unknown authorization code.');
  if (issued.used) {
    if (issued.token !== undefined) ctx.store.revokeAccessToken(issued.token);
    issued.token = undefined;
    return tokenError(ctx, 400, 'invalid_grant', 'The authorization code was already used; the token issued for it has been revoked.');
  }
  if (issued.expiresAt <= oauthSettings.now()) {
    s.codes.delete(code);
    return tokenError(ctx, 400, 'invalid_grant', 'The authorization code has expired.');
  }
  if (issued.clientId !== clientId) return tokenError(ctx, 400, 'invalid_grant', 'The authorization code was issued to another client.');
  if (issued.redirectUri !== redirectUri) return tokenError(ctx, 400, 'invalid_grant', 'redirect_uri does not match the one used to obtain the code.');
  issued.used = true;
  const token = ctx.store.issueAccessToken(issued.userId, clientId);
  issued.token = token;
  ctx.sendJson(200, { access_token: token }, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

export async function handleOAuth(ctx: EmulatorContext): Promise<void> {
  const path = ctx.url.pathname.replace(/\/+$/, '');
  if (path === '/oauth/authorize') {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return getAuthorize(ctx);
    if (ctx.method === 'POST') return postAuthorize(ctx);
    return ctx.sendCoreError(405, 'method-not-allowed', `Method ${ctx.method} is not allowed on ${path}`, { method: ctx.method, allowed: ['GET', 'POST'] });
  }
  if (path === '/oauth/access_token') {
    if (ctx.method === 'POST') return postAccessToken(ctx);
    return ctx.sendCoreError(405, 'method-not-allowed', `Method ${ctx.method} is not allowed on ${path}`, { method: ctx.method, allowed: ['POST'] });
  }
  ctx.sendCoreError(404, 'not-found', `Path not found: ${ctx.url.pathname}`, { path: ctx.url.pathname });
}
