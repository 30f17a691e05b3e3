// An HTTP error answer read into a SodaError: every error envelope Socrata is known to use, the status's kind, a
// refusal of the credentials sent, and a message written for people.
import { outcomeText, SodaError, type SodaErrorKind, type SodaOutcome, snippet } from './errors';

/** What an error body said, whatever envelope it came in. */
export interface ParsedErrorBody {
  code: string | undefined;
  message: string | undefined;
  data: unknown;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/**
 * Reads every error envelope Socrata is known to use:
 *  A  `{"code","error":true,"message","data"}` (core, documented)
 *  A' `{"error":true,"message"}` (no code)
 *  B  `{"message","errorCode","data"}` (soda-fountain passthrough; no `error` flag)
 *  C  `{"error":"<message>"}` (Discovery API)
 *  D  `{"error":true,"message","code":"API_KEY.…"}` (API key API)
 *  DSMAPI-style `{"reason"|"error_message"|"details"…}` and `{"errors":[…]}` lists are read leniently.
 * Rule: code = errorCode ?? code; message = message ?? (error when it is a string).
 * A body that is not JSON yields its text as the message (trimmed to a snippet), never a crash.
 */
export function parseErrorBody(text: string): ParsedErrorBody {
  const trimmed = text.trim();
  if (trimmed === '') return { code: undefined, message: undefined, data: undefined };
  let body: unknown;
  try {
    body = JSON.parse(trimmed);
  } catch {
    const isHtml = /^<(!doctype|html)/i.test(trimmed);
    const title = isHtml ? /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1] : undefined;
    return { code: undefined, message: title !== undefined ? snippet(title) : snippet(isHtml ? trimmed.replace(/<[^>]*>/g, ' ') : trimmed), data: undefined };
  }
  if (typeof body === 'string') return { code: undefined, message: snippet(body), data: undefined };
  if (typeof body !== 'object' || body === null) return { code: undefined, message: snippet(trimmed), data: undefined };
  if (Array.isArray(body)) {
    // Some services answer with a list of errors; take the first readable one.
    for (const item of body) {
      if (typeof item === 'object' && item !== null) {
        const p = parseErrorBody(JSON.stringify(item));
        if (p.message !== undefined || p.code !== undefined) return { ...p, data: p.data ?? body };
      }
    }
    return { code: undefined, message: snippet(trimmed), data: body };
  }
  const o = body as Record<string, unknown>;
  const code = str(o.errorCode) ?? str(o.code) ?? str(o.error_code);
  let message = str(o.message) ?? str(o.error) ?? str(o.error_message) ?? str(o.reason) ?? str(o.description);
  if (message === undefined && Array.isArray(o.errors) && o.errors.length > 0) {
    const first: unknown = o.errors[0];
    message = typeof first === 'string' ? first : typeof first === 'object' && first !== null ? parseErrorBody(JSON.stringify(first)).message : undefined;
  }
  if (message === undefined && typeof o.error === 'object' && o.error !== null) {
    const inner = parseErrorBody(JSON.stringify(o.error));
    return { code: code ?? inner.code, message: inner.message, data: o.data ?? inner.data };
  }
  // The query coordinator prefixes its messages with "Query coordinator error: <code>; " — the code is shown
  // separately, so drop the prefix.
  if (message !== undefined && code !== undefined) {
    const prefix = `Query coordinator error: ${code}; `;
    if (message.startsWith(prefix)) message = message.slice(prefix.length);
  }
  const data = o.data ?? (o.details !== undefined && typeof o.details === 'object' ? o.details : undefined);
  return { code, message, data };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function kindForStatus(status: number): SodaErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  return 'client';
}

/**
 * Whether an error answer to a request that carried credentials means those credentials were refused: any 401, or
 * the 403 real portals give for some auth failures, `{"error": true, "message": "You must be logged in…"}` with no
 * `code` (recognised by its status and message). Other 403s (no right to this dataset, a bad app token) are not.
 */
export function isCredentialRejection(status: number, code: string | undefined, message: string | undefined): boolean {
  if (status === 401) return true;
  return status === 403 && code === undefined && message !== undefined && /must be logged in/i.test(message);
}

/** Builds the SodaError for an HTTP error response. */
export function errorFromResponse(args: {
  status: number;
  bodyText: string;
  requestId?: string;
  retryAfterMs?: number;
  outcome?: SodaOutcome;
  host?: string;
  /** The path asked for (no query string), named in not-found messages. */
  target?: string;
  /** The request carried credentials (Authorization): a login failure then means they were refused. */
  sentCredentials?: boolean;
}): SodaError {
  const { status, bodyText } = args;
  const parsed = parseErrorBody(bodyText);
  const kind = kindForStatus(status);
  const serverMessage = parsed.message ?? REASONS[status] ?? `HTTP ${status}`;
  const rejected = args.sentCredentials === true && isCredentialRejection(status, parsed.code, parsed.message);
  const lead =
    kind === 'auth'
      ? status === 401 || rejected
        ? 'Socrata did not accept the credentials'
        : 'Socrata refused access'
      : kind === 'not-found'
        ? `Socrata could not find ${args.target ?? 'it'}`
        : kind === 'rate-limited'
          ? 'Socrata is throttling requests'
          : kind === 'server'
            ? 'The Socrata server failed'
            : 'Socrata rejected the request';
  let message = `${lead} (${status}${parsed.code !== undefined ? ` ${parsed.code}` : ''}): ${serverMessage}`;
  if (!/[.!?…]$/.test(message)) message += '.';
  if (kind === 'rate-limited' && args.retryAfterMs !== undefined) message += ` Retry after ${Math.ceil(args.retryAfterMs / 1000)} s.`;
  const tag = typeof parsed.data === 'object' && parsed.data !== null ? (parsed.data as Record<string, unknown>).tag : undefined;
  if (typeof tag === 'string') message += ` (error tag ${tag})`;
  if (args.requestId !== undefined && kind === 'server') message += ` Request id: ${args.requestId}.`;
  if (args.outcome !== undefined) message += ` ${outcomeText(args.outcome)}`;
  return new SodaError({
    kind,
    message,
    status,
    code: parsed.code,
    serverMessage,
    data: parsed.data,
    requestId: args.requestId,
    outcome: args.outcome,
    retryAfterMs: args.retryAfterMs,
    host: args.host,
    ...(rejected ? { credentialsRejected: true } : {}),
  });
}
