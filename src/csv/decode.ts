// Byte → UTF-8 handling in front of the record parser, which works on UTF-8 bytes holding whole characters, so:
//  - UTF-8 input is validated with `buffer.isUtf8` (native, fast) and passed on without copying, except for the
//    1-3 bytes of a character split across chunks, kept for the next chunk. On failure a byte scan finds the exact
//    offset of the first invalid sequence.
//  - UTF-16 LE/BE and legacy encodings (windows-1252, iso-8859-x, …) go through `TextDecoder(label, { fatal: true })`
//    in streaming mode (which handles chunk boundaries itself) and are re-encoded to UTF-8.
// Invalid bytes are never replaced with U+FFFD: they raise `InvalidBytesError` with the absolute byte offset.
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

export type BomEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export class InvalidBytesError extends Error {
  constructor(
    readonly byteOffset: number,
    readonly encoding: string,
  ) {
    super(`invalid ${encoding} byte sequence at byte offset ${byteOffset}`);
  }
}

/** Detects a byte order mark; returns its encoding and length. */
export function detectBom(head: Uint8Array): { encoding: BomEncoding; length: number } | undefined {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/** Normalises an encoding label through TextDecoder (throws a readable error for an unknown label). */
export function canonicalEncoding(label: string): string {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    throw new Error(`unknown text encoding "${label}" (use a WHATWG label such as utf-8, utf-16le, windows-1252)`);
  }
}

export interface ChunkDecoder {
  /** Decodes the next chunk; `offset` is the absolute byte offset of `chunk[0]` in the file. */
  push(chunk: Buffer, offset: number): Buffer;
  /** Flushes at end of input (throws for a truncated trailing character). */
  end(offset: number): Buffer;
}

export function createDecoder(encoding: string): ChunkDecoder {
  return encoding === 'utf-8' ? new Utf8Validator() : new TranscodingDecoder(encoding);
}

/** Number of bytes at the end of `buf` that start a UTF-8 character not yet complete. */
function incompleteTail(buf: Buffer): number {
  const len = buf.length;
  let i = len - 1;
  let cont = 0;
  while (i >= 0 && cont < 3 && (buf[i] & 0xc0) === 0x80) {
    i--;
    cont++;
  }
  if (i < 0) return 0;
  const lead = buf[i];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > cont + 1 && lead >= 0xc0 ? cont + 1 : 0;
}

/** Offset of the first invalid UTF-8 sequence in `buf` (WHATWG rules: no overlongs, no surrogates, ≤ U+10FFFF). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  const len = buf.length;
  let i = 0;
  while (i < len) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lower = 0xa0;
      if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lower = 0x90;
      if (b === 0xf4) upper = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= len) return i;
      const c = buf[i + k];
      if (c < (k === 1 ? lower : 0x80) || c > (k === 1 ? upper : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

class Utf8Validator implements ChunkDecoder {
  private carry: Buffer | undefined;

  push(chunk: Buffer, offset: number): Buffer {
    let data = chunk;
    let start = offset;
    if (this.carry) {
      data = Buffer.concat([this.carry, chunk]);
      start -= this.carry.length;
      this.carry = undefined;
    }
    const tail = incompleteTail(data);
    const body = tail ? data.subarray(0, data.length - tail) : data;
    if (!isUtf8(body)) throw new InvalidBytesError(start + firstInvalidUtf8(body), 'UTF-8');
    if (tail) this.carry = Buffer.from(data.subarray(data.length - tail));
    // Whole characters only: the tokenizer decodes each chunk to a string on its own.
    return body;
  }

  end(offset: number): Buffer {
    if (this.carry) throw new InvalidBytesError(offset - this.carry.length, 'UTF-8');
    return Buffer.alloc(0);
  }
}

class TranscodingDecoder implements ChunkDecoder {
  private readonly decoder: TextDecoder;
  private readonly singleByte: boolean;
  private pending = 0;

  constructor(private readonly encoding: string) {
    this.decoder = new TextDecoder(encoding, { fatal: true });
    this.singleByte = !/^(utf-16|gb|big5|euc|shift_jis|iso-2022)/i.test(encoding) && encoding !== 'gbk';
  }

  push(chunk: Buffer, offset: number): Buffer {
    try {
      const text = this.decoder.decode(chunk, { stream: true });
      this.pending = (this.pending + chunk.length) % 2;
      return Buffer.from(text, 'utf8');
    } catch {
      throw new InvalidBytesError(offset + this.locate(chunk), this.encoding);
    }
  }

  end(offset: number): Buffer {
    try {
      return Buffer.from(this.decoder.decode(), 'utf8');
    } catch {
      throw new InvalidBytesError(Math.max(0, offset - (this.encoding.startsWith('utf-16') ? Math.max(1, this.pending) : 1)), this.encoding);
    }
  }

  /** Best effort position of the bad bytes inside `chunk`. */
  private locate(chunk: Buffer): number {
    if (this.encoding === 'utf-16le' || this.encoding === 'utf-16be') {
      const le = this.encoding === 'utf-16le';
      // Chunks are read at even offsets except for a carried odd byte; scan code units for an unpaired surrogate.
      const start = this.pending;
      for (let i = start; i + 1 < chunk.length; i += 2) {
        const u = le ? chunk[i] | (chunk[i + 1] << 8) : (chunk[i] << 8) | chunk[i + 1];
        if (u >= 0xd800 && u <= 0xdbff) {
          if (i + 3 >= chunk.length) return i;
          const n = le ? chunk[i + 2] | (chunk[i + 3] << 8) : (chunk[i + 2] << 8) | chunk[i + 3];
          if (n < 0xdc00 || n > 0xdfff) return i;
          i += 2;
        } else if (u >= 0xdc00 && u <= 0xdfff) return i;
      }
      return 0;
    }
    if (this.singleByte) {
      for (let i = 0; i < chunk.length; i++) {
        try {
          new TextDecoder(this.encoding, { fatal: true }).decode(chunk.subarray(i, i + 1));
        } catch {
          return i;
        }
      }
    }
    return 0;
  }
}
