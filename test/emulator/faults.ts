/**
 * Deterministic fault injection. A spec is a comma-separated list of `key=value` items, e.g.
 * `seed=7,latency=20-80,error=0.1,reset=0.05,throttle=0.1,burst=3,retryAfter=mixed,resetAfterApply=0.1,only=writes`.
 * Every targeted request gets an index n (0, 1, 2, … in arrival order since the faults were set) and each
 * decision for it is drawn from a PRNG seeded with (seed, n, decision), so replaying the same sequence of
 * requests against the same spec yields the same faults. See docs/EMULATOR.md for the keys.
 */

export interface FaultSpec {
  seed: number;
  /** Added latency range in ms (inclusive). */
  latencyMin: number;
  latencyMax: number;
  /** Rate (0..1) of 5xx answers, decided before the request is handled (state unchanged). */
  error: number;
  errorStatus: 500 | 502 | 503;
  /** Rate of connections reset before the request is handled (state unchanged). */
  reset: number;
  /** Rate at which a 429 burst starts. */
  throttle: number;
  /** Length of a 429 burst (consecutive targeted requests). */
  burst: number;
  /** Retry-After on 429s: a number of seconds, `none`, or `mixed` (each burst decides). */
  retryAfter: number | 'none' | 'mixed';
  /** Rate of writes that ARE applied and then get their connection reset (outcome unknown to the client). */
  resetAfterApply: number;
  /** Which requests are targeted: `all`, `writes` (POST/PUT/PATCH/DELETE), `reads` (GET/HEAD) or path prefixes. */
  only: string[];
  /** Rate of reads (GET/HEAD) answered `202 Accepted` ("retry, you'll get a 200 when it's complete"); state unchanged. */
  accepted: number;
  /** Retry-After seconds on 202 answers, or `none` (no header). */
  acceptedRetryAfter: number | 'none';
}

export type FaultDecision =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'error'; latencyMs: number; status: number }
  | { kind: 'reset'; latencyMs: number }
  | { kind: 'throttle'; latencyMs: number; retryAfter: number | undefined }
  | { kind: 'resetAfterApply'; latencyMs: number }
  | { kind: 'accepted'; latencyMs: number; retryAfter: number | undefined };

export interface FaultLogEntry {
  n: number;
  method: string;
  path: string;
  decision: FaultDecision['kind'];
  latencyMs: number;
  status?: number;
  retryAfter?: number;
}

const RATE_KEYS = ['error', 'reset', 'throttle', 'resetAfterApply', 'accepted'] as const;

/** Parses a fault spec; throws an Error naming the bad item. An empty spec means "no faults". */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = {
    seed: 1,
    latencyMin: 0,
    latencyMax: 0,
    error: 0,
    errorStatus: 500,
    reset: 0,
    throttle: 0,
    burst: 1,
    retryAfter: 1,
    resetAfterApply: 0,
    only: ['all'],
    accepted: 0,
    acceptedRetryAfter: 1,
  };
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`fault spec: item "${item}" is not key=value`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    const bad = (why: string): never => {
      throw new Error(`fault spec: ${key}=${value}: ${why}`);
    };
    const int = (v: string): number => (/^\d+$/.test(v) ? Number(v) : bad('expected a non-negative integer'));
    switch (key) {
      case 'seed':
        spec.seed = int(value);
        break;
      case 'latency': {
        const m = /^(\d+)(?:-(\d+))?$/.exec(value);
        if (!m) bad('expected <ms> or <min>-<max>');
        spec.latencyMin = Number(m?.[1]);
        spec.latencyMax = Number(m?.[2] ?? m?.[1]);
        if (spec.latencyMax < spec.latencyMin) bad('max is below min');
        break;
      }
      case 'errorStatus': {
        const s = int(value);
        if (s !== 500 && s !== 502 && s !== 503) bad('expected 500, 502 or 503');
        spec.errorStatus = s as 500 | 502 | 503;
        break;
      }
      case 'burst':
        spec.burst = Math.max(1, int(value));
        break;
      case 'retryAfter':
        spec.retryAfter = value === 'none' || value === 'mixed' ? value : int(value);
        break;
      case 'acceptedRetryAfter':
        spec.acceptedRetryAfter = value === 'none' ? value : int(value);
        break;
      case 'only':
        spec.only = value.split('|').map((s) => s.trim());
        for (const o of spec.only) {
          if (!['all', 'writes', 'reads'].includes(o) && !o.startsWith('/')) bad('expected all, writes, reads or /path-prefix (several joined by |)');
        }
        break;
      default:
        if ((RATE_KEYS as readonly string[]).includes(key)) {
          const r = Number(value);
          if (!/^\d*\.?\d+$/.test(value) || r < 0 || r > 1) bad('expected a rate between 0 and 1');
          spec[key as (typeof RATE_KEYS)[number]] = r;
        } else {
          throw new Error(
            `fault spec: unknown key "${key}" (known: seed, latency, error, errorStatus, reset, throttle, burst, retryAfter, resetAfterApply, accepted, acceptedRetryAfter, only)`,
          );
        }
    }
  }
  return spec;
}

/** A uniform number in [0, 1) for (seed, n, salt): independent of every other decision. */
function draw(seed: number, n: number, salt: number): number {
  let a = (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(n + 1, 0x85ebca6b) ^ Math.imul(salt, 0xc2b2ae35)) >>> 0;
  for (let i = 0; i < 2; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    a = (t ^ (t >>> 14)) >>> 0;
  }
  return a / 4294967296;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** SODA3 query and export: reads, even when sent with POST. */
const SODA3_READ = /^\/api\/v3\/views\/[^/]+\/(?:query\.json|export\.csv)$/;
const isRead = (method: string, path: string): boolean => !WRITE_METHODS.has(method) || SODA3_READ.test(path);

export class FaultInjector {
  private n = 0;
  private burstLeft = 0;
  private burstRetryAfter: number | undefined;
  readonly log: FaultLogEntry[] = [];

  constructor(readonly spec: FaultSpec) {}

  targets(method: string, path: string): boolean {
    return this.spec.only.some((o) =>
      o === 'all' ? true : o === 'writes' ? WRITE_METHODS.has(method) : o === 'reads' ? !WRITE_METHODS.has(method) : path.startsWith(o),
    );
  }

  /** Decides the fault for the next targeted request (callers check {@link targets} first). */
  decide(method: string, path: string): FaultDecision {
    const n = this.n++;
    const s = this.spec;
    const latencyMs = s.latencyMax > 0 ? s.latencyMin + Math.floor(draw(s.seed, n, 1) * (s.latencyMax - s.latencyMin + 1)) : 0;
    let d: FaultDecision;
    if (this.burstLeft > 0) {
      this.burstLeft--;
      d = { kind: 'throttle', latencyMs, retryAfter: this.burstRetryAfter };
    } else if (s.throttle > 0 && draw(s.seed, n, 2) < s.throttle) {
      this.burstLeft = s.burst - 1;
      this.burstRetryAfter = s.retryAfter === 'none' ? undefined : s.retryAfter === 'mixed' ? (draw(s.seed, n, 3) < 0.5 ? undefined : 1) : s.retryAfter;
      d = { kind: 'throttle', latencyMs, retryAfter: this.burstRetryAfter };
    } else if (s.reset > 0 && draw(s.seed, n, 4) < s.reset) {
      d = { kind: 'reset', latencyMs };
    } else if (s.error > 0 && draw(s.seed, n, 5) < s.error) {
      d = { kind: 'error', latencyMs, status: s.errorStatus };
    } else if (s.accepted > 0 && isRead(method, path) && draw(s.seed, n, 7) < s.accepted) {
      d = { kind: 'accepted', latencyMs, retryAfter: s.acceptedRetryAfter === 'none' ? undefined : s.acceptedRetryAfter };
    } else if (s.resetAfterApply > 0 && draw(s.seed, n, 6) < s.resetAfterApply) {
      d = { kind: 'resetAfterApply', latencyMs };
    } else {
      d = { kind: 'none', latencyMs };
    }
    const entry: FaultLogEntry = { n, method, path, decision: d.kind, latencyMs };
    if (d.kind === 'error') entry.status = d.status;
    if ((d.kind === 'throttle' || d.kind === 'accepted') && d.retryAfter !== undefined) entry.retryAfter = d.retryAfter;
    this.log.push(entry);
    return d;
  }
}
