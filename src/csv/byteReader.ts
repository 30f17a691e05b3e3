// The publish scan's reader: records as byte ranges from `CsvByteTokenizer` (./bytetokenizer.ts), which hands
// whatever it does not take to `CsvTokenizer` (then the records come as strings, as `readRecords` gives them). The
// format, decoding, progress and errors are `reader.ts`'s.
import { CsvByteTokenizer, type ByteRow } from './bytetokenizer';
import { DEFAULT_MAX_FIELD_SIZE, decodedChunks, type CsvFormat, type CsvReadOptions, type CsvRecord, type ReadProgress } from './reader';

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
  const parser = new CsvByteTokenizer(format, options.maxFieldSize ?? DEFAULT_MAX_FIELD_SIZE);
  for await (const utf8 of decodedChunks(format, options, progress, () => parser.line)) {
    const out: CsvRecord[] = [];
    parser.feed(utf8, false, onRow, out);
    yield out;
  }
  const out: CsvRecord[] = [];
  parser.feed(undefined, true, onRow, out);
  progress.line = parser.line;
  yield out;
}
