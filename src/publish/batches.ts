// Request bodies of the /resource route, built from row JSON texts: a batch closes at `batchSize` rows or
// `batchBytes` bytes. Bodies are built straight into reused buffers: row texts are joined into pieces of ~16k
// characters, each written once (one native write per piece rather than per row), no array of row strings, no
// string → bytes copy when sending. Byte limits stay exact: the pending text is written out before its upper bound
// could cross one. Used while sending (rows read from the CSV) and while planning (batches spooled to disk).

export interface Batch {
  /** The request body: `[row,row,…]` as UTF-8 bytes, `buf[0..len)` (a buffer of the pool, or its own). */
  buf: Buffer;
  len: number;
  count: number;
  /** CSV line of each row in the body, for per-row errors the server reports by position. */
  lines: number[];
  first: number;
  /** Last physical line of the last record (a quoted field may span lines). */
  last: number;
  /** Bytes of the CSV read when the batch closed (progress). */
  bytesMark: number;
  pooled: boolean;
  /** Rows not yet written to `buf` (with their separating commas). */
  text: string;
  /** Upper bound of `text`'s UTF-8 bytes (3 per UTF-16 unit). */
  textMax: number;
}

/** A few reused body buffers of `capacity` bytes (at most `keep` kept). */
export class BufferPool {
  private readonly free: Buffer[] = [];
  constructor(
    readonly capacity: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.capacity);
  }

  release(b: Batch): void {
    if (b.pooled && this.free.length <= this.keep) this.free.push(b.buf);
  }
}

/** Writes the batch's pending row text into its buffer. */
function flushText(b: Batch): void {
  if (b.text.length === 0) return;
  b.len += b.buf.write(b.text, b.len);
  b.text = '';
  b.textMax = 0;
}

export class BatchBuilder {
  private batch: Batch;
  private lastFields: readonly string[] = [];
  /** Line breaks inside the last row added as bytes. */
  private lastBreaks = 0;
  private readonly capacity: number;

  constructor(
    private readonly batchSize: number,
    private readonly batchBytes: number,
    private readonly lineBreak: string,
    readonly pool: BufferPool,
  ) {
    this.capacity = pool.capacity;
    this.batch = this.newBatch();
  }

  private newBatch(): Batch {
    const buf = this.pool.take();
    buf[0] = 0x5b; // [
    return { buf, len: 1, count: 0, lines: [], first: 0, last: 0, bytesMark: 0, pooled: true, text: '', textMax: 0 };
  }

  private close(b: Batch, mark: number): Batch {
    flushText(b);
    b.buf[b.len++] = 0x5d; // ]
    b.bytesMark = mark;
    b.last += this.lastBreaks;
    const lb = this.lineBreak;
    for (const f of this.lastFields) for (let at = f.indexOf(lb); at !== -1; at = f.indexOf(lb, at + 1)) b.last++;
    return b;
  }

  private closeCurrent(mark: number): Batch {
    const full = this.close(this.batch, mark);
    this.batch = this.newBatch();
    return full;
  }

  /**
   * Adds a row's JSON text. Returns the batches this row closed, in order (usually none; a row larger than a batch
   * is a batch of its own), or undefined.
   */
  add(json: string, line: number, fields: readonly string[], bytesRead: number): Batch[] | undefined {
    let out: Batch[] | undefined;
    let batch = this.batch;
    // Worst case 3 bytes per UTF-16 unit, plus "," and "]".
    const worst = json.length * 3 + 2;
    if (batch.len + batch.textMax + worst > this.capacity) flushText(batch);
    if (batch.len + worst > this.capacity) {
      if (batch.count > 0) {
        out = [this.closeCurrent(bytesRead)];
        batch = this.batch;
      }
      if (worst + 1 > this.capacity) {
        // One row larger than a batch: its own request.
        const own = Buffer.from(`[${json}]`);
        this.lastFields = fields;
        this.lastBreaks = 0;
        const single: Batch = {
          buf: own,
          len: own.length - 1,
          count: 1,
          lines: [line],
          first: line,
          last: line,
          bytesMark: 0,
          pooled: false,
          text: '',
          textMax: 0,
        };
        (out ??= []).push(this.close(single, bytesRead));
        return out;
      }
    }
    if (batch.count === 0) batch.first = line;
    batch.text = batch.count === 0 ? json : batch.text.length === 0 ? `,${json}` : `${batch.text},${json}`;
    batch.textMax += worst;
    if (batch.text.length >= 16384 || batch.len + batch.textMax >= this.batchBytes) flushText(batch);
    batch.count++;
    batch.lines.push(line);
    batch.last = line;
    this.lastFields = fields;
    this.lastBreaks = 0;
    if (batch.count >= this.batchSize || batch.len >= this.batchBytes) (out ??= []).push(this.closeCurrent(bytesRead));
    return out;
  }

  /** The buffer the next row may be written to directly, from `rowStart()` up to `rowLimit`, then `commitBytes`. */
  get target(): Buffer {
    return this.batch.buf;
  }

  /** Where the next row's bytes go in `target` (after its separating comma). */
  rowStart(): number {
    flushText(this.batch);
    return this.batch.count > 0 ? this.batch.len + 1 : this.batch.len;
  }

  /** The end of the room in `target` (one byte kept for the closing `]`). */
  get rowLimit(): number {
    return this.capacity - 1;
  }

  /**
   * Adds the row written to `target` from `rowStart()` to `end`; `breaks`: line breaks inside the record. Returns
   * the batches this row closed, as `add` does.
   */
  commitBytes(end: number, line: number, breaks: number, bytesRead: number): Batch[] | undefined {
    const batch = this.batch;
    if (batch.count === 0) batch.first = line;
    else batch.buf[batch.len] = 0x2c; // ,
    batch.len = end;
    return this.added(batch, line, breaks, bytesRead);
  }

  /**
   * Adds a row's JSON text given as UTF-8 bytes, `src[start..end)`, copied into the body; `breaks`: line breaks
   * inside the record. Returns the batches this row closed, as `add` does.
   */
  addBytes(src: Buffer, start: number, end: number, line: number, breaks: number, bytesRead: number): Batch[] | undefined {
    let out: Batch[] | undefined;
    let batch = this.batch;
    const len = end - start;
    const worst = len + 2;
    flushText(batch);
    if (batch.len + worst > this.capacity) {
      if (batch.count > 0) {
        out = [this.closeCurrent(bytesRead)];
        batch = this.batch;
      }
      if (worst + 1 > this.capacity) {
        // One row larger than a batch: its own request.
        const own = Buffer.allocUnsafe(len + 2);
        own[0] = 0x5b;
        src.copy(own, 1, start, end);
        this.lastFields = [];
        this.lastBreaks = breaks;
        const single: Batch = { buf: own, len: len + 1, count: 1, lines: [line], first: line, last: line, bytesMark: 0, pooled: false, text: '', textMax: 0 };
        (out ??= []).push(this.close(single, bytesRead));
        return out;
      }
    }
    if (batch.count === 0) batch.first = line;
    else batch.buf[batch.len++] = 0x2c; // ,
    batch.len += src.copy(batch.buf, batch.len, start, end);
    const closed = this.added(batch, line, breaks, bytesRead);
    if (closed) (out ??= []).push(...closed);
    return out;
  }

  private added(batch: Batch, line: number, breaks: number, bytesRead: number): Batch[] | undefined {
    batch.count++;
    batch.lines.push(line);
    batch.last = line;
    this.lastFields = [];
    this.lastBreaks = breaks;
    if (batch.count >= this.batchSize || batch.len >= this.batchBytes) return [this.closeCurrent(bytesRead)];
    return undefined;
  }

  /** The last, partly filled batch (undefined when empty). */
  finish(bytesTotal: number): Batch | undefined {
    if (this.batch.count === 0) return undefined;
    return this.closeCurrent(bytesTotal);
  }
}
