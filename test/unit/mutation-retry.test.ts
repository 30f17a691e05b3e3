// The retry policy's small functions at their edges: Retry-After forms the other tests do not send, the backoff's
// clamping of a random source, policy merging, and the system clock's sleep with a signal.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { backoffDelay, DEFAULT_RETRY_POLICY, nextAttempt, parseRetryAfter, processingDelay, resolvePolicy, systemClock } from '../../src/soda/retry';

describe('retry: Retry-After forms', () => {
  const now = Date.parse('2026-11-27T10:00:00Z');
  it('seconds with a fraction, surrounding spaces, the first of several values', () => {
    assert.equal(parseRetryAfter('1.5', now), 1500);
    assert.equal(parseRetryAfter('0.0004', now), 0);
    assert.equal(parseRetryAfter(' 7 ', now), 7000);
    assert.equal(parseRetryAfter(['3', '9'], now), 3000);
    assert.equal(parseRetryAfter([], now), undefined);
    assert.equal(parseRetryAfter('12', now), 12_000);
    assert.equal(parseRetryAfter('12.25', now), 12_250, 'several digits before the point');
  });

  it('refuses what is neither seconds nor an HTTP date', () => {
    for (const bad of ['', '1.', '.5', '1.5s', '7 s', 'x7', '7x', '1e3', '2026-11-27', '11/27/2026', '+3', 'x1.5', 'a1.5', '-1.5']) {
      assert.equal(parseRetryAfter(bad, now), undefined, JSON.stringify(bad));
    }
  });

  it('an HTTP date counts from now', () => {
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 10:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 10:00:00 GMT', now), 0);
    const later = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString());
    assert.ok(later !== undefined && later > 8_000 && later <= 10_000, `the default now is the current time: ${later}`);
  });
});

describe('retry: backoff', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
  it('clamps a random source outside [0, 1]', () => {
    assert.equal(
      backoffDelay(3, policy, () => -5),
      0,
    );
    assert.equal(
      backoffDelay(3, policy, () => 7),
      400,
    );
  });

  it('failure counts below 1 wait like the first failure', () => {
    assert.equal(
      backoffDelay(0, policy, () => 0.5),
      50,
    );
    assert.equal(
      backoffDelay(-2, policy, () => 0.5),
      50,
    );
    assert.equal(
      backoffDelay(1, policy, () => 0.5),
      50,
    );
  });

  it('uses Math.random by default, within the bound', () => {
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(2, policy);
      assert.ok(Number.isInteger(d) && d >= 0 && d < 200, String(d));
    }
  });
});

describe('retry: policies', () => {
  it('the defaults', () => {
    assert.deepEqual({ ...DEFAULT_RETRY_POLICY }, { maxAttempts: 6, maxElapsedMs: 120_000, baseDelayMs: 500, maxDelayMs: 30_000 });
    assert.ok(Object.isFrozen(DEFAULT_RETRY_POLICY));
    assert.deepEqual(resolvePolicy(), { ...DEFAULT_RETRY_POLICY });
  });

  it('later parts win, undefined parts and undefined values change nothing, attempts are whole and at least 1', () => {
    assert.deepEqual(resolvePolicy(undefined, { maxDelayMs: 5 }, { maxDelayMs: undefined, maxElapsedMs: 9 }, { maxDelayMs: 7 }), {
      maxAttempts: 6,
      maxElapsedMs: 9,
      baseDelayMs: 500,
      maxDelayMs: 7,
    });
    assert.deepEqual(resolvePolicy({ maxAttempts: undefined, maxElapsedMs: undefined, baseDelayMs: undefined, maxDelayMs: undefined }), {
      ...DEFAULT_RETRY_POLICY,
    });
    assert.deepEqual(resolvePolicy({ baseDelayMs: 50 }, { baseDelayMs: undefined }).baseDelayMs, 50, 'an undefined value keeps an earlier part');
    assert.equal(resolvePolicy({ maxAttempts: 2.9 }).maxAttempts, 2);
    assert.equal(resolvePolicy({ maxAttempts: -3 }).maxAttempts, 1);
    assert.equal(resolvePolicy({ maxAttempts: 1 }).maxAttempts, 1);
  });
});

describe('retry: the decision after a failure, and the wait for a 202', () => {
  const policy = resolvePolicy({ maxAttempts: 3, maxElapsedMs: 10_000, baseDelayMs: 1000, maxDelayMs: 4000 });
  const half = (): number => 0.5;

  it('retries a retryable failure with the jittered backoff, while attempts and time remain', () => {
    assert.deepEqual(nextAttempt({ attempts: 1, maxAttempts: 3, elapsedMs: 0, retryable: true }, policy, half), { retry: true, delayMs: 500 });
    assert.deepEqual(nextAttempt({ attempts: 2, maxAttempts: 3, elapsedMs: 0, retryable: true }, policy, half), { retry: true, delayMs: 1000 });
    assert.equal(nextAttempt({ attempts: 3, maxAttempts: 3, elapsedMs: 0, retryable: true }, policy, half).retry, false, 'attempts used up');
    assert.equal(nextAttempt({ attempts: 1, maxAttempts: 1, elapsedMs: 0, retryable: true }, policy, half).retry, false, 'a body sent once');
    assert.equal(nextAttempt({ attempts: 1, maxAttempts: 3, elapsedMs: 0, retryable: false }, policy, half).retry, false, 'not retryable');
  });

  it("the server's Retry-After replaces the backoff, and no wait may end past maxElapsedMs", () => {
    assert.deepEqual(nextAttempt({ attempts: 1, maxAttempts: 3, elapsedMs: 0, retryable: true, retryAfterMs: 7000 }, policy, half), {
      retry: true,
      delayMs: 7000,
    });
    assert.deepEqual(nextAttempt({ attempts: 1, maxAttempts: 3, elapsedMs: 3000, retryable: true, retryAfterMs: 7000 }, policy, half), {
      retry: true,
      delayMs: 7000,
    });
    assert.equal(nextAttempt({ attempts: 1, maxAttempts: 3, elapsedMs: 3001, retryable: true, retryAfterMs: 7000 }, policy, half).retry, false);
    assert.equal(nextAttempt({ attempts: 1, maxAttempts: 3, elapsedMs: 9501, retryable: true }, policy, half).retry, false);
  });

  it('a 202 is asked again after Retry-After, else 1 s doubling to 32 s, capped by maxDelayMs', () => {
    const wide = { maxDelayMs: 60_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 30].map((n) => processingDelay(n, undefined, wide)),
      [1000, 2000, 4000, 8000, 16_000, 32_000, 32_000, 32_000],
    );
    assert.equal(processingDelay(6, undefined, { maxDelayMs: 5000 }), 5000);
    assert.equal(processingDelay(6, 250, { maxDelayMs: 5000 }), 250);
    assert.equal(processingDelay(1, 0, wide), 0);
  });
});

describe('retry: the system clock', () => {
  it('now is the wall clock', () => {
    const a = Date.now();
    const t = systemClock.now();
    assert.ok(t >= a && t <= Date.now());
  });

  it('sleep resolves after the time', async () => {
    const start = performance.now();
    await systemClock.sleep(20);
    assert.ok(performance.now() - start >= 15);
  });

  it('an aborted signal rejects at once with its reason (an Error) or a plain "aborted"', async () => {
    const ac = new AbortController();
    const reason = new Error('stop now');
    ac.abort(reason);
    await assert.rejects(systemClock.sleep(60_000, ac.signal), (e) => e === reason);
    const ac2 = new AbortController();
    ac2.abort('not an error');
    await assert.rejects(systemClock.sleep(60_000, ac2.signal), (e: Error) => e instanceof Error && e.message === 'aborted');
  });

  it('an abort during the sleep rejects it; a finished sleep is not affected by a later abort', async () => {
    const ac = new AbortController();
    const reason = new Error('cancelled');
    const sleeping = systemClock.sleep(60_000, ac.signal);
    setTimeout(() => ac.abort(reason), 5);
    await assert.rejects(sleeping, (e) => e === reason);
    const ac2 = new AbortController();
    const pending = systemClock.sleep(60_000, ac2.signal);
    setTimeout(() => ac2.abort(42), 5);
    await assert.rejects(pending, (e: Error) => e instanceof Error && e.message === 'aborted');
    const ac3 = new AbortController();
    await systemClock.sleep(1, ac3.signal);
    ac3.abort(new Error('late'));
  });

  it('sleep leaves no listener on the signal, whether it ends by time or by abort (one signal serves every retry of a publish)', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 20; i++) await systemClock.sleep(1, ac.signal);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'after the sleeps ended by time');
    const pending = systemClock.sleep(60_000, ac.signal);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1, 'while one sleeps');
    ac.abort(new Error('stop'));
    await assert.rejects(pending, /stop/);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'after the abort');
  });
});
