// The error-rows CSV: the rows that were not published, with their original columns and an `error` column saying
// why. Fix the cells and publish this file again: the `error` column matches no dataset field and is not sent.
// Written incrementally (created on the first bad row), so memory stays flat however many rows fail.
import { open, type FileHandle } from 'node:fs/promises';

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export function csvCell(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvCell).join(',')}\r\n`;
}

export class ErrorRowsWriter {
  private handle: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;
  private buffer = '';
  rows = 0;

  constructor(
    readonly path: string,
    private readonly header: readonly string[],
  ) {}

  private async file(): Promise<FileHandle> {
    this.opening ??= open(this.path, 'w').then(async (h) => {
      this.handle = h;
      await h.write(csvLine([...this.header, 'error']));
      return h;
    });
    return this.opening;
  }

  async write(fields: readonly string[], error: string): Promise<void> {
    this.rows++;
    const padded =
      fields.length >= this.header.length ? fields.slice(0, this.header.length) : [...fields, ...Array<string>(this.header.length - fields.length).fill('')];
    const extra = fields.length > this.header.length ? ` (extra fields: ${fields.slice(this.header.length).join(' | ')})` : '';
    this.buffer += csvLine([...padded, error + extra]);
    if (this.buffer.length >= 64 * 1024) await this.flush();
  }

  private async flush(): Promise<void> {
    const h = await this.file();
    const text = this.buffer;
    this.buffer = '';
    if (text) await h.write(text);
  }

  /** Closes the file; returns its path, or undefined when no row was written. */
  async close(): Promise<string | undefined> {
    if (this.rows === 0) return undefined;
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
    return this.path;
  }
}
