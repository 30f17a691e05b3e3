// Running a publish (or a dry run) in VS Code: plan inside a cancellable progress notification, ask before a
// destructive mode touches a public dataset, execute with progress in rows, bytes/s and ETA, show the result with
// its buttons, and log a summary. A cancel is not an error: the journal keeps what was applied, and publishing the
// same file again resumes.
// Why one file: the steps of one publish in VS Code (plan, confirm, execute, report) and the small
// text helpers they show; the engine work itself is in src/publish.
import { basename, sep } from 'node:path';
import * as vscode from 'vscode';
import {
  disposePlan,
  emptyResult,
  executePublish,
  isPublishError,
  planPublish,
  type PublishPlan,
  type PublishProgress,
  type PublishRequest,
  type PublishResult,
  type PublishStage,
} from '../publish';
import type { SodaClient } from '../soda/client';
import { parseDomain } from '../soda/domain';
import type { PublishStatus } from './status';
import { DESTRUCTIVE_MODES, type Mode } from './protocol';
import { ExpectedError } from '../ui/boundary';

/** Context key: true while a publish runs (enables "Socrata: Cancel Publish"). */
export const PUBLISHING_CONTEXT = 'socrata.publishing';

export const PublishSettingKeys = {
  batchSize: 'publish.batchSize',
  concurrency: 'publish.concurrency',
  confirmDestructive: 'publish.confirmDestructive',
  defaultDomain: 'defaultDomain',
} as const;

export interface PublishSettings {
  batchSize: number;
  concurrency: number;
  confirmDestructive: boolean;
  defaultDomain: string;
}

function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fallback;
}

export function readPublishSettings(): PublishSettings {
  const c = vscode.workspace.getConfiguration('socrata');
  return {
    batchSize: clampInt(c.get(PublishSettingKeys.batchSize), 1, 100_000, 10_000),
    concurrency: clampInt(c.get(PublishSettingKeys.concurrency), 1, 8, 3),
    confirmDestructive: c.get<boolean>(PublishSettingKeys.confirmDestructive) !== false,
    defaultDomain: c.get<string>(PublishSettingKeys.defaultDomain) ?? '',
  };
}

/** `12 000` */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US').replace(/,/g, '\u2009');
}

function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1024 * 1024) return `${(bytesPerSecond / (1024 * 1024)).toFixed(bytesPerSecond >= 10 * 1024 * 1024 ? 0 : 1)} MB/s`;
  return `${Math.round(bytesPerSecond / 1024)} KB/s`;
}

function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** "12 000 / 1 000 000 rows · 48 MB/s · ETA 0:21" */
export function formatProgress(p: PublishProgress, elapsedMs: number): string {
  const parts = [rowsDone(p)];
  if (elapsedMs > 0 && p.bytesDone > 0) parts.push(formatRate((p.bytesDone / elapsedMs) * 1000));
  if (p.etaSeconds !== undefined) parts.push(vscode.l10n.t('ETA {0}', formatEta(p.etaSeconds)));
  return parts.join(' · ');
}

/** "12 000 / 1 000 000 rows", or "12 000 rows" when the total is not known. */
function rowsDone(p: PublishProgress): string {
  return p.rowsTotal !== undefined
    ? vscode.l10n.t('{0} / {1} rows', formatCount(p.rowsDone), formatCount(p.rowsTotal))
    : vscode.l10n.t('{0} rows', formatCount(p.rowsDone));
}

/** A stage of the publish, for the progress notification (sending and reading show the counts alone). */
function stageText(stage: PublishStage): string {
  switch (stage) {
    case 'planning':
      return vscode.l10n.t('planning…');
    case 'reading':
      return vscode.l10n.t('reading…');
    case 'sending':
      return vscode.l10n.t('sending…');
    case 'deleting':
      return vscode.l10n.t('deleting…');
    case 'uploading':
      return vscode.l10n.t('uploading…');
    case 'processing':
      return vscode.l10n.t('processing…');
    case 'applying':
      return vscode.l10n.t('applying…');
    case 'done':
      return vscode.l10n.t('done…');
  }
}

export interface PublishJob {
  readonly client: SodaClient;
  readonly request: PublishRequest;
  readonly dryRun: boolean;
  /** The dataset is public (asked from the server when undefined and the mode is destructive). */
  readonly isPublic?: boolean | undefined;
  /** Already confirmed by the caller (automation): no modal. */
  readonly confirmed?: boolean;
  /** The problems the preview shows (cells, short rows, ids), so the dry run counts the same ones. */
  readonly problems?: number | undefined;
  /** Offered as "Resume" after a cancel (publishing the same file again skips what was applied). */
  readonly resume?: (() => void) | undefined;
}

/** What the commands return: the result without the plan's bulky parts. */
export interface PublishOutcome {
  status: PublishResult['status'] | 'declined';
  message: string;
  domain: string;
  dataset: string | undefined;
  mode: Mode;
  rows: number | undefined;
  created: number;
  updated: number;
  deleted: number;
  errors: number;
  problems: number | undefined;
  errorRowsFile: string | undefined;
  resume: PublishResult['resume'];
  appliedRanges: PublishResult['appliedRanges'];
  plannedCounts: PublishPlan['counts'] | undefined;
}

function outcomeOf(result: PublishResult, domain: string, request: PublishRequest): PublishOutcome {
  return {
    status: result.status,
    message: result.message,
    domain,
    dataset: result.dataset ?? result.plan?.dataset ?? request.dataset,
    mode: request.mode,
    rows: result.plan?.rows,
    created: result.created,
    updated: result.updated,
    deleted: result.deleted,
    errors: result.errors,
    problems: result.plan?.problemCount,
    errorRowsFile: result.errorRowsFile,
    resume: result.resume,
    appliedRanges: result.appliedRanges,
    plannedCounts: result.plan?.counts,
  };
}

/** The modal text for a destructive mode on a public dataset: names the dataset and the row counts. */
export function confirmationText(plan: PublishPlan): { message: string; detail: string; button: string } {
  const name = vscode.l10n.t('"{0}" ({1}) on {2}', plan.datasetName ?? plan.dataset ?? '', plan.dataset ?? vscode.l10n.t('new'), plan.domain);
  const c = plan.counts;
  const n = (v: number | undefined) => (v === undefined ? vscode.l10n.t('an unknown number of') : formatCount(v));
  const file = basename(plan.file.path);
  switch (plan.mode) {
    case 'replace':
      return {
        message: vscode.l10n.t('Replace every row of the public dataset {0}?', name),
        // The revision route reads only the head of the file: its row count is then not known here.
        detail:
          (c.toCreate ?? c.toSend) === undefined
            ? vscode.l10n.t('Its {0} rows are replaced by the rows of {1}. Everyone sees the change at once.', n(c.remoteBefore), file)
            : vscode.l10n.t(
                'Its {0} rows are replaced by the {1} rows of {2}. Everyone sees the change at once.',
                n(c.remoteBefore),
                n(c.toCreate ?? c.toSend),
                file,
              ),
        button: vscode.l10n.t('Replace All Rows'),
      };
    case 'delete':
      return {
        message: vscode.l10n.t('Delete rows from the public dataset {0}?', name),
        detail: c.notFound
          ? vscode.l10n.t('{0} rows listed in {1} are deleted ({2} listed ids are not in the dataset).', n(c.toDelete), file, formatCount(c.notFound))
          : vscode.l10n.t('{0} rows listed in {1} are deleted.', n(c.toDelete), file),
        button: vscode.l10n.t('Delete Rows'),
      };
    default:
      return {
        message: vscode.l10n.t('Sync the public dataset {0} with {1}?', name, file),
        detail: vscode.l10n.t(
          '{0} rows are created, {1} updated and {2} rows that are not in the file are deleted ({3} rows before, {4} after).',
          n(c.toCreate),
          n(c.toUpdate),
          n(c.toDelete),
          n(c.remoteBefore),
          n(c.remoteAfter),
        ),
        button: vscode.l10n.t('Sync and Delete'),
      };
  }
}

/** "9 problems in 3 rows: …": what is counted is said, and the problems are the ones the preview shows. */
export function problemsText(plan: PublishPlan, previewProblems: number | undefined): string {
  const rows = plan.badRows ?? plan.problemCount;
  if (rows === 0 && !previewProblems) return '';
  const problems = Math.max(previewProblems ?? 0, plan.problemCount);
  const what = vscode.l10n.t(
    '{0} in {1}',
    problems === 1 ? vscode.l10n.t('1 problem') : vscode.l10n.t('{0} problems', formatCount(problems)),
    rows === 1 ? vscode.l10n.t('1 row') : vscode.l10n.t('{0} rows', formatCount(rows)),
  );
  if (plan.blocked) return ` ${vscode.l10n.t('{0}: a publish would be refused until they are fixed (or choose to skip the rows with problems).', what)}`;
  return ` ${
    rows === 1
      ? vscode.l10n.t('{0}: the 1 row with problems is skipped.', what)
      : vscode.l10n.t('{0}: the {1} rows with problems are skipped.', what, formatCount(rows))
  }`;
}

/** Paths inside the workspace shown relative to it (the log keeps them whole). */
export function workspaceRelative(text: string): string {
  let out = text;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const prefix = `${folder.uri.fsPath}${sep}`;
    const name = (vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? `${folder.name}${sep}` : '';
    out = out.split(prefix).join(name);
  }
  return out;
}

export class PublishRunner implements vscode.Disposable {
  private current: { abort: AbortController; label: string } | undefined;
  /** Fires after every finished publish or dry run (the preview shows the last result). */
  private readonly finished = new vscode.EventEmitter<PublishOutcome>();
  readonly onDidFinish = this.finished.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly status: PublishStatus,
    private readonly journalDir: () => string | undefined,
  ) {}

  get running(): string | undefined {
    return this.current?.label;
  }

  /** Cancels the running publish; false when none runs. */
  cancel(): boolean {
    if (!this.current) return false;
    this.log.info(`Cancel requested: ${this.current.label}`);
    this.current.abort.abort();
    return true;
  }

  /** Plans, confirms when needed, executes. Undefined when the person declined the confirmation. */
  async run(job: PublishJob): Promise<PublishOutcome> {
    if (this.current) throw new ExpectedError(vscode.l10n.t('A publish is already running ({0}). Wait for it, or cancel it first.', this.current.label));
    const domain = job.client.domain.host;
    const fileName = basename(job.request.file);
    const label = `${fileName} → ${job.request.dataset ?? job.request.newDataset?.name ?? vscode.l10n.t('new dataset')} (${job.request.mode})`;
    const abort = new AbortController();
    this.current = { abort, label };
    void vscode.commands.executeCommand('setContext', PUBLISHING_CONTEXT, true);
    let plan: PublishPlan | undefined;
    try {
      plan = await this.planWithProgress(job, abort, label);
      if (plan === undefined) return this.report(this.cancelledResult(), domain, job.request, job.dryRun);
      if (job.dryRun) {
        const r = this.emptyResult(plan);
        r.status = 'dry-run';
        r.message = vscode.l10n.t('Dry run: nothing was sent. {0} {1}{2}', plan.explanation, this.countsText(plan), problemsText(plan, job.problems));
        return this.report(r, domain, job.request, true);
      }
      if (!(await this.confirm(job, plan))) {
        this.log.info(`Publish declined at the confirmation: ${label}`);
        return {
          ...outcomeOf(this.emptyResult(plan), domain, job.request),
          status: 'declined',
          message: vscode.l10n.t('Nothing was sent: the publish was not confirmed.'),
        };
      }
      const result = await this.executeWithProgress(job, plan, abort, label);
      return this.report(result, domain, job.request, false, job.resume);
    } finally {
      // A plan not executed (dry run, declined, failed) still holds its spooled request bodies on disk.
      if (plan !== undefined) await disposePlan(plan);
      this.current = undefined;
      this.status.hide();
      void vscode.commands.executeCommand('setContext', PUBLISHING_CONTEXT, false);
    }
  }

  private async planWithProgress(job: PublishJob, abort: AbortController, label: string): Promise<PublishPlan | undefined> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Socrata: checking {0}', basename(job.request.file)), cancellable: true },
      async (progress, token) => {
        const sub = token.onCancellationRequested(() => abort.abort());
        this.status.show(vscode.l10n.t('checking {0}', basename(job.request.file)), label);
        let last = 0;
        try {
          return await planPublish(job.client, job.request, {
            signal: abort.signal,
            // One pass: the scan spools the request bodies it builds; the execution sends them without a second read.
            spool: !job.dryRun,
            onScan: (rows, bytes, size) => {
              const pct = size > 0 ? (bytes / size) * 100 : 0;
              progress.report({ message: vscode.l10n.t('{0} rows read', formatCount(rows)), increment: pct - last });
              last = pct;
            },
          });
        } catch (e) {
          if (abort.signal.aborted) return undefined;
          if (isPublishError(e)) throw new ExpectedError(e.message);
          throw e;
        } finally {
          sub.dispose();
        }
      },
    );
  }

  private async confirm(job: PublishJob, plan: PublishPlan): Promise<boolean> {
    if (job.confirmed) return true;
    if (!(DESTRUCTIVE_MODES as readonly string[]).includes(plan.mode)) return true;
    if (!readPublishSettings().confirmDestructive) return true;
    let pub = job.isPublic;
    if (pub === undefined && plan.dataset) {
      try {
        pub = (await job.client.view(plan.dataset)).isPublic;
      } catch {
        pub = undefined;
      }
    }
    // Unknown visibility is treated like public: better one question too many.
    if (pub === false) return true;
    const text = confirmationText(plan);
    const choice = await vscode.window.showWarningMessage(text.message, { modal: true, detail: text.detail }, text.button);
    return choice === text.button;
  }

  private async executeWithProgress(job: PublishJob, plan: PublishPlan, abort: AbortController, label: string): Promise<PublishResult> {
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Socrata: publishing {0} to {1}', basename(plan.file.path), plan.datasetName ?? plan.dataset ?? vscode.l10n.t('a new dataset')),
        cancellable: true,
      },
      async (progress, token) => {
        const sub = token.onCancellationRequested(() => abort.abort());
        const started = Date.now();
        let lastPct = 0;
        try {
          return await executePublish(job.client, plan, {
            signal: abort.signal,
            journalDir: this.journalDir(),
            onProgress: (p) => {
              const text = formatProgress(p, Date.now() - started);
              const pct = p.rowsTotal ? (p.rowsDone / p.rowsTotal) * 100 : p.bytesTotal > 0 ? (p.bytesDone / p.bytesTotal) * 100 : 0;
              progress.report({
                message: p.stage === 'sending' || p.stage === 'reading' ? text : `${stageText(p.stage)} ${text}`,
                increment: Math.max(0, pct - lastPct),
              });
              lastPct = Math.max(lastPct, pct);
              this.status.show(`${basename(plan.file.path)} ${rowsDone(p)}`, label);
            },
          });
        } finally {
          sub.dispose();
        }
      },
    );
  }

  /** The result of a publish that sent nothing (a dry run, or a publish not confirmed). */
  private emptyResult(plan: PublishPlan | undefined): PublishResult {
    return { ...emptyResult(plan, Date.now()), status: 'dry-run', elapsedMs: 0 };
  }

  private cancelledResult(): PublishResult {
    const r = this.emptyResult(undefined);
    r.status = 'cancelled';
    r.message = vscode.l10n.t('Cancelled while checking the file; nothing was sent.');
    return r;
  }

  private countsText(plan: PublishPlan): string {
    const c = plan.counts;
    const parts: string[] = [];
    if (plan.rows !== undefined) parts.push(vscode.l10n.t('{0} rows in the file', formatCount(plan.rows)));
    if (c.toCreate !== undefined) parts.push(vscode.l10n.t('{0} to create', formatCount(c.toCreate)));
    if (c.toUpdate !== undefined) parts.push(vscode.l10n.t('{0} to update', formatCount(c.toUpdate)));
    if (c.toDelete !== undefined) parts.push(vscode.l10n.t('{0} to delete', formatCount(c.toDelete)));
    return parts.length ? `${parts.join(', ')}.` : '';
  }

  private report(result: PublishResult, domain: string, request: PublishRequest, dryRun: boolean, resume?: () => void): PublishOutcome {
    const outcome = outcomeOf(result, domain, request);
    outcome.message = workspaceRelative(result.message);
    const where = `${domain}/${outcome.dataset ?? 'new'}`;
    const counts = `created ${result.created}, updated ${result.updated}, deleted ${result.deleted}, errors ${result.errors}`;
    const line = `${dryRun ? 'Dry run' : 'Publish'} ${basename(request.file)} → ${where} (${request.mode}): ${result.status}; ${counts}; ${(result.elapsedMs / 1000).toFixed(1)} s${result.resume ? `; ${result.resume.status} (${result.resume.skippedRows} rows skipped: ${result.resume.reason})` : ''}${result.requestIds.length ? `; last request id ${result.requestIds[result.requestIds.length - 1] ?? ''}` : ''}`;
    if (result.status === 'failed' || result.status === 'partial' || result.status === 'refused') this.log.warn(`${line}. ${result.message}`);
    else this.log.info(line);
    // Walkthrough steps complete on these context keys.
    if (dryRun) void vscode.commands.executeCommand('setContext', 'socrata.didDryRun', true);
    else if (result.status === 'success' || result.status === 'partial') void vscode.commands.executeCommand('setContext', 'socrata.didPublish', true);
    this.finished.fire(outcome);
    void this.notify(result, outcome, domain, resume);
    return outcome;
  }

  private async notify(result: PublishResult, outcome: PublishOutcome, domain: string, resume: (() => void) | undefined): Promise<void> {
    const buttons: string[] = [];
    const resumeButton = vscode.l10n.t('Resume');
    // A cancel kept a journal of what was applied: publishing again resumes after it.
    if (result.status === 'cancelled' && resume && /resumes/.test(result.message)) buttons.push(resumeButton);
    const open = vscode.l10n.t('Open Dataset');
    const errors = vscode.l10n.t('Show Error Rows');
    const showLog = vscode.l10n.t('Show Log');
    if (outcome.dataset && result.status !== 'refused') buttons.push(open);
    if (result.errorRowsFile) buttons.push(errors);
    buttons.push(showLog);
    const text =
      result.status === 'cancelled' ? vscode.l10n.t('Socrata: publish cancelled. {0}', outcome.message) : vscode.l10n.t('Socrata: {0}', outcome.message);
    const show =
      result.status === 'failed' || result.status === 'refused'
        ? vscode.window.showErrorMessage
        : result.status === 'partial'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    const choice = await show(text, ...buttons);
    if (choice === resumeButton && resume) {
      resume();
    } else if (choice === open && outcome.dataset) {
      await vscode.env.openExternal(vscode.Uri.parse(new URL(`/d/${outcome.dataset}`, parseDomain(domain).origin).toString()));
    } else if (choice === errors && result.errorRowsFile) {
      await vscode.window.showTextDocument(vscode.Uri.file(result.errorRowsFile));
    } else if (choice === showLog) {
      this.log.show(true);
    }
  }

  dispose(): void {
    this.current?.abort.abort();
    this.finished.dispose();
  }
}
