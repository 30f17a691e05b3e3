// The types of the HTTP gateway (http.ts): credentials, request and response shapes, time-outs, log events.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { SodaDomain } from './domain';
import type { ProxySettings, TlsSettings } from './network';
import type { Clock, RetryPolicy } from './retry';

/** How requests authenticate. API keys and email/password both travel as HTTP Basic. */
export type SodaAuth =
  | { type: 'none' }
  | { type: 'basic'; email: string; password: string }
  | { type: 'apiKey'; keyId: string; keySecret: string }
  | { type: 'oauth'; accessToken: string };

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request body. A function is called once per attempt and makes a streaming body repeatable. */
export type BodySource = string | Uint8Array | Readable | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
export type RequestBody = BodySource | (() => BodySource);

export type QueryValue = string | number | boolean | undefined | null | readonly (string | number | boolean)[];

export interface HttpLogEvent {
  phase: 'request' | 'response' | 'retry' | 'error';
  operationId: string;
  attempt: number;
  method: HttpMethod;
  /** With `$$app_token` and other secret-looking query parameters redacted. */
  url: string;
  /** Request headers (phase 'request') with secrets redacted. */
  headers?: Record<string, string>;
  status?: number;
  /** Milliseconds since the attempt started. */
  durationMs?: number;
  /** Wait before the next attempt (phase 'retry'). */
  delayMs?: number;
  /** Error message (phases 'retry' and 'error'). */
  error?: string;
  /** Phase 'error': the portal refused the credentials sent (a 401, or its 403 "You must be logged in"). */
  credentialsRejected?: boolean;
}

export interface Timeouts {
  /** TCP + TLS connect. Default 15 000. */
  connectMs: number;
  /** From sending to receiving the response headers. Default 300 000 (big upserts take a while). */
  headersMs: number;
  /** Longest silence while receiving the body. Default 120 000. */
  bodyMs: number;
  /**
   * Longest time for one attempt of a request whose answer is read whole (not `expect: 'stream'`), from sending to
   * the last byte, unless the request gives its own `timeoutMs`. A server that trickles bytes just often enough to
   * beat `bodyMs` (slowloris) is cut off here. Default 900 000 (15 minutes).
   */
  totalMs: number;
}

export interface GatewayOptions {
  /** What the user typed, or a domain from `parseDomain()`. */
  domain: string | SodaDomain;
  auth?: SodaAuth;
  appToken?: string;
  /** Who is calling, for the User-Agent: `socrata-publisher/<version> (<product>)`. Default 'cli'. */
  product?: 'vscode-extension' | 'cli';
  /** Product version for the User-Agent. Default: this package's version. */
  version?: string;
  /**
   * An explicit proxy (e.g. VS Code's `http.proxy`), used for http and https; `noProxy` lists hosts that
   * bypass it (comma separated, NO_PROXY syntax; default none). Without it, HTTPS_PROXY / HTTP_PROXY /
   * NO_PROXY (either case) from the environment apply. See network.ts.
   */
  proxy?: ProxySettings;
  /** Extra certificate authorities (files, the OS store); NODE_EXTRA_CA_CERTS always applies. See network.ts. */
  tls?: TlsSettings;
  /** Use this undici dispatcher instead of creating one (the gateway will not close it). */
  dispatcher?: Dispatcher;
  timeouts?: Partial<Timeouts>;
  retry?: Partial<RetryPolicy>;
  /** Cap for JSON and text bodies read into memory. Default 64 MiB. */
  maxBodyBytes?: number;
  onLog?: (event: HttpLogEvent) => void;
  /** For tests: time and sleeping, and the random source for jitter. */
  clock?: Clock;
  random?: () => number;
}

export interface RequestOptions {
  method: HttpMethod;
  /** Absolute path on the domain, built from validated parts (e.g. `/resource/abcd-1234.json`). */
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Serialised as JSON with `Content-Type: application/json` (instead of `body`). */
  json?: unknown;
  contentType?: string;
  /** How to read a successful response. Default 'json'. */
  expect?: 'json' | 'text' | 'stream' | 'none';
  /**
   * Whether repeating the request cannot change the result (GET, replace, upsert keyed by a row
   * identifier). Default: true for GET and HEAD only. Unsafe requests are retried only when the failure
   * proves nothing was applied (429, connection refused/DNS/TLS failure before sending); after a 5xx or a
   * network failure once the request was sent they fail with `outcome: 'unknown'`.
   */
  safeToRepeat?: boolean;
  /** Override the gateway's retry policy for this call; `false` = one attempt. */
  retry?: Partial<RetryPolicy> | false;
  signal?: AbortSignal;
  /** Limit per attempt, from dispatch until the body is read (until headers for 'stream'). */
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** Extra statuses (besides 2xx) returned as success instead of thrown, e.g. 202 or 304 are already 2xx/3xx. */
  acceptStatus?: readonly number[];
  /** Reuse an operation id (X-Socrata-RequestId) across several calls of one logical operation. */
  operationId?: string;
  /** A read sent with POST (SODA3 query and export): a 202 is waited out and asked again, as for GET. */
  read?: boolean;
}

export interface SodaResponse<T> {
  status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: T;
  /** The X-Socrata-RequestId we sent. */
  operationId: string;
  /** The X-Socrata-RequestId the server answered with, if any. */
  serverRequestId: string | undefined;
  attempts: number;
}
