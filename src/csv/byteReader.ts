// The publish scan's reader: records as byte ranges from `CsvByteTokenizer` (./bytetokenizer.ts), which hands
// whatever it does not take to `CsvTokenizer` (then the records come as strings, as `readRecords` gives them). The
// format, decoding, progress and errors are `reader.ts`'s.
import { createReadStream } from 'node:fs';
import { CsvByteTokenizer, type ByteRow } from './bytetokenizer';
import { createDecoder, InvalidBytesError, type ChunkDecoder } from './decode';
import { abortError, DEFAULT_MAX_FIELD_SIZE, encodingError, type CsvFormat, type CsvReadOptions, type CsvRecord, type ReadProgress } from './reader';

/**
 * The records of the whole file, header included, through `CsvByteTokenizer`: records it reads as bytes go to `onRow`
 * as they are found; after each chunk the string records (once it has handed over to `CsvTokenizer`) are yielded,
 * possibly none. Throws `CsvError` as `readRecords` does.
 */
export async function* readByteRows(
  format: CsvFormat,
  options: CsvReadOptions,
  progress: ReadProgress,
  onRow: (row: ByteRow) => void,
): AsyncGenerator<CsvRecord[]> {
  const wide = format.encoding === 'utf-16le' || format.encoding === 'utf-16be';
  const start = format.bom ? (wide ? 2 : 3) : 0;
  const decoder: ChunkDecoder = createDecoder(format.encoding);
  const parser = new CsvByteTokenizer(format, options.maxFieldSize ?? DEFAULT_MAX_FIELD_SIZE);
  const stream = createReadStream(format.path, { start, highWaterMark: options.chunkSize ?? 64 * 1024 });
  let offset = start;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (options.signal?.aborted) throw abortError(format, parser.line);
      let utf8: Buffer;
      try {
        utf8 = decoder.push(chunk, offset);
      } catch (err) {
        if (err instanceof InvalidBytesError) throw await encodingError(format, err);
        throw err;
      }
      offset += chunk.length;
      progress.bytes = offset;
      const out: CsvRecord[] = [];
      parser.feed(utf8, false, onRow, out);
      yield out;
    }
    let tail: Buffer;
    try {
      tail = decoder.end(offset);
    } catch (err) {
      if (err instanceof InvalidBytesError) throw await encodingError(format, err);
      throw err;
    }
    const out: CsvRecord[] = [];
    if (tail.length) parser.feed(tail, false, onRow, out);
    parser.feed(undefined, true, onRow, out);
    progress.line = parser.line;
    yield out;
  } finally {
    stream.destroy();
  }
}
