// One error family for everything that can go wrong talking to Socrata. Callers switch on `kind`;
// people read `message`, which is written for them. An HTTP error answer becomes one in errorResponse.ts; a network
// failure, here (`networkError`).

export type SodaErrorKind =
  /** 401/403: credentials wrong, missing, or no right to do this. */
  | 'auth'
  /** 404: dataset, row, column or path not found. */
  | 'not-found'
  /** 429: throttled. `retryAfterMs` is set when the server said how long to wait. */
  | 'rate-limited'
  /** Other 4xx: the request itself was rejected (bad SoQL, bad row data, conflict…). */
  | 'client'
  /** 5xx. */
  | 'server'
  /** Connection refused/reset, DNS, TLS, time-out, proxy failure. */
  | 'network'
  /** The caller aborted. */
  | 'cancelled'
  /** Bad input caught before any request was sent (domain, 4x4, options). */
  | 'invalid-input'
  /** The server answered something we cannot understand (not JSON, too large, redirect elsewhere). */
  | 'protocol';

/**
 * For requests that are not safe to repeat (appends, DSMAPI apply): whether the change can have happened.
 * `not-applied` — certainly not applied (refused before the body was sent, 429, 4xx).
 * `unknown` — may have been applied (network failure after sending, 5xx, time-out waiting for the answer).
 */
export type SodaOutcome = 'not-applied' | 'unknown';

export interface SodaErrorInit {
  kind: SodaErrorKind;
  message: string;
  status?: number;
  code?: string;
  /** The server's own message (without our prefix). */
  serverMessage?: string;
  data?: unknown;
  requestId?: string;
  outcome?: SodaOutcome;
  retryAfterMs?: number;
  /** The host the request went to (for network errors). */
  host?: string;
  /** For invalid-input: the field or argument that was wrong. */
  field?: string;
  /** How many attempts were made (1 = no retry). */
  attempts?: number;
  /** The portal refused the credentials that were sent (see {@link isCredentialRejection}): sign in again. */
  credentialsRejected?: boolean;
  cause?: unknown;
}

export class SodaError extends Error {
  readonly kind: SodaErrorKind;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly serverMessage: string | undefined;
  readonly data: unknown;
  readonly requestId: string | undefined;
  readonly outcome: SodaOutcome | undefined;
  readonly retryAfterMs: number | undefined;
  readonly host: string | undefined;
  readonly field: string | undefined;
  readonly attempts: number | undefined;
  readonly credentialsRejected: boolean;

  constructor(init: SodaErrorInit) {
    super(init.message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = 'SodaError';
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.serverMessage = init.serverMessage;
    this.data = init.data;
    this.requestId = init.requestId;
    this.outcome = init.outcome;
    this.retryAfterMs = init.retryAfterMs;
    this.host = init.host;
    this.field = init.field;
    this.attempts = init.attempts;
    this.credentialsRejected = init.credentialsRejected ?? false;
  }

  /** A copy with some fields replaced (used to add outcome/attempts once the final attempt is known). */
  with(changes: Partial<SodaErrorInit>): SodaError {
    return new SodaError({
      kind: this.kind,
      message: this.message,
      status: this.status,
      code: this.code,
      serverMessage: this.serverMessage,
      data: this.data,
      requestId: this.requestId,
      outcome: this.outcome,
      retryAfterMs: this.retryAfterMs,
      host: this.host,
      field: this.field,
      attempts: this.attempts,
      credentialsRejected: this.credentialsRejected,
      cause: this.cause,
      ...changes,
    });
  }
}

export function isSodaError(e: unknown, kind?: SodaErrorKind): e is SodaError {
  return e instanceof SodaError && (kind === undefined || e.kind === kind);
}

const SNIPPET = 200;

/** A short, single-line, printable excerpt of a body for error messages. */
export function snippet(text: string, max = SNIPPET): string {
  const flat = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

export function outcomeText(outcome: SodaOutcome): string {
  return outcome === 'not-applied' ? 'The change was not applied.' : 'The change may or may not have been applied; check the dataset before sending it again.';
}

/** Network error codes that prove nothing reached the server (so a write was not applied). */
const BEFORE_SEND = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && typeof cur === 'object' && cur !== null; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when a low-level network error happened before any byte of the request could reach the server. */
export function failedBeforeSending(e: unknown): boolean {
  const c = errorCode(e);
  return c !== undefined && (BEFORE_SEND.has(c) || c.startsWith('ERR_TLS_') || c.startsWith('ERR_SSL_'));
}

/** Turns a low-level (undici/node) error into a `network` SodaError whose message names the host. */
export function networkError(e: unknown, host: string, extra: { requestId?: string; timeoutMs?: number } = {}): SodaError {
  const code = errorCode(e);
  const raw = e instanceof Error ? e.message : String(e);
  let what: string;
  switch (code) {
    case 'ECONNREFUSED':
      what = `the connection to ${host} was refused (is the address and port right?)`;
      break;
    case 'ENOTFOUND':
      what = `the host name ${host} could not be found (DNS)`;
      break;
    case 'EAI_AGAIN':
      what = `the host name ${host} could not be resolved right now (DNS temporary failure)`;
      break;
    case 'ECONNRESET':
      what = `the connection to ${host} was reset`;
      break;
    case 'EPIPE':
      what = `the connection to ${host} was closed while sending`;
      break;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      what = `${host} is unreachable from this network`;
      break;
    case 'UND_ERR_CONNECT_TIMEOUT':
      what = `connecting to ${host} timed out`;
      break;
    case 'UND_ERR_HEADERS_TIMEOUT':
      what = `${host} did not answer in time (waiting for the response headers timed out)`;
      break;
    case 'UND_ERR_BODY_TIMEOUT':
      what = `${host} stopped sending the response (body time-out)`;
      break;
    case 'UND_ERR_SOCKET':
      what = `the connection to ${host} closed unexpectedly`;
      break;
    case 'SODA_TIMEOUT':
      what = `the request to ${host} timed out after ${Math.round((extra.timeoutMs ?? 0) / 1000)} s`;
      break;
    default:
      if (code !== undefined && (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /CERT|SSL|TLS/.test(code))) {
        what = `the secure (TLS) connection to ${host} failed: ${raw}`;
      } else if (code === 'UND_ERR_ABORTED' || /proxy/i.test(raw)) {
        what = `the request to ${host} failed: ${raw}`;
      } else {
        what = `the request to ${host} failed: ${raw}${code !== undefined ? ` (${code})` : ''}`;
      }
  }
  return new SodaError({ kind: 'network', message: `Network error: ${what}.`, code, host, requestId: extra.requestId, cause: e });
}
