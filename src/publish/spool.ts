// The one-pass /resource publish: while planning reads and checks every row, the JSON text of each good row is built
// once (RowEncoder), gathered into request bodies (BatchBuilder) and written to a temporary spool file; once the plan
// says the file may be sent, the executor sends those bodies as they are, without reading or converting the CSV again.
// Every row is still checked before the first write, and nothing is sent when the file has errors (the spool is then
// deleted unsent).
//
// Format: records one after the other, in file order.
//   batch:   u32 tag = 1, u32 rows, u32 body bytes, u32 0, f64 first line, f64 last line, f64 CSV bytes read,
//            rows × f64 line numbers, the body (`[…]`, UTF-8 JSON).
//   bad row: u32 tag = 2, u32 bytes, then that many bytes of JSON `{"line":…,"fields":[…],"message":"…"}`.
// The file lives in the OS temp folder (mode 0600: it holds the data). Where the system allows it (not Windows) its
// name is removed right after it is created: it is written and read through the one open handle, and the system frees
// it when the handle closes — by `dispose()`, or whenever the process ends, even killed. Otherwise it is deleted by
// `dispose()`, or at the latest when the process exits. When the free space of the temp folder would fall under half of what it was, spooling is
// abandoned (the file deleted) and the executor reads the CSV again instead.
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { open, rm, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch, BufferPool } from './batches';

const HEADER = 40;
const TAG_BATCH = 1;
const TAG_BAD = 2;

const live = new Set<string>();
let exitHook = false;
function track(path: string): void {
  live.add(path);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const p of live) {
        try {
          unlinkSync(p);
        } catch {
          // already gone
        }
      }
    });
  }
}

export interface BadRow {
  line: number;
  fields: string[];
  message: string;
}

export type SpoolRecord = { kind: 'batch'; batch: Batch } | { kind: 'bad'; row: BadRow };

/** A finished spool: what the plan's scan encoded, ready to send. */
export class Spool {
  private disposed = false;
  constructor(
    private readonly fh: FileHandle,
    /** Where the file was made (already unlinked where the system allows it). */
    readonly path: string,
    private readonly named: boolean,
    /** The CSV as it was when spooled: the spool is used only while the file is unchanged. */
    readonly source: { size: number; mtimeMs: number },
    readonly bytes: number,
  ) {}

  /** The records in file order. Batch bodies go into buffers of `pool` (or their own when larger). */
  async *records(pool: BufferPool): AsyncGenerator<SpoolRecord> {
    const fh = this.fh;
    {
      const head = Buffer.alloc(HEADER);
      let pos = 0;
      for (;;) {
        const { bytesRead } = await fh.read(head, 0, 8, pos);
        if (bytesRead === 0) return;
        const tag = head.readUInt32LE(0);
        if (tag === TAG_BAD) {
          const n = head.readUInt32LE(4);
          const text = Buffer.alloc(n);
          await readFully(fh, text, pos + 8);
          pos += 8 + n;
          yield { kind: 'bad', row: JSON.parse(text.toString('utf8')) as BadRow };
          continue;
        }
        if (tag !== TAG_BATCH) throw new Error(`${this.path}: damaged spool file (record tag ${tag} at byte ${pos})`);
        await readFully(fh, head, pos);
        const count = head.readUInt32LE(4);
        const len = head.readUInt32LE(8);
        const lineBytes = Buffer.alloc(count * 8);
        await readFully(fh, lineBytes, pos + HEADER);
        const lines = Array.from(new Float64Array(lineBytes.buffer, lineBytes.byteOffset, count));
        const pooled = len <= pool.capacity;
        const buf = pooled ? pool.take() : Buffer.allocUnsafe(len);
        await readFully(fh, buf.subarray(0, len), pos + HEADER + count * 8);
        pos += HEADER + count * 8 + len;
        const batch: Batch = {
          buf,
          len,
          count,
          lines,
          first: head.readDoubleLE(16),
          last: head.readDoubleLE(24),
          bytesMark: head.readDoubleLE(32),
          pooled,
          text: '',
          textMax: 0,
        };
        yield { kind: 'batch', batch };
      }
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.fh.close().catch(() => undefined);
    if (this.named) {
      live.delete(this.path);
      await rm(this.path, { force: true });
    }
  }

  /** Not part of a plan's JSON form. */
  toJSON(): undefined {
    return undefined;
  }
}

async function readFully(fh: FileHandle, into: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await fh.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new Error('the spool file ended early');
    done += bytesRead;
  }
}

export class SpoolWriter {
  private written = 0;
  private abandoned = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private readonly named: boolean,
    private readonly limit: number,
  ) {}

  /** A new spool file in the OS temp folder, or undefined when it cannot be made (the publish then reads twice). */
  static async create(maxBytes = Infinity): Promise<SpoolWriter | undefined> {
    const dir = tmpdir();
    const path = join(dir, `socrata-publish-${process.pid}-${randomBytes(6).toString('hex')}.spool`);
    try {
      const fs = await statfs(dir);
      const limit = Math.min(maxBytes, Math.floor((fs.bavail * fs.bsize) / 2));
      const fh = await open(path, 'wx+', 0o600);
      let named = true;
      try {
        await unlink(path);
        named = false;
      } catch {
        track(path);
      }
      return new SpoolWriter(fh, path, named, limit);
    } catch {
      return undefined;
    }
  }

  /** False once spooling was given up (too little space, a write failed). */
  get active(): boolean {
    return !this.abandoned;
  }

  async batch(b: Batch): Promise<void> {
    if (this.abandoned) return;
    const head = Buffer.alloc(HEADER);
    head.writeUInt32LE(TAG_BATCH, 0);
    head.writeUInt32LE(b.count, 4);
    head.writeUInt32LE(b.len, 8);
    head.writeDoubleLE(b.first, 16);
    head.writeDoubleLE(b.last, 24);
    head.writeDoubleLE(b.bytesMark, 32);
    const lines = Buffer.from(Float64Array.from(b.lines).buffer);
    await this.write([head, lines, b.buf.subarray(0, b.len)]);
  }

  async bad(row: BadRow): Promise<void> {
    if (this.abandoned) return;
    const text = Buffer.from(JSON.stringify(row));
    const head = Buffer.alloc(8);
    head.writeUInt32LE(TAG_BAD, 0);
    head.writeUInt32LE(text.length, 4);
    await this.write([head, text]);
  }

  private async write(parts: Buffer[]): Promise<void> {
    const n = parts.reduce((s, p) => s + p.length, 0);
    if (this.written + n > this.limit) {
      await this.abandon();
      return;
    }
    try {
      const { bytesWritten } = await this.fh.writev(parts);
      if (bytesWritten !== n) throw new Error('short write');
      this.written += n;
    } catch {
      await this.abandon();
    }
  }

  /** Gives the spool up: the file is closed and deleted. */
  async abandon(): Promise<void> {
    if (this.abandoned) return;
    this.abandoned = true;
    await this.fh.close().catch(() => undefined);
    if (this.named) {
      live.delete(this.path);
      await rm(this.path, { force: true }).catch(() => undefined);
    }
  }

  /** The finished spool (the same open file, now read), or undefined when it was abandoned. */
  finish(source: { size: number; mtimeMs: number }): Spool | undefined {
    if (this.abandoned) return undefined;
    return new Spool(this.fh, this.path, this.named, source, this.written);
  }
}
