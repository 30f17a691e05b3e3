// Shared by the tokenizer tests: the places a UTF-8 text may be cut into chunks, and the format of a plain UTF-8 file.
import type { CsvFormat } from '../../src/csv/reader';

/** Byte offsets that fall between characters of `text` (chunks hold whole characters, as the decoder gives them). */
export function boundaries(text: string): number[] {
  const out: number[] = [];
  let bytes = 0;
  for (const ch of text) {
    bytes += Buffer.byteLength(ch);
    out.push(bytes);
  }
  return out;
}

/** A UTF-8 file without a BOM, with this delimiter and line break. */
export const fmt = (delimiter: string, lineBreak: '\n' | '\r'): CsvFormat => ({
  path: 'data.csv',
  encoding: 'utf-8',
  bom: false,
  delimiter,
  lineBreak,
  fileSize: 0,
});

/** The delimiters and line breaks the property tests try. */
export const FORMATS = [
  [',', '\n'],
  [';', '\n'],
  ['\t', '\n'],
  [',', '\r'],
] as const;
