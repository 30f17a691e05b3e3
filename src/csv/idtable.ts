// Compact duplicate detection for row identifiers.
//
// A `Set<string>` of 1 000 000 short ids costs 60-100 MB of heap (and the garbage collector's time); here each id
// costs 8 bytes: its 52-bit hash, stored as an exact integer in a Float64Array (in chunks of 1M hashes, so nothing is
// ever copied to grow). At the end of the pass each chunk is sorted (native typed-array sort) and one merge over the
// sorted chunks (`SortedMerge`) finds the hashes that occur more than once.
//
// Equal hashes only make a row *suspected*: two different ids share a 52-bit hash with probability about
// n² / 2^53 for n ids, i.e. 1e-4 for 1M ids and 0.01 for 10M ids. `validateFile` confirms suspects exactly: when there
// are any, it reads the file a second time and compares the actual id strings of just the rows whose hash is
// suspected, reporting each true duplicate with its line in file order. The report is exact; only a file that has
// duplicates (or, rarely, a false suspect) pays for the second read.

const CHUNK = 1 << 20;
const TWO_20 = 2 ** 20;

/** 52-bit hash of a string as an exact integer (two 32-bit multiplicative hashes with cyrb53's final mixing). */
export function hashId(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return finish(h1, h2);
}

/** The last mixing of the two 32-bit lanes into the 52-bit hash. */
function finish(h1: number, h2: number): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 >>> 0) * TWO_20 + (h2 >>> 12);
}

/** `hashId` of the UTF-8 text `b[s..e)` (hashed from the bytes when they are ASCII, the same hash). */
export function hashIdBytes(b: Uint8Array, s: number, e: number): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c >= 0x80) return hashId(Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('utf8'));
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return finish(h1, h2);
}

/** Append-only log of id hashes; `suspects()` returns the hashes seen more than once, sorted. */
export class IdHashLog {
  private readonly chunks: Float64Array[] = [];
  private current = new Float64Array(1024);
  private fill = 0;
  /** Hashes recorded. */
  size = 0;

  add(hash: number): void {
    if (this.fill === this.current.length) {
      if (this.current.length < CHUNK) {
        // Small files: start small, double up to one full chunk.
        const bigger = new Float64Array(this.current.length * 2);
        bigger.set(this.current);
        this.current = bigger;
      } else {
        this.chunks.push(this.current);
        this.current = new Float64Array(CHUNK);
        this.fill = 0;
      }
    }
    this.current[this.fill++] = hash;
    this.size++;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.byteLength, 0) + this.current.byteLength;
  }

  /** The recorded hashes as arrays (for transfer to another thread); the log must not be used afterwards. */
  takeRuns(): Float64Array[] {
    const runs = [...this.chunks, this.current.subarray(0, this.fill)];
    this.chunks.length = 0;
    this.current = new Float64Array(0);
    this.fill = 0;
    return runs;
  }

  /** Adds hashes recorded elsewhere (another part of the file). */
  addRuns(runs: Float64Array[]): void {
    for (const r of runs) {
      if (r.length === 0) continue;
      this.chunks.push(r);
      this.size += r.length;
    }
  }

  /**
   * Hashes added more than once: how many additions repeated an earlier hash (`extra`), and those hashes, sorted and
   * distinct (`suspects`). Sorts the log in place; call once, at the end (instead of `suspects()`).
   */
  repeats(): { extra: number; suspects: Float64Array } {
    const runs = [...this.chunks, this.current.subarray(0, this.fill)].filter((r) => r.length > 0);
    for (const r of runs) r.sort();
    const merged = new SortedMerge(runs);
    const out: number[] = [];
    let extra = 0;
    let prev = -1; // hashes are >= 0
    for (let hash = merged.next(); hash >= 0; hash = merged.next()) {
      if (hash === prev) {
        extra++;
        if (out[out.length - 1] !== hash) out.push(hash);
      } else prev = hash;
    }
    return { extra, suspects: Float64Array.from(out) };
  }

  /** Sorted distinct hashes that were added more than once. Sorts the log in place; call once, at the end. */
  suspects(): Float64Array {
    return this.repeats().suspects;
  }
}

/**
 * The values of several ascending runs of hashes (integers >= 0) as one ascending sequence: a k-way merge that looks
 * at the head of each run (a file has a handful of runs of up to 1M hashes, so a heap would not pay).
 */
export class SortedMerge {
  private readonly runs: readonly Float64Array[];
  private readonly heads: number[];

  constructor(runs: readonly Float64Array[]) {
    this.runs = runs;
    this.heads = runs.map(() => 0);
  }

  /** The next value in ascending order, or -1 after the last. */
  next(): number {
    const { runs, heads } = this;
    let best = -1;
    let min = Infinity;
    for (let k = 0; k < runs.length; k++) {
      const at = heads[k];
      if (at < runs[k].length && runs[k][at] < min) {
        min = runs[k][at];
        best = k;
      }
    }
    if (best < 0) return -1;
    heads[best]++;
    return min;
  }
}

/** Binary search in a sorted Float64Array. */
export function sortedHas(sorted: Float64Array, value: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid];
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
