// Retry policy: exponential backoff with full jitter, Retry-After, caps on attempts and total time.

export interface Clock {
  /** Milliseconds since some fixed point (Date.now() by default). */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The one abortable sleep: resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
};

export interface RetryPolicy {
  /** Total attempts including the first (1 = never retry). Default 6. */
  maxAttempts: number;
  /** No new attempt starts after this many ms since the first one (Retry-After included). Default 120 000. */
  maxElapsedMs: number;
  /** Backoff base: attempt n (1-based, after the n-th failure) waits random() * min(maxDelayMs, baseDelayMs * 2^(n-1)). Default 500. */
  baseDelayMs: number;
  /** Upper bound of one backoff delay (Retry-After is not capped by it, only by maxElapsedMs). Default 30 000. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 6,
  maxElapsedMs: 120_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
});

/** "Full jitter" backoff (AWS architecture blog): uniform in [0, min(cap, base·2^(failures-1))). */
export function backoffDelay(failures: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * exp);
}

/**
 * Parses a Retry-After header: delta-seconds (`120`) or an HTTP date. Returns milliseconds to wait
 * (0 when the date is in the past), or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  if (/^\d+\.\d+$/.test(t)) return Math.round(Number(t) * 1000);
  const date = Date.parse(t);
  if (Number.isNaN(date) || !/[a-z]/i.test(t)) return undefined;
  return Math.max(0, date - nowMs);
}

export function resolvePolicy(...parts: (Partial<RetryPolicy> | undefined)[]): RetryPolicy {
  const p: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
  for (const part of parts) {
    if (!part) continue;
    for (const key of Object.keys(part) as (keyof RetryPolicy)[]) {
      const v = part[key];
      if (v !== undefined) p[key] = v;
    }
  }
  p.maxAttempts = Math.max(1, Math.floor(p.maxAttempts));
  return p;
}

/**
 * The wait before asking again after the `polls`-th "202 Request Processing" answer: the server's Retry-After, else
 * 1 s doubling with each poll up to 32 s, never over the policy's maxDelayMs. A 202 is not a failure: it is waited out
 * without using an attempt.
 */
export function processingDelay(polls: number, retryAfterMs: number | undefined, policy: Pick<RetryPolicy, 'maxDelayMs'>): number {
  return retryAfterMs ?? Math.min(policy.maxDelayMs, 1000 * 2 ** Math.min(polls - 1, 5));
}

export interface RetryState {
  /** Attempts made so far (all failed). */
  attempts: number;
  /** Attempts allowed for this request (1 for a body that cannot be sent twice). */
  maxAttempts: number;
  /** Milliseconds since the first attempt started. */
  elapsedMs: number;
  /** Whether the last failure may be retried at all (see the gateway's rules for safe and unsafe requests). */
  retryable: boolean;
  /** The server's Retry-After, in milliseconds. */
  retryAfterMs?: number;
}

/**
 * The policy's answer after a failed attempt: the wait before the next one, and whether there is a next one (not when
 * the failure is not retryable, the attempts are used up, or the wait would end past maxElapsedMs). The wait is the
 * server's Retry-After if it sent one, else the jittered backoff.
 */
export function nextAttempt(state: RetryState, policy: RetryPolicy, random: () => number = Math.random): { retry: boolean; delayMs: number } {
  const delayMs = state.retryAfterMs ?? backoffDelay(state.attempts, policy, random);
  const retry = state.retryable && state.attempts < state.maxAttempts && state.elapsedMs + delayMs <= policy.maxElapsedMs;
  return { retry, delayMs };
}
