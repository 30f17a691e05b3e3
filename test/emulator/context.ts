/**
 * The request context every route handler of the emulator receives, including the two
 * mounted modules (`/api/publishing/v1/**` → `dsmapi/index.ts`, `/oauth/**` → `oauth.ts`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorStore, User } from './store';

/** Envelope A ("core"): `{code, error: true, message, data?}`. */
export interface CoreErrorBody {
  code: string;
  error: true;
  message: string;
  data?: Record<string, unknown>;
}

/** Envelope B (soda-fountain passthrough): `{message, errorCode, data}` — no `error` flag. */
export interface SodaErrorBody {
  message: string;
  errorCode: string;
  data: Record<string, unknown>;
}

export interface EmulatorContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Parsed request URL (always `http://<host>/...`). */
  readonly url: URL;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The authenticated user (Basic, API key or OAuth), or undefined for anonymous requests. */
  readonly user: User | undefined;
  /** The app token sent in `X-App-Token` or `$$app_token` (already validated), if any. */
  readonly appToken: string | undefined;
  readonly store: EmulatorStore;
  /** The request id echoed in `X-Socrata-RequestId` (the client's one when it sent it). */
  readonly requestId: string;
  /** `host:port` the emulator was reached at (the "domain" of this Socrata site). */
  readonly domain: string;
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** Sends `body` as JSON with the given status and extra headers. */
  sendJson(status: number, body: unknown, headers?: Record<string, string>): void;
  /** Sends a plain-text or other raw body. */
  sendRaw(status: number, body: string | Buffer, contentType: string, headers?: Record<string, string>): void;
  /** Sends envelope A: `{code, error: true, message, data?}`. */
  sendCoreError(status: number, code: string, message: string, data?: Record<string, unknown>): void;
  /** Sends envelope B: `{message, errorCode, data}`. */
  sendSodaError(status: number, errorCode: string, message: string, data?: Record<string, unknown>): void;
  /**
   * Reads the whole body, streaming, failing with a 413 `req.body.too-large` answer (already sent;
   * the promise then rejects with {@link BodyTooLargeError}) when it exceeds `limit` bytes.
   */
  readBody(limit?: number): Promise<Buffer>;
  /** Reads and parses a JSON body (400 `req.body.malformed-json` sent and {@link BadRequestError} thrown on bad JSON). */
  readJson(limit?: number): Promise<unknown>;
}

/** Thrown by `readBody` after the emulator answered 413; handlers should just return. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Thrown by `readJson` after the emulator answered 400; handlers should just return. */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

/** Default body limit: 512 MiB (a 1M-row upsert fits). */
export const DEFAULT_BODY_LIMIT = 512 * 1024 * 1024;

/** A mounted module's entry point: it must answer every request it receives. */
export type RouteHandler = (ctx: EmulatorContext) => Promise<void> | void;
