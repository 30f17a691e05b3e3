// The resume journal: one small JSON file per (file, target, mode, mapping) in a directory the caller chooses.
// Written atomically (temp file + rename) after every applied batch, so a publish interrupted by a crash or a cancel
// resumes with the rows not yet applied when the same, unchanged file is published again to the same target.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LineRange, PublishPlan } from './types';

export const JOURNAL_VERSION = 1;

export interface JournalFile {
  version: number;
  key: string;
  file: { path: string; size: number; mtimeMs: number; headHash: string };
  target: { domain: string; dataset: string | undefined };
  mode: string;
  mapping: { csvHeader: string; fieldName: string | undefined }[];
  rowIdentifier: string | undefined;
  /** Line ranges confirmed applied (sorted, merged). */
  applied: LineRange[];
  /** Line ranges sent whose answer has not arrived (if the process dies, their outcome is unknown). */
  inFlight: LineRange[];
  /** Sync: the deletes were all applied. */
  deletesDone: boolean;
  updatedAt: string;
}

/** Identity of a publish: file path, target, mode, mapping (not the file contents, which are checked separately). */
export function journalKey(plan: PublishPlan): string {
  const parts = {
    file: plan.file.path,
    domain: plan.domain,
    dataset: plan.dataset,
    mode: plan.mode,
    mapping: plan.columns.map((c) => [c.csvHeader, c.fieldName ?? null, c.type ?? null]),
    rowIdentifier: plan.rowIdentifier ?? null,
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** Adds a range to a sorted list of disjoint ranges, merging adjacent and overlapping ones. */
export function addRange(ranges: LineRange[], range: LineRange): LineRange[] {
  const all = [...ranges, range].sort((a, b) => a[0] - b[0]);
  const out: LineRange[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** The lines of `ranges` outside `range`. addRange merges neighbours (two batches in flight, lines 2 and 3, are
 * `[[2,3]]`), so a batch's range is cut out of whatever range holds it, not looked up as a whole. */
export function removeRange(ranges: LineRange[], range: LineRange): LineRange[] {
  const out: LineRange[] = [];
  for (const r of ranges) {
    if (r[1] < range[0] || r[0] > range[1]) out.push([r[0], r[1]]);
    else {
      if (r[0] < range[0]) out.push([r[0], range[0] - 1]);
      if (r[1] > range[1]) out.push([range[1] + 1, r[1]]);
    }
  }
  return out;
}

export function inRanges(ranges: readonly LineRange[], line: number): boolean {
  // Binary search: ranges are sorted and disjoint.
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid];
    if (line < r[0]) hi = mid - 1;
    else if (line > r[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

export function formatRanges(ranges: readonly LineRange[]): string {
  return ranges.map(([a, b]) => (a === b ? `line ${a}` : `lines ${a}–${b}`)).join(', ');
}

export class Journal {
  readonly path: string;
  data: JournalFile;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    data: JournalFile,
  ) {
    this.path = join(dir, `publish-${data.key}.json`);
    this.data = data;
  }

  static fresh(dir: string, plan: PublishPlan): Journal {
    return new Journal(dir, {
      version: JOURNAL_VERSION,
      key: journalKey(plan),
      file: { path: plan.file.path, size: plan.file.size, mtimeMs: plan.file.mtimeMs, headHash: plan.file.headHash },
      target: { domain: plan.domain, dataset: plan.dataset },
      mode: plan.mode,
      mapping: plan.columns.map((c) => ({ csvHeader: c.csvHeader, fieldName: c.fieldName })),
      rowIdentifier: plan.rowIdentifier,
      applied: [],
      inFlight: [],
      deletesDone: false,
      updatedAt: new Date().toISOString(),
    });
  }

  /**
   * The journal of an earlier run of the same publish, or undefined. `changed` is set when one exists but the file
   * differs (size, mtime or head hash): the publish then starts over.
   */
  static async load(dir: string, plan: PublishPlan): Promise<{ journal: Journal | undefined; changed?: string }> {
    const key = journalKey(plan);
    const path = join(dir, `publish-${key}.json`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return { journal: undefined };
    }
    let data: JournalFile;
    try {
      data = JSON.parse(text) as JournalFile;
    } catch {
      return { journal: undefined, changed: 'the journal of the earlier run is unreadable' };
    }
    if (data.version !== JOURNAL_VERSION || data.key !== key) return { journal: undefined, changed: 'the journal of the earlier run is from another version' };
    const f = plan.file;
    const why =
      data.file.size !== f.size
        ? `its size changed (${data.file.size} → ${f.size} bytes)`
        : data.file.headHash !== f.headHash
          ? 'its first 64 KiB changed'
          : data.file.mtimeMs !== f.mtimeMs
            ? 'it was modified since'
            : undefined;
    if (why !== undefined) return { journal: undefined, changed: `${f.path} is not the file of the interrupted publish: ${why}` };
    return { journal: new Journal(dir, data) };
  }

  /** Writes the journal atomically; writes are serialised. */
  save(): Promise<void> {
    const snapshot = JSON.stringify({ ...this.data, updatedAt: new Date().toISOString() }, null, 1);
    this.writing = this.writing.then(async () => {
      await mkdir(this.dir, { recursive: true });
      const tmp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, snapshot, 'utf8');
      await rename(tmp, this.path);
    });
    return this.writing;
  }

  async remove(): Promise<void> {
    await this.writing.catch(() => undefined);
    await rm(this.path, { force: true });
  }
}
