// The file's row ids as a plan counts them, in bounded memory whatever the file size.
//
// Up to `memoryIds` ids (default 262 144, 2 MiB) the 52-bit hashes stay in an in-memory `IdHashLog`
// (src/csv/idtable.ts), as before. Past that they are spilled to a temporary file, partitioned by their top 6 bits:
// each of the 64 partitions fills a 16 KiB block in memory, and a full block is appended to the file (its offset
// remembered). At the end each partition is read back alone into one reused buffer, sorted and scanned for repeats;
// the partitions are in hash order, so their repeated hashes joined are sorted too. Memory: 1 MiB of blocks while
// logging, one partition (1/64 of the ids: 1.25 MiB for 10M ids) while counting, instead of 8 bytes per id (80 MB
// for 10M ids). Writing the hashes (8 bytes per id, page cache) and sorting 64 small runs instead of one large one
// cost about as much as the in-memory log.
//
// The file lives in the OS temp folder (mode 0600) and, except on Windows, its name is removed as soon as it is open:
// the system frees it when the handle closes (by `dispose()`, or when the process ends in any way).
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdHashLog } from '../csv/idtable';

const PARTITIONS = 64;
const BLOCK = 2048; // hashes per block: 16 KiB
const TOP = 2 ** 46; // a 52-bit hash divided by this is its top 6 bits

export class SpillingIdLog {
  private memory: IdHashLog | undefined = new IdHashLog();
  private fd: number | undefined;
  private path: string | undefined;
  private blocks: Float64Array[] = [];
  private fills: Int32Array = new Int32Array(0);
  private offsets: number[][] = [];
  private fileBytes = 0;
  /** Hashes recorded. */
  size = 0;

  constructor(private readonly memoryIds = 1 << 18) {}

  /** True once the hashes went to disk. */
  get spilled(): boolean {
    return this.fd !== undefined;
  }

  add(hash: number): void {
    this.size++;
    if (this.memory !== undefined) {
      if (this.memory.size < this.memoryIds) {
        this.memory.add(hash);
        return;
      }
      this.spill();
    }
    this.put(hash);
  }

  private spill(): void {
    const name = `socrata-publish-ids-${process.pid}-${randomBytes(6).toString('hex')}`;
    this.path = join(tmpdir(), name);
    this.fd = openSync(this.path, 'wx+', 0o600);
    if (process.platform !== 'win32') {
      unlinkSync(this.path);
      this.path = undefined;
    }
    this.blocks = Array.from({ length: PARTITIONS }, () => new Float64Array(BLOCK));
    this.fills = new Int32Array(PARTITIONS);
    this.offsets = Array.from({ length: PARTITIONS }, () => []);
    const runs = (this.memory as IdHashLog).takeRuns();
    this.memory = undefined;
    for (const run of runs) for (let i = 0; i < run.length; i++) this.put(run[i]);
  }

  private put(hash: number): void {
    const p = Math.floor(hash / TOP);
    const block = this.blocks[p];
    block[this.fills[p]++] = hash;
    if (this.fills[p] === BLOCK) this.flush(p);
  }

  private flush(p: number): void {
    const n = this.fills[p];
    if (n === 0) return;
    const bytes = Buffer.from(this.blocks[p].buffer, 0, n * 8);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd as number, bytes, done, bytes.length - done, this.fileBytes + done);
    this.offsets[p].push(this.fileBytes, n);
    this.fileBytes += bytes.length;
    this.fills[p] = 0;
  }

  /**
   * Hashes added more than once: how many additions repeated an earlier hash (`extra`), and those hashes, sorted and
   * distinct (`suspects`). Call once, at the end.
   */
  repeats(): { extra: number; suspects: Float64Array } {
    if (this.memory !== undefined) return this.memory.repeats();
    const fd = this.fd as number;
    let extra = 0;
    const out: number[] = [];
    const counts = this.offsets.map((spans, p) => {
      let count = this.fills[p];
      for (let i = 1; i < spans.length; i += 2) count += spans[i];
      return count;
    });
    // One buffer for every partition in turn: 64 short-lived arrays would wait for the garbage collector, together.
    const space = new Float64Array(Math.max(...counts));
    for (let p = 0; p < PARTITIONS; p++) {
      const spans = this.offsets[p];
      const all = space.subarray(0, counts[p]);
      let at = 0;
      for (let i = 0; i < spans.length; i += 2) {
        const n = spans[i + 1];
        const view = Buffer.from(space.buffer, at * 8, n * 8);
        let got = 0;
        while (got < view.length) {
          const r = readSync(fd, view, got, view.length - got, spans[i] + got);
          if (r === 0) throw new Error('the id log file ended early');
          got += r;
        }
        at += n;
      }
      all.set(this.blocks[p].subarray(0, this.fills[p]), at);
      all.sort();
      for (let i = 1; i < all.length; i++) {
        if (all[i] === all[i - 1]) {
          extra++;
          if (out[out.length - 1] !== all[i]) out.push(all[i]);
        }
      }
    }
    return { extra, suspects: Float64Array.from(out) };
  }

  /** Closes (and so frees) the spill file. Safe to call more than once. */
  dispose(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (this.path !== undefined) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
      this.path = undefined;
    }
    this.blocks = [];
  }
}
