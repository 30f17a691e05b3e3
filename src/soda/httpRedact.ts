// Credentials on the way out and secrets kept out of logs and messages, for the HTTP gateway (http.ts):
// - the Authorization header built from validated parts (no line breaks, no ':' in a Basic user);
// - headers and URLs redacted for the log hook (Authorization, Proxy-Authorization, X-App-Token, cookies,
//   `$$app_token` and other secret-looking query parameters);
// - the credential values scrubbed from anything a server echoes into an error.
import type { SodaAuth } from './httpTypes';
import { SodaError } from './errors';

export function checkHeaderValue(value: string, field: string): void {
  if (/[\r\n\0]/.test(value)) {
    throw new SodaError({ kind: 'invalid-input', message: `The ${field} contains a line break or NUL character.`, field });
  }
}

/** The Authorization header for `auth`, or undefined. Validates the parts. */
export function authorizationHeader(auth: SodaAuth | undefined): string | undefined {
  if (!auth || auth.type === 'none') return undefined;
  if (auth.type === 'oauth') {
    if (!auth.accessToken) throw new SodaError({ kind: 'invalid-input', message: 'The OAuth access token is empty.', field: 'accessToken' });
    checkHeaderValue(auth.accessToken, 'OAuth access token');
    return `OAuth ${auth.accessToken}`;
  }
  const [user, secret, userField, secretField] =
    auth.type === 'basic' ? [auth.email, auth.password, 'email', 'password'] : [auth.keyId, auth.keySecret, 'API key id', 'API key secret'];
  if (!user) throw new SodaError({ kind: 'invalid-input', message: `The ${userField} is empty.`, field: userField });
  if (!secret) throw new SodaError({ kind: 'invalid-input', message: `The ${secretField} is empty.`, field: secretField });
  if (user.includes(':')) {
    throw new SodaError({ kind: 'invalid-input', message: `The ${userField} must not contain ":" (HTTP Basic cannot carry it).`, field: userField });
  }
  return `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-app-token', 'cookie', 'set-cookie']);
const SECRET_QUERY = /^(\$\$app_token|app_token|access_token|token|password|secret|key_secret|client_secret|code)$/i;

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!SECRET_HEADERS.has(k.toLowerCase())) out[k] = v;
    else if (/^(Basic|OAuth|Bearer) /i.test(v)) out[k] = `${v.split(' ')[0]} [redacted]`;
    else out[k] = '[redacted]';
  }
  return out;
}

export function redactUrl(url: URL | string): string {
  const u = new URL(url.toString());
  u.username = '';
  u.password = '';
  for (const key of [...new Set(u.searchParams.keys())]) {
    if (SECRET_QUERY.test(key)) u.searchParams.set(key, '[redacted]');
  }
  return u.toString();
}

/** Several lists of secret values as one, longest first so that a secret inside another goes with it. */
export function mergeSecrets(...lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())].sort((a, b) => b.length - a.length);
}

/** The credential values (and their encoded header form) to scrub from what a server echoes. */
export function secretValues(auth: SodaAuth | undefined, authHeader: string | undefined, appToken: string | undefined): string[] {
  const out: (string | undefined)[] = [appToken];
  if (authHeader) out.push(authHeader.slice(authHeader.indexOf(' ') + 1));
  if (auth?.type === 'basic') out.push(auth.password);
  else if (auth?.type === 'apiKey') out.push(auth.keySecret);
  else if (auth?.type === 'oauth') out.push(auth.accessToken);
  // Very short values would mangle ordinary words.
  return mergeSecrets(out.filter((v): v is string => typeof v === 'string' && v.length >= 4));
}

function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
  return out;
}

/** `e` with every secret value in its message, server message and data replaced by `[redacted]`. */
export function scrubError(e: SodaError, secrets: readonly string[]): SodaError {
  if (secrets.length === 0) return e;
  const data = e.data === undefined ? undefined : JSON.stringify(e.data);
  const texts = [e.message, e.serverMessage ?? '', data ?? ''];
  if (!texts.some((t) => secrets.some((s) => t.includes(s)))) return e;
  return e.with({
    message: scrubText(e.message, secrets),
    serverMessage: e.serverMessage === undefined ? undefined : scrubText(e.serverMessage, secrets),
    data: data === undefined ? undefined : (JSON.parse(scrubText(data, secrets)) as unknown),
  });
}
