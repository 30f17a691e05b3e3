// The per-record work of `validateFile` over one part of a file: cell checks, ragged rows, empty ids, id hashes and
// whole-file type inference. A part is the whole file, or one of two halves validated on two threads; `mergeParts`
// joins the halves, moving the second half's line numbers behind the first's. Only plain data crosses threads: the
// configuration is rebuilt into checkers on each side, and the id hashes travel as transferable Float64Arrays.
import { location, truncate } from './errors';
import type { RaggedRow } from './head';
import { hashId, IdHashLog } from './idtable';
import type { CsvRecord } from './reader';
import { CHECK_INVALID, CHECK_NULL, createChecker, createConverter, TypeInferrer, type ColumnConverter, type ColumnType } from './cells';

export interface CellProblem {
  /** 1-based physical line of the record. */
  line: number;
  /** 1-based CSV column. */
  column: number;
  /** CSV header of that column. */
  columnName: string;
  /** The cell, truncated to 80 characters. */
  value: string;
  message: string;
  /** `file.csv:17:3 (valuation): "abc" is not a number` */
  text: string;
}

export interface ProblemSummary {
  count: number;
  examples: CellProblem[];
}

export type InferenceMode = 'run' | 'known' | 'pending';

/** Everything a part needs, as plain (clonable) data. */
export interface PartConfig {
  file: string;
  header: string[];
  delimiter: string;
  /** Mapped CSV columns and their conversion. */
  active: { csvIndex: number; type: ColumnType; dateOrder?: 'mdy' | 'dmy' }[];
  decimalComma: boolean;
  /** CSV column of the row identifier, -1 for none. */
  idIndex: number;
  idField: string;
  maxExamples: number;
  maxTrackedIds: number;
  /** Per header column: 'run' (infer here), 'known' (sample type is the answer while cells convert), see validate.ts. */
  inference: InferenceMode[];
}

export interface PartResult {
  rows: number;
  /** Line after the part's last record (1 + lines of the part). */
  nextLine: number;
  /** Per active column. */
  nulls: number[];
  invalid: ProblemSummary[];
  ragged: ProblemSummary & { rows: RaggedRow[] };
  emptyIds: ProblemSummary;
  /** Per header column: the final inference mode ('known' may have become 'pending'). */
  inference: InferenceMode[];
  /** Per header column, for 'run' columns: the inferrer (a structured clone of one when it came from a worker). */
  inferrers: (TypeInferrer | undefined)[];
  idRuns: Float64Array[];
  idCount: number;
  /** Line of the first id no longer recorded (cap reached); Infinity when all were. */
  idStopLine: number;
}

function summary(): ProblemSummary {
  return { count: 0, examples: [] };
}

export function cellProblem(file: string, header: readonly string[], line: number, c: number, value: string, message: string): CellProblem {
  const columnName = header[c] ?? `column ${c + 1}`;
  return { line, column: c + 1, columnName, value: truncate(value), message, text: `${location(file, line, c + 1)} (${columnName}): ${message}` };
}

function raggedProblem(file: string, line: number, column: number, value: string, message: string): CellProblem {
  return { line, column, columnName: '', value, message, text: `${location(file, line)}: ${message}` };
}

export class PartValidator {
  private readonly checkers: ((raw: string) => number)[];
  private readonly converters: ColumnConverter[];
  private readonly columns: number[];
  private readonly known: boolean[];
  private readonly inference: InferenceMode[];
  private readonly inferrers: (TypeInferrer | undefined)[];
  private readonly inferred: number[];
  private readonly liveInferrers: TypeInferrer[];
  private readonly idLog = new IdHashLog();
  private readonly nulls: number[];
  private readonly invalid: ProblemSummary[];
  private readonly ragged: ProblemSummary & { rows: RaggedRow[] } = { ...summary(), rows: [] };
  private readonly emptyIds = summary();
  private idStopLine = Infinity;
  private rows = 0;

  constructor(private readonly config: PartConfig) {
    const { active, decimalComma } = config;
    this.columns = active.map((a) => a.csvIndex);
    this.checkers = active.map((a) => createChecker(a.type, { decimalComma, dateOrder: a.dateOrder }));
    this.converters = active.map((a) => createConverter(a.type, { decimalComma, dateOrder: a.dateOrder }));
    this.inference = [...config.inference];
    this.known = this.columns.map((c) => this.inference[c] === 'known');
    this.inferrers = this.inference.map((how) => (how === 'run' ? new TypeInferrer(decimalComma) : undefined));
    this.inferred = this.inference.flatMap((how, c) => (how === 'run' ? [c] : []));
    this.liveInferrers = this.inferred.map((c) => this.inferrers[c] as TypeInferrer);
    this.nulls = active.map(() => 0);
    this.invalid = active.map(() => summary());
  }

  add(batch: readonly CsvRecord[]): void {
    const { file, header, maxExamples, idIndex, idField, maxTrackedIds } = this.config;
    const width = header.length;
    const { columns, checkers, nulls, invalid, known, inferred, liveInferrers } = this;
    for (let r = 0; r < batch.length; r++) {
      const { line, fields } = batch[r];
      if (fields.length !== width) {
        const ragged = this.ragged;
        ragged.count++;
        if (ragged.examples.length < maxExamples) {
          ragged.rows.push({ line, expected: width, actual: fields.length });
          ragged.examples.push(
            raggedProblem(
              file,
              line,
              Math.min(fields.length, width) + 1,
              truncate(fields.join(this.config.delimiter)),
              `row has ${fields.length} fields, the header has ${width}`,
            ),
          );
        }
      }
      for (let k = 0; k < columns.length; k++) {
        const c = columns[k];
        const raw = fields[c];
        if (raw === undefined || raw.length === 0) {
          nulls[k]++;
          continue;
        }
        const res = checkers[k](raw);
        if (res === CHECK_INVALID) {
          const s = invalid[k];
          s.count++;
          if (s.examples.length < maxExamples) {
            const failed = this.converters[k].convert(raw);
            s.examples.push(cellProblem(file, header, line, c, raw, failed.ok ? 'invalid value' : failed.message));
          }
          if (known[k]) {
            known[k] = false;
            this.inference[c] = 'pending';
          }
        } else if (res === CHECK_NULL) nulls[k]++;
      }
      if (idIndex >= 0) {
        const id = (fields[idIndex] ?? '').trim();
        if (!id) {
          this.emptyIds.count++;
          if (this.emptyIds.examples.length < maxExamples) {
            this.emptyIds.examples.push(cellProblem(file, header, line, idIndex, '', `the row identifier ${idField} is empty`));
          }
        } else if (line < this.idStopLine) {
          if (this.idLog.size >= maxTrackedIds) this.idStopLine = line;
          else this.idLog.add(hashId(id));
        }
      }
      for (let k = 0; k < inferred.length; k++) liveInferrers[k].add(fields[inferred[k]] ?? '');
    }
    this.rows += batch.length;
  }

  result(nextLine: number): PartResult {
    return {
      rows: this.rows,
      nextLine,
      nulls: this.nulls,
      invalid: this.invalid,
      ragged: this.ragged,
      emptyIds: this.emptyIds,
      inference: this.inference,
      inferrers: this.inferrers,
      idCount: this.idLog.size,
      idRuns: this.idLog.takeRuns(),
      idStopLine: this.idStopLine,
    };
  }
}

/** Joins the results of two consecutive parts; `b`'s lines are numbered from 1 within its part. */
export function mergeParts(config: PartConfig, a: PartResult, b: PartResult): PartResult {
  const offset = a.nextLine - 1;
  const { file, header, maxExamples, decimalComma } = config;
  const cell = (p: CellProblem): CellProblem => cellProblem(file, header, p.line + offset, p.column - 1, p.value, p.message);
  const join = (x: ProblemSummary, y: ProblemSummary, move: (p: CellProblem) => CellProblem): ProblemSummary => ({
    count: x.count + y.count,
    examples: [...x.examples, ...y.examples.slice(0, Math.max(0, maxExamples - x.examples.length)).map(move)],
  });
  const ragged = join(a.ragged, b.ragged, (p) => raggedProblem(file, p.line + offset, p.column, p.value, p.message));
  const inference = a.inference.map((how, c) => (how === 'pending' || b.inference[c] === 'pending' ? 'pending' : how));
  const inferrers = a.inferrers.map((inf, c) => {
    const other = b.inferrers[c];
    if (!inf || !other) return inf;
    const merged = TypeInferrer.revive(inf, decimalComma);
    merged.merge(TypeInferrer.revive(other, decimalComma));
    return merged;
  });
  return {
    rows: a.rows + b.rows,
    nextLine: offset + b.nextLine,
    nulls: a.nulls.map((n, k) => n + b.nulls[k]),
    invalid: a.invalid.map((s, k) => join(s, b.invalid[k], cell)),
    ragged: { ...ragged, rows: [...a.ragged.rows, ...b.ragged.rows.map((r) => ({ ...r, line: r.line + offset }))].slice(0, maxExamples) },
    emptyIds: join(a.emptyIds, b.emptyIds, cell),
    inference,
    inferrers,
    // Past a stop in the first part, the second part's ids are not looked at; otherwise both parts' ids count.
    idRuns: a.idStopLine === Infinity ? [...a.idRuns, ...b.idRuns] : a.idRuns,
    idCount: a.idStopLine === Infinity ? a.idCount + b.idCount : a.idCount,
    idStopLine: a.idStopLine !== Infinity ? a.idStopLine : b.idStopLine + offset,
  };
}
