// OAuth 2 (authorization code) as Socrata implements it, without any VS Code API: state creation and
// checking, the authorize URL, callback parsing and the code exchange. The editor-side flow (UriHandler,
// input boxes, cancellation) is in oauthFlow.ts.
//
// Socrata only redirects to an https URL that starts with the application's registered callback prefix, so
// the editor's own callback URI cannot be the redirect. The user hosts media/oauth-callback.html at that
// https URL; the page reads the editor's callback URI out of `state` and forwards `code` and `state` there.
// state = `<nonce>.<base64url(callback URI)>`: the nonce is 32 random bytes, fresh per attempt; the
// extension accepts a callback only when the whole state equals the one it generated for the pending attempt.
// Its messages go through @vscode/l10n (VS Code's bundle in the editor, English in plain Node).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as l10n from '@vscode/l10n';
import { parseDomain, type SodaDomain } from '../soda/domain';

export type OAuthErrorCode =
  | 'invalid-state'
  | 'state-mismatch'
  | 'access-denied'
  | 'invalid-redirect'
  | 'invalid-callback'
  | 'exchange-failed'
  | 'invalid-grant'
  | 'invalid-client'
  | 'missing-code';

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OAuthError';
  }
}

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Creates a fresh state for one sign-in attempt, carrying the editor callback URI. */
export function createState(callbackUri: string, nonce: Buffer = randomBytes(32)): string {
  if (nonce.length < 16) throw new RangeError('the state nonce needs at least 16 random bytes');
  return `${base64url(nonce)}.${base64url(callbackUri)}`;
}

/** Splits a state into nonce and callback URI; throws `invalid-state` for anything else. */
export function parseState(state: string): { nonce: string; callbackUri: string } {
  const m = /^([A-Za-z0-9_-]{22,})\.([A-Za-z0-9_-]+)$/.exec(state);
  if (!m) throw new OAuthError('invalid-state', l10n.t('The OAuth state is malformed.'));
  const callbackUri = Buffer.from(m[2] ?? '', 'base64url').toString('utf8');
  return { nonce: m[1] ?? '', callbackUri };
}

/** Compares a returned state with the expected one in constant time; throws `state-mismatch` when they differ. */
export function checkState(expected: string, received: string | undefined): void {
  const a = Buffer.from(expected);
  const b = Buffer.from(received ?? '');
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new OAuthError('state-mismatch', l10n.t('The sign-in answer does not belong to this sign-in attempt (state mismatch); it was ignored.'));
  }
}

/**
 * Checks the redirect URI the user registered: an absolute https URL (http only for loopback hosts, which a
 * local emulator accepts), without user info or fragment. Returns the normalised URL text.
 */
export function validateRedirectUri(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new OAuthError(
      'invalid-redirect',
      l10n.t('Invalid redirect URI {0}: enter the absolute https:// address where the callback page is hosted.', JSON.stringify(input)),
    );
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || /^127\./.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new OAuthError('invalid-redirect', l10n.t('Invalid redirect URI {0}: Socrata only redirects to https:// addresses.', JSON.stringify(input)));
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    throw new OAuthError('invalid-redirect', l10n.t('Invalid redirect URI {0}: it must not contain user info or a #fragment.', JSON.stringify(input)));
  }
  return url.toString();
}

export interface AuthorizeParams {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
}

/** `https://{domain}/oauth/authorize?client_id&response_type=code&redirect_uri&state` (http for loopback test domains). */
export function authorizeUrl(domain: SodaDomain | string, params: AuthorizeParams): URL {
  const d = typeof domain === 'string' ? parseDomain(domain) : domain;
  const url = new URL('/oauth/authorize', d.origin);
  url.searchParams.set('client_id', params.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', params.redirectUri);
  url.searchParams.set('state', params.state);
  return url;
}

export interface CallbackResult {
  readonly code: string | undefined;
  readonly state: string | undefined;
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
}

/** Reads `code`, `state` and an OAuth `error` out of a callback query string (with or without `?`). */
export function parseCallbackQuery(query: string): CallbackResult {
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const get = (name: string) => {
    const v = params.get(name);
    return v === null || v === '' ? undefined : v;
  };
  return { code: get('code'), state: get('state'), error: get('error'), errorDescription: get('error_description') };
}

/**
 * Reads what a user pasted when the redirect could not reach the editor: either the bare code, or the whole
 * address the callback page showed (then its `state` is checked too).
 */
export function parsePastedCode(text: string): { code: string; state: string | undefined } {
  const t = text.trim();
  if (t === '') throw new OAuthError('missing-code', l10n.t('Nothing was pasted.'));
  if (/^[a-z][a-z0-9+.-]*:/i.test(t) || t.includes('?') || t.includes('code=')) {
    const q = t.includes('?') ? (t.slice(t.indexOf('?') + 1).split('#')[0] ?? '') : t;
    const r = parseCallbackQuery(q);
    if (r.error !== undefined) throw new OAuthError('access-denied', l10n.t('The portal refused the sign-in: {0}.', r.errorDescription ?? r.error));
    if (r.code === undefined) throw new OAuthError('missing-code', l10n.t('The pasted address has no "code" parameter.'));
    return { code: r.code, state: r.state };
  }
  if (!/^[A-Za-z0-9._~+/=-]+$/.test(t)) {
    throw new OAuthError('missing-code', l10n.t('The pasted text is neither an authorization code nor the callback address.'));
  }
  return { code: t, state: undefined };
}

/** Explains a callback that carries an OAuth error (`error=access_denied` when the user clicked Deny). */
export function callbackError(result: CallbackResult): OAuthError | undefined {
  if (result.error === undefined) return undefined;
  if (result.error === 'access_denied') return new OAuthError('access-denied', l10n.t('Sign-in was denied on the portal.'));
  return new OAuthError('access-denied', l10n.t('The portal refused the sign-in: {0}.', result.errorDescription ?? result.error));
}

export interface ExchangeParams {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly code: string;
}

export type FetchLike = (
  input: URL,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

/**
 * Exchanges an authorization code for an access token with `POST /oauth/access_token`.
 * The parameters go in an `application/x-www-form-urlencoded` body (OAuth 2, RFC 6749 §4.1.3) rather than in
 * the query string the Socrata docs show: the query string would put the client secret and the code in
 * server access logs. The Rails front end behind Socrata reads both places.
 * Error answers are read in both shapes seen: OAuth 2 `{error, error_description}` and the core
 * `{error: true, code, message}` envelope.
 */
export async function exchangeCode(
  domain: SodaDomain | string,
  params: ExchangeParams,
  options: { fetch?: FetchLike; signal?: AbortSignal; userAgent?: string } = {},
): Promise<string> {
  const d = typeof domain === 'string' ? parseDomain(domain) : domain;
  // parseDomain only yields http for loopback hosts, so the secret never crosses a network in clear text.
  const url = new URL('/oauth/access_token', d.origin);
  const body = new URLSearchParams({
    client_id: params.clientId,
    client_secret: params.clientSecret,
    grant_type: 'authorization_code',
    redirect_uri: params.redirectUri,
    code: params.code,
  }).toString();
  const doFetch: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  let status: number;
  let text: string;
  try {
    const res = await doFetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
        'User-Agent': options.userAgent ?? 'socrata-publisher',
      },
      body,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    status = res.status;
    text = await res.text();
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new OAuthError(
      'exchange-failed',
      l10n.t('Could not reach {0} to finish the sign-in: {1}', d.host, error instanceof Error ? error.message : String(error)),
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const obj = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  if (status >= 200 && status < 300 && typeof obj.access_token === 'string' && obj.access_token !== '') {
    return obj.access_token;
  }
  const oauthCode = typeof obj.error === 'string' ? obj.error : typeof obj.code === 'string' ? obj.code : undefined;
  const description = typeof obj.error_description === 'string' ? obj.error_description : typeof obj.message === 'string' ? obj.message : undefined;
  const detail = description ?? (oauthCode !== undefined ? oauthCode : `HTTP ${status}`);
  if (oauthCode === 'invalid_client' || status === 401) {
    throw new OAuthError('invalid-client', l10n.t('{0} rejected the OAuth client id or client secret: {1}', d.host, detail));
  }
  if (oauthCode === 'invalid_grant') {
    throw new OAuthError(
      'invalid-grant',
      l10n.t('{0} rejected the authorization code (already used, expired, or issued for another redirect URI): {1}', d.host, detail),
    );
  }
  if (status >= 200 && status < 300) {
    throw new OAuthError('exchange-failed', l10n.t('{0} answered the token request without an access_token.', d.host));
  }
  throw new OAuthError('exchange-failed', l10n.t('{0} refused the token request (HTTP {1}): {2}', d.host, status, detail));
}

export interface Unsubscribe {
  dispose(): void;
}

export interface AwaitCodeOptions {
  /** The state generated for this attempt. */
  readonly state: string;
  /** Subscribes to editor callbacks (the query string of each URI the UriHandler received). */
  readonly onCallback: (listener: (query: string) => void) => Unsubscribe;
  /**
   * Offers the manual route (an input box) for environments where the redirect cannot reach the editor.
   * Resolves to the pasted text, or undefined when the box was dismissed (the wait goes on); must stop asking
   * when `signal` aborts.
   */
  readonly askForPastedCode?: (signal: AbortSignal) => Promise<string | undefined>;
  /** Aborts the wait (the user cancelled the progress notification). */
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
  /** Told about callbacks that were rejected (never with their values). */
  readonly onRejected?: (reason: string) => void;
}

export class OAuthCancelledError extends Error {
  constructor(readonly reason: 'cancelled' | 'timeout') {
    super(reason === 'timeout' ? l10n.t('The sign-in timed out: no answer came back from the portal.') : l10n.t('Sign-in cancelled.'));
    this.name = 'OAuthCancelledError';
  }
}

/**
 * Waits for the authorization code of one attempt: whichever comes first of a callback carrying the right
 * state, a pasted code, a cancel, or the time-out. A callback with another state is rejected (reported through
 * `onRejected`) and the wait goes on, so a stray or forged callback can neither sign the user in nor abort the
 * attempt. Every listener, timer and input box is released before the promise settles.
 */
export function awaitAuthorizationCode(options: AwaitCodeOptions): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const inner = new AbortController();
    let subscription: Unsubscribe | undefined;
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscription?.dispose();
      subscription = undefined;
      options.signal?.removeEventListener('abort', onAbort);
      inner.abort();
      outcome();
    };
    const onAbort = () => finish(() => reject(new OAuthCancelledError('cancelled')));
    const timer = setTimeout(() => finish(() => reject(new OAuthCancelledError('timeout'))), options.timeoutMs);
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort);
    subscription = options.onCallback((query) => {
      const result = parseCallbackQuery(query);
      try {
        checkState(options.state, result.state);
      } catch {
        options.onRejected?.('a callback arrived with a state that does not match this sign-in attempt');
        return;
      }
      const error = callbackError(result);
      if (error) finish(() => reject(error));
      else if (result.code === undefined) finish(() => reject(new OAuthError('missing-code', l10n.t('The callback carried no authorization code.'))));
      else {
        const code = result.code;
        finish(() => resolve(code));
      }
    });
    if (settled) subscription.dispose();
    if (options.askForPastedCode && !settled) {
      options.askForPastedCode(inner.signal).then(
        (text) => {
          if (settled) return;
          // Dismissed (Escape, or another quick input such as the command palette replaced it): keep waiting
          // for the browser; only the progress notification's Cancel or the time-out end the attempt.
          if (text === undefined) return;
          try {
            const pasted = parsePastedCode(text);
            if (pasted.state !== undefined) checkState(options.state, pasted.state);
            finish(() => resolve(pasted.code));
          } catch (error) {
            if (error instanceof OAuthError && error.code === 'state-mismatch') {
              options.onRejected?.('a pasted callback address carried a state that does not match this sign-in attempt');
            }
            finish(() => reject(asError(error)));
          }
        },
        (error: unknown) => finish(() => reject(asError(error))),
      );
    }
  });
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
