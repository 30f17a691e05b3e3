// The preview's model, kept on the host: what the file looks like (head read), where it goes (target dataset,
// mode, mapping, types) and what a publish would do (a background pass: whole-file validation, then the publish
// engine's plan). The webview only renders it. No webview code here, so the flow can run without a panel.
// Why one file: the session's state (target, mode, column mapping, types, the background scan) is
// read by every method that builds the model, the request and the summary; split, each part would need all of it.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { findWritableConnection, type SocrataAccounts } from '../accounts';
import {
  columnTypeOf,
  matchHeaders,
  normaliseFieldName,
  readHead,
  validateFile,
  type ColumnType,
  type CsvHead,
  type DatasetSchema,
  type ValidationReport,
} from '../csv';
import { planPublish, type PublishPlan, type PublishRequest } from '../publish';
import type { SodaClient } from '../soda/client';
import { parseDomain } from '../soda/domain';
import type { ViewMetadata } from '../soda/types';
import { type FileProblem, problemsOf, withCellSpans } from './diagnostics';
import {
  type ColumnTarget,
  type ColumnView,
  type FieldOption,
  type Mode,
  NEW_COLUMN,
  type PlanView,
  type PreviewColumnType,
  type PreviewModel,
  type PreviewRestoreState,
  type TargetView,
} from './protocol';

export const GRID_ROWS = 200;
const MAX_EXAMPLES = 20;

export type SessionTarget = NonNullable<PreviewRestoreState['target']>;

export interface SessionSettings {
  batchSize: number;
  concurrency: number;
}

export interface SessionDeps {
  readonly accounts: Pick<SocrataAccounts<SodaClient>, 'getConnection' | 'list'>;
  readonly log: vscode.LogOutputChannel;
  readonly settings: () => SessionSettings;
}

function emptyPlan(): PlanView {
  return {
    state: 'idle',
    scannedRows: 0,
    scannedBytes: 0,
    explanation: undefined,
    toCreate: undefined,
    toUpdate: undefined,
    toDelete: undefined,
    problemCount: undefined,
    badRows: undefined,
    skipBadRows: false,
    blocked: false,
    warnings: [],
    message: undefined,
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isAbort(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown; kind?: unknown }).code ?? (e as { kind?: unknown }).kind;
  return e.name === 'AbortError' || code === 'ABORTED' || code === 'cancelled';
}

/**
 * One file's preview: load once, then every change (type, target, mode, dataset) updates the model and restarts
 * the background pass. `onDidChange` fires with the whole model; `onDidProblems` with the file's problems.
 */
export class PreviewSession implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly problemsEmitter = new vscode.EventEmitter<FileProblem[]>();
  readonly onDidProblems = this.problemsEmitter.event;

  private head: CsvHead | undefined;
  private client: SodaClient | undefined;
  private view: ViewMetadata | undefined;
  private target: SessionTarget | undefined;
  private mode: Mode;
  /** Explicit per CSV header; headers not here follow the automatic match. */
  private readonly mapping: Record<string, ColumnTarget>;
  /** Chosen type per CSV header. */
  private readonly types: Record<string, PreviewColumnType>;
  private chosenRowId: string | undefined;
  private skipBadRows = false;
  private plan: PlanView = emptyPlan();
  private report: ValidationReport | undefined;
  private rowsExact: number | undefined;
  private scan: AbortController | undefined;
  private scanDone: Promise<void> = Promise.resolve();
  /** The last load() or setTarget() (settled): while one runs, the target's client and view are being replaced. */
  private loaded: Promise<void> = Promise.resolve();
  private error: string | undefined;
  private busy: string | undefined;
  private lastResult: string | undefined;
  /** The plan of the last finished background pass (for the publish confirmation). */
  lastPlan: PublishPlan | undefined;

  constructor(
    private readonly deps: SessionDeps,
    readonly file: string,
    initial: Partial<Omit<PreviewRestoreState, 'version' | 'file'>> = {},
  ) {
    this.target = initial.target;
    this.mapping = { ...(initial.mapping ?? {}) };
    this.types = { ...(initial.types ?? {}) };
    this.mode = initial.mode ?? (initial.target && 'newName' in initial.target ? 'create' : 'upsert');
  }

  get currentTarget(): SessionTarget | undefined {
    return this.target;
  }

  get currentView(): ViewMetadata | undefined {
    return this.view;
  }

  get currentClient(): SodaClient | undefined {
    return this.client;
  }

  get currentMode(): Mode {
    return this.mode;
  }

  /** Reads the head and the target's metadata, then starts the background pass. */
  load(): Promise<void> {
    return this.whileLoading(this.loadNow());
  }

  private async loadNow(): Promise<void> {
    this.error = undefined;
    try {
      this.head = await readHead(this.file, { rows: GRID_ROWS });
      this.rowsExact = this.head.complete ? this.head.estimatedRowCount : undefined;
    } catch (e) {
      this.error = errorText(e);
      this.fire();
      return;
    }
    await this.loadTarget();
    this.restartScan();
  }

  private async loadTarget(): Promise<void> {
    this.view = undefined;
    this.client = undefined;
    const t = this.target;
    if (!t) return;
    try {
      const host = parseDomain(t.domain).host;
      const writable =
        'id' in t && !t.accountId
          ? await findWritableConnection(this.deps.accounts, host, t.id, { append: this.mode === 'append', log: this.deps.log })
          : undefined;
      const connection =
        writable?.connection ??
        (await this.deps.accounts.getConnection(host, { silent: false, ...('id' in t && t.accountId ? { accountId: t.accountId } : {}) }));
      if (!connection) throw new Error(vscode.l10n.t('Sign in to {0} to publish there (Socrata: Sign In with API Key).', host));
      this.client = connection.client;
      if ('id' in t) {
        this.view = writable?.view ?? (await connection.client.view(t.id));
        const rid = this.view.rowIdentifier;
        if (this.mode === 'create') this.mode = rid ? 'upsert' : 'append';
        if (!rid && (this.mode === 'upsert' || this.mode === 'sync' || this.mode === 'delete')) this.mode = 'append';
      } else {
        this.mode = 'create';
      }
    } catch (e) {
      this.error = errorText(e);
      this.deps.log.warn(`Preview of ${basename(this.file)}: ${this.error}`);
    }
  }

  setTarget(target: SessionTarget | undefined): Promise<void> {
    return this.whileLoading(this.setTargetNow(target));
  }

  private whileLoading(work: Promise<void>): Promise<void> {
    this.loaded = work.catch(() => undefined);
    return work;
  }

  private async setTargetNow(target: SessionTarget | undefined): Promise<void> {
    this.target = target;
    for (const k of Object.keys(this.mapping)) delete this.mapping[k];
    this.chosenRowId = undefined;
    if (target && 'newName' in target) this.mode = 'create';
    else if (this.mode === 'create') this.mode = 'upsert';
    this.error = undefined;
    await this.loadTarget();
    this.restartScan();
  }

  /**
   * After a create: the new dataset becomes the target, so publishing again updates it instead of creating another.
   * The mode becomes upsert when it has a row identifier, replace otherwise; the types chosen are kept.
   */
  async adoptCreated(target: SessionTarget & { id: string }): Promise<void> {
    this.target = target;
    for (const k of Object.keys(this.mapping)) delete this.mapping[k];
    this.chosenRowId = undefined;
    this.error = undefined;
    this.mode = 'create';
    await this.loadTarget();
    if (this.view) this.mode = this.view.rowIdentifier ? 'upsert' : 'replace';
    this.restartScan();
  }

  setMode(mode: Mode): void {
    if (mode === 'create' && !(this.target && 'newName' in this.target)) return;
    if (mode !== 'create' && this.target && 'newName' in this.target) return;
    this.mode = mode;
    this.restartScan();
  }

  setType(column: number, type: PreviewColumnType): void {
    const h = this.head?.header[column];
    if (h === undefined) return;
    this.types[h] = type;
    this.restartScan();
  }

  setColumnTarget(column: number, target: ColumnTarget): void {
    const h = this.head?.header[column];
    if (h === undefined) return;
    if (target !== null && target !== NEW_COLUMN && !this.fieldOptions().some((f) => f.fieldName === target)) return;
    this.mapping[h] = target;
    this.restartScan();
  }

  /** Publish the good rows and leave the rows with problems out (they go to the error-rows CSV). */
  setSkipBadRows(skip: boolean): void {
    this.skipBadRows = skip;
    this.restartScan();
  }

  setRowIdentifier(field: string | undefined): void {
    this.chosenRowId = field;
    this.restartScan();
  }

  private fieldOptions(): FieldOption[] {
    if (!this.view) return [];
    return this.view.columns.filter((c) => !c.fieldName.startsWith(':')).map((c) => ({ fieldName: c.fieldName, name: c.name, type: c.dataTypeName }));
  }

  private isNew(): boolean {
    return this.target !== undefined && 'newName' in this.target;
  }

  /** Per CSV column: target field (or NEW_COLUMN / null) and the match confidence. */
  private columnTargets(): { target: ColumnTarget; confidence: number | undefined }[] {
    const header = this.head?.header ?? [];
    if (!this.view) {
      return header.map((h) =>
        Object.prototype.hasOwnProperty.call(this.mapping, h)
          ? { target: this.mapping[h] ?? null, confidence: undefined }
          : { target: this.isNew() ? NEW_COLUMN : null, confidence: undefined },
      );
    }
    const matches = matchHeaders(header, this.fieldOptions(), 0.85);
    return header.map((h, i) => {
      if (Object.prototype.hasOwnProperty.call(this.mapping, h)) return { target: this.mapping[h] ?? null, confidence: undefined };
      const m = matches[i];
      return { target: m?.fieldName ?? null, confidence: m?.fieldName !== undefined ? m.confidence : undefined };
    });
  }

  /** The field a column becomes (existing field, or the normalised header for a new dataset). */
  private fieldNameOf(index: number, target: ColumnTarget): string | undefined {
    if (target === null) return undefined;
    if (target === NEW_COLUMN) return normaliseFieldName(this.head?.header[index] ?? '');
    return target;
  }

  private typeOf(index: number, target: ColumnTarget): { type: ColumnType; changed: boolean } {
    const h = this.head?.header[index] ?? '';
    const chosen = this.types[h];
    const f = target !== null && target !== NEW_COLUMN ? this.fieldOptions().find((o) => o.fieldName === target) : undefined;
    const own = f ? columnTypeOf(f.type) : undefined;
    // An existing field's cells are checked as the server checks them: by its own type, whatever is chosen (the
    // plan refuses a choice the server would refuse). Any type fits a text field; number and double are both numbers.
    const numeric = (t: string): string => (t === 'double' ? 'number' : t);
    if (chosen && own !== undefined && own !== 'text' && own !== 'unsupported' && numeric(chosen) !== numeric(own)) return { type: own, changed: true };
    if (chosen) return { type: chosen, changed: true };
    if (own !== undefined) return { type: own, changed: false };
    return { type: this.head?.columns[index]?.type ?? 'text', changed: false };
  }

  rowIdentifier(): string | undefined {
    if (this.view) return this.view.rowIdentifier;
    return this.chosenRowId;
  }

  /** The publish request this preview describes; undefined while there is no target. */
  request(): PublishRequest | undefined {
    const t = this.target;
    if (!t || !this.head) return undefined;
    const s = this.deps.settings();
    const targets = this.columnTargets();
    const mapping: Record<string, string | null> = {};
    const types: Record<string, ColumnType> = {};
    this.head.header.forEach((h, i) => {
      const target = targets[i]?.target ?? null;
      if (Object.prototype.hasOwnProperty.call(this.mapping, h) || (this.view && target === null)) {
        mapping[h] = target === NEW_COLUMN ? normaliseFieldName(h) : target;
      }
      const field = this.fieldNameOf(i, target);
      const chosen = this.types[h];
      if (field !== undefined && chosen) types[field] = chosen;
    });
    const req: PublishRequest = { file: this.file, mode: this.mode, batchSize: s.batchSize, concurrency: s.concurrency };
    if ('id' in t) req.dataset = t.id;
    else req.newDataset = { name: t.newName, ...(t.description ? { description: t.description } : {}), permission: t.permission ?? 'private' };
    if (Object.keys(mapping).length > 0) req.mapping = mapping;
    if (Object.keys(types).length > 0) req.types = types;
    const rid = this.rowIdentifier();
    if (rid !== undefined && 'newName' in t) req.rowIdentifier = rid;
    if (this.skipBadRows) req.skipBadRows = true;
    return req;
  }

  restoreState(): PreviewRestoreState {
    return { version: 1, file: this.file, target: this.target, mode: this.mode, mapping: { ...this.mapping }, types: { ...this.types } };
  }

  /** Resolves when no load() or setTarget() is running (one started meanwhile is waited for too). */
  async whenLoaded(): Promise<void> {
    for (let loading = this.loaded; ; loading = this.loaded) {
      await loading;
      if (loading === this.loaded) return;
    }
  }

  /** Resolves when the current background pass has finished (or was replaced by a newer one that finished). */
  async whenScanned(): Promise<void> {
    // A reload started meanwhile (the file changed on disk) first clears the target's client, then scans again:
    // wait for it too, so an action never sees the gap.
    for (;;) {
      const loading = this.loaded;
      await this.whenLoaded();
      const current = this.scanDone;
      await current;
      if (loading === this.loaded && current === this.scanDone) return;
    }
  }

  private restartScan(): void {
    this.scan?.abort();
    this.lastPlan = undefined;
    if (!this.head || this.error !== undefined) {
      this.plan = emptyPlan();
      this.fire();
      return;
    }
    const abort = new AbortController();
    this.scan = abort;
    this.plan = { ...emptyPlan(), skipBadRows: this.skipBadRows, state: 'running' };
    this.fire();
    this.scanDone = this.runScan(abort.signal).catch((e: unknown) => {
      if (abort.signal.aborted || isAbort(e)) return;
      this.plan = { ...this.plan, state: 'error', message: errorText(e) };
      this.deps.log.warn(`Preview of ${basename(this.file)}: ${errorText(e)}`);
      this.fire();
    });
  }

  private async runScan(signal: AbortSignal): Promise<void> {
    const head = this.head;
    if (!head) return;
    const targets = this.columnTargets();
    const schema: DatasetSchema = { columns: [] };
    const mapping: (string | null)[] = [];
    head.header.forEach((h, i) => {
      const target = targets[i]?.target ?? null;
      const field = this.fieldNameOf(i, target);
      mapping.push(field ?? null);
      if (field !== undefined) schema.columns.push({ fieldName: field, name: h, dataTypeName: this.typeOf(i, target).type });
    });
    const rid = this.rowIdentifier();
    if (rid !== undefined) schema.rowIdentifier = rid;
    const report = await validateFile(this.file, schema, {
      mapping,
      signal,
      maxExamples: MAX_EXAMPLES,
      confirmTypes: false,
      onProgress: (p) => {
        this.plan = { ...this.plan, scannedRows: p.rows, scannedBytes: p.bytesRead };
        this.fire('plan');
      },
    });
    if (signal.aborted) return;
    this.report = report;
    this.rowsExact = report.rows;
    const problems = problemsOf(report);
    this.problemsEmitter.fire(problems);
    // Then again with each cell problem pointing at its field (reads the file up to the last problem's line).
    void withCellSpans(problems, report, signal).then((located) => {
      if (!signal.aborted && located.some((p) => p.span)) this.problemsEmitter.fire(located);
    });
    this.plan = { ...this.plan, problemCount: report.problemCount, blocked: report.problemCount > 0 && !this.skipBadRows, scannedRows: report.rows };
    this.fire();
    const req = this.request();
    if (!req || !this.client) {
      this.plan = {
        ...this.plan,
        state: 'ready',
        message: this.target ? undefined : vscode.l10n.t('Choose a dataset (or a new one) to see what a publish would do.'),
      };
      this.fire();
      return;
    }
    const plan = await planPublish(this.client, req, { signal });
    if (signal.aborted) return;
    this.lastPlan = plan;
    this.plan = {
      ...this.plan,
      state: 'ready',
      explanation: plan.explanation,
      // A create or replace goes through a revision, whose plan reads only the head; the preview's own check read
      // every row, so when it found no problem, every row of the file is created.
      toCreate: plan.counts.toCreate ?? (plan.route === 'revision' && report.problemCount === 0 ? report.rows : undefined),
      toUpdate: plan.counts.toUpdate,
      toDelete: plan.counts.toDelete,
      problemCount: Math.max(plan.problemCount, report.problemCount),
      badRows: plan.badRows,
      blocked: plan.blocked,
      warnings: plan.warnings,
      message: undefined,
    };
    this.fire();
  }

  private targetView(): TargetView {
    const t = this.target;
    if (!t) return { kind: 'none' };
    if ('newName' in t) return { kind: 'new', domain: t.domain, name: t.newName, description: t.description, permission: t.permission ?? 'private' };
    const view = this.view;
    let url = '';
    try {
      url = new URL(`/d/${t.id}`, parseDomain(t.domain).origin).toString();
    } catch {
      url = '';
    }
    return {
      kind: 'existing',
      domain: t.domain,
      id: t.id,
      name: view?.name ?? t.id,
      isPublic: view?.isPublic,
      rowIdentifier: view?.rowIdentifier,
      fields: this.fieldOptions(),
      url,
    };
  }

  model(): PreviewModel | undefined {
    const head = this.head;
    if (!head) {
      return {
        file: { name: basename(this.file), path: this.file, size: 0, encoding: '', delimiter: '', rowsEstimated: 0, rowsExact: undefined },
        grid: { header: [], rows: [] },
        columns: [],
        target: this.targetView(),
        mode: this.mode,
        rowIdentifier: undefined,
        plan: this.plan,
        busy: this.busy,
        lastResult: this.lastResult,
        error: this.error ?? vscode.l10n.t('Loading…'),
      };
    }
    const targets = this.columnTargets();
    const columns: ColumnView[] = head.header.map((h, i) => {
      const t = targets[i] ?? { target: null, confidence: undefined };
      const { type, changed } = this.typeOf(i, t.target);
      const inferred = head.columns[i];
      const field = this.fieldNameOf(i, t.target);
      const rep = this.report?.columns.find((c) => c.csvIndex === i);
      const ridRep = this.report?.rowIdentifier && field === this.report.rowIdentifier.fieldName ? this.report.rowIdentifier : undefined;
      const examples = [...(rep?.invalid.examples ?? []), ...(ridRep?.empty.examples ?? []), ...(ridRep?.duplicates.examples ?? [])]
        .slice(0, 3)
        .map((e) => ({ line: e.line, column: e.column, text: vscode.l10n.t('line {0}: {1}', e.line, e.message) }));
      return {
        index: i,
        header: h,
        inferredType: inferred?.type ?? 'text',
        type,
        typeChanged: changed,
        target: t.target,
        confidence: t.confidence,
        nullShare: inferred?.nullShare ?? 0,
        problems: (rep?.invalid.count ?? 0) + (ridRep ? ridRep.empty.count + ridRep.duplicates.count : 0),
        examples,
      };
    });
    return {
      file: {
        name: basename(this.file),
        path: this.file,
        size: head.format.fileSize,
        encoding: head.format.encoding,
        delimiter: head.format.delimiter,
        rowsEstimated: head.estimatedRowCount,
        rowsExact: this.rowsExact,
      },
      grid: { header: head.header, rows: head.rows.map((r) => ({ line: r.line, fields: r.fields })) },
      columns,
      target: this.targetView(),
      mode: this.mode,
      rowIdentifier: this.rowIdentifier(),
      plan: this.plan,
      busy: this.busy,
      lastResult: this.lastResult,
      error: this.error,
    };
  }

  /** A compact summary for callers (commands return it; tests read it). */
  summary(): {
    file: string;
    target: SessionTarget | undefined;
    mode: Mode;
    rows: number | undefined;
    problems: number | undefined;
    columns: { header: string; type: string; inferredType: string; target: ColumnTarget; problems: number }[];
    plan: PlanView;
    error: string | undefined;
  } {
    const m = this.model();
    return {
      file: this.file,
      target: this.target,
      mode: this.mode,
      rows: this.rowsExact,
      problems: this.plan.problemCount,
      columns: (m?.columns ?? []).map((c) => ({ header: c.header, type: c.type, inferredType: c.inferredType, target: c.target, problems: c.problems })),
      plan: this.plan,
      error: this.error,
    };
  }

  private planTimer: ReturnType<typeof setTimeout> | undefined;

  /** A dry run or publish started: the app shows `label` until `endAction`. */
  beginAction(label: string): void {
    this.busy = label;
    this.fire();
  }

  /** The outcome of the last dry run or publish, shown in the preview. */
  recordResult(message: string): void {
    this.lastResult = message;
  }

  /** The dry run or publish ended (done, failed or cancelled). */
  endAction(): void {
    this.busy = undefined;
    this.fire();
  }

  /** `plan` changes (scan progress) are throttled; everything else is sent at once. */
  fire(kind: 'all' | 'plan' = 'all'): void {
    if (kind === 'plan') {
      this.planTimer ??= setTimeout(() => {
        this.planTimer = undefined;
        this.changed.fire();
      }, 200);
      return;
    }
    this.changed.fire();
  }

  dispose(): void {
    this.scan?.abort();
    if (this.planTimer) clearTimeout(this.planTimer);
    this.changed.dispose();
    this.problemsEmitter.dispose();
  }
}
