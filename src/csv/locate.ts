// Where cells are in the text, for editors: the 0-based line and UTF-16 character range of given fields, as VS Code
// counts them in the decoded document (BOM removed; \r\n, \n and \r each end a line). Validation reports cells by
// record line and 1-based column; this reads the file once more, only up to the last line asked for, with the CSV
// quoting rules (a quoted field may hold delimiters, doubled quotes and line breaks).
import { createReadStream } from 'node:fs';
import type { CsvFormat } from './reader';

export interface CellRef {
  /** 1-based physical line where the record starts (as validation reports it). */
  line: number;
  /** 1-based CSV column. */
  column: number;
}

export interface CellSpan {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
}

export const cellKey = (ref: CellRef): string => `${ref.line}:${ref.column}`;

/**
 * The text span of each wanted cell (key `cellKey`), the quotes of a quoted field included. Cells that are not
 * found (a short row, a line past the end) are missing from the map.
 */
export async function locateCells(
  format: Pick<CsvFormat, 'path' | 'encoding' | 'delimiter'>,
  wanted: readonly CellRef[],
  signal?: AbortSignal,
): Promise<Map<string, CellSpan>> {
  const out = new Map<string, CellSpan>();
  if (wanted.length === 0) return out;
  const want = new Set(wanted.map(cellKey));
  const lastLine = Math.max(...wanted.map((w) => w.line));
  const delimiter = format.delimiter;
  const decoder = new TextDecoder(format.encoding, { fatal: false });

  let line = 0; // 0-based physical line
  let character = 0;
  let recordLine = 1; // 1-based start line of the current record
  let field = 1;
  let fieldStartLine = 0;
  let fieldStartCharacter = 0;
  let atFieldStart = true;
  let inQuotes = false;
  let quoteInQuotes = false; // a quote seen inside quotes: a doubled quote or the closing one
  let afterCr = false;

  const endField = (): void => {
    const key = `${recordLine}:${field}`;
    if (want.has(key)) out.set(key, { startLine: fieldStartLine, startCharacter: fieldStartCharacter, endLine: line, endCharacter: character });
    field++;
    atFieldStart = true;
  };
  const startField = (): void => {
    fieldStartLine = line;
    fieldStartCharacter = character;
  };
  const newLine = (): void => {
    line++;
    character = 0;
  };

  const stream = createReadStream(format.path, { highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal?.aborted) break;
      const text = decoder.decode(chunk, { stream: true });
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (afterCr) {
          afterCr = false;
          if (c === '\n') continue; // \r\n is one line break
        }
        if (inQuotes) {
          if (quoteInQuotes) {
            quoteInQuotes = false;
            if (c === '"') {
              character++;
              continue; // a doubled quote
            }
            inQuotes = false; // the closing quote; c is handled below as unquoted
          } else {
            if (c === '"') quoteInQuotes = true;
            if (c === '\n' || c === '\r') {
              newLine();
              afterCr = c === '\r';
            } else character++;
            continue;
          }
        }
        if (atFieldStart) {
          startField();
          atFieldStart = false;
        }
        if (c === delimiter) {
          endField();
          character++;
        } else if (c === '\n' || c === '\r') {
          endField();
          newLine();
          afterCr = c === '\r';
          recordLine = line + 1;
          field = 1;
          if (line + 1 > lastLine) return out;
        } else {
          if (c === '"' && character === fieldStartCharacter && line === fieldStartLine) inQuotes = true;
          character++;
        }
      }
    }
    if (!atFieldStart || field > 1) {
      if (atFieldStart) startField();
      endField();
    }
    return out;
  } finally {
    stream.destroy();
  }
}
