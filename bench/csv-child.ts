// One measured CSV task, run in its own process so its peak RSS is its own. Prints one JSON line.
// Usage: node --import tsx bench/csv-child.ts <parse-stream|read|read-csv-parse|validate|validate-1t|validate-fast|head> <file>
// (`csv.bench.ts` runs it bundled to JavaScript instead.) validate: default options, which use two threads on a
// machine with two or more cores; validate-1t: one thread; validate-fast: one thread, no whole-file type check;
// read-csv-parse: the reader on csv-parse instead of its own tokenizer.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { openCsv, readHead, validateFile, type DatasetSchema } from '../src/csv';

export const BENCH_SCHEMA: DatasetSchema = {
  rowIdentifier: 'id',
  columns: [
    { fieldName: 'id', name: 'ID', dataTypeName: 'text' },
    { fieldName: 'name', name: 'Name', dataTypeName: 'text' },
    { fieldName: 'amount', name: 'Amount', dataTypeName: 'number' },
    { fieldName: 'issued', name: 'Issued', dataTypeName: 'calendar_date' },
    { fieldName: 'active', name: 'Active', dataTypeName: 'checkbox' },
    { fieldName: 'link', name: 'Link', dataTypeName: 'url' },
    { fieldName: 'location', name: 'Location', dataTypeName: 'point' },
    { fieldName: 'count', name: 'Count', dataTypeName: 'number' },
    { fieldName: 'note', name: 'Note', dataTypeName: 'text' },
    { fieldName: 'stamp', name: 'Stamp', dataTypeName: 'calendar_date' },
  ],
};

async function run(mode: string, file: string): Promise<Record<string, unknown>> {
  switch (mode) {
    case 'parse-stream': {
      // csv-parse alone, as its documentation shows it: a file stream of Buffers piped into the parser.
      let rows = 0;
      const parser = createReadStream(file).pipe(parse({ relax_column_count: true }));
      for await (const _ of parser) rows++;
      return { rows: rows - 1 };
    }
    case 'read':
    case 'read-csv-parse': {
      const reader = await openCsv(file, mode === 'read' ? {} : { parser: 'csv-parse' });
      let rows = 0;
      for await (const batch of reader.batches()) rows += batch.length;
      return { rows };
    }
    case 'validate':
    case 'validate-1t':
    case 'validate-fast': {
      const report = await validateFile(file, BENCH_SCHEMA, mode === 'validate' ? {} : { threads: 1, confirmTypes: mode !== 'validate-fast' });
      return { rows: report.rows, problems: report.problemCount, duplicateCheck: report.rowIdentifier?.duplicateCheck };
    }
    case 'head': {
      const head = await readHead(file, { rows: 200 });
      return { rows: head.rows.length, estimatedRowCount: head.estimatedRowCount, types: head.columns.map((c) => c.type).join(',') };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

if (require.main === module) {
  const [mode, file] = process.argv.slice(2);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  void run(mode, file).then((extra) => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(c0);
    const maxRssMB = process.resourceUsage().maxRSS / 1024;
    console.log(JSON.stringify({ mode, ms: Math.round(ms), cpuMs: Math.round((cpu.user + cpu.system) / 1000), maxRssMB: Math.round(maxRssMB), ...extra }));
  });
}
