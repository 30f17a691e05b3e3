// The publish flow's commands: Explorer right-click ("Publish to Socrata…", "Preview as Socrata Import"), the palette
// ("Socrata: Publish CSV…", "Socrata: Publish Again", "Socrata: Cancel Publish") and the dataset tree ("Publish CSV
// to This Dataset…"). Handlers are thin: each resolves its inputs (asking only for what is missing) and hands over to
// the preview or the runner. Every command also takes an argument object, so keybindings, other extensions and the
// tests can run it without dialogs.
// Why one file for now: every entry point resolves the same inputs (file, spec, target) through
// the state kept here (remembered targets, the last publish). The publish-spec handling (specFor, saveSpec,
// retargetSpec) is the part that could move out next.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import * as vscode from 'vscode';
import { findWritableConnection, type SocrataAccounts } from '../accounts';
import { loadSpec, parseSpec, type LoadedSpec, type PublishRequest, type PublishSpec } from '../publish';
import type { SodaClient } from '../soda/client';
import { isValid4x4, parseDomain } from '../soda/domain';
import { pickDataset, targetOf } from '../datasets';
import { PreviewPanel, type PreviewActions } from './panel';
import {
  type ColumnTarget,
  isColumnTarget,
  isColumnType,
  isMode,
  isRestoreState,
  type Mode,
  PREVIEW_VIEW_TYPE,
  type PreviewAction,
  type PreviewColumnType,
  type PreviewRestoreState,
} from './protocol';
import { PreviewSession, type SessionTarget } from './session';
import { type CommandBoundary, ExpectedError, UserCancelledError } from '../ui/boundary';
import { type PublishOutcome, type PublishRunner, readPublishSettings } from './runner';

export const PublishCommands = {
  /** Explorer context menu: "Publish to Socrata…". */
  publishFile: 'socrata.csv.publish',
  /** Explorer context menu, editor title and palette: "Preview as Socrata Import". */
  preview: 'socrata.csv.preview',
  /** Palette: "Socrata: Publish CSV…" (pick the file, then the target). */
  publishCsv: 'socrata.publishCsv',
  publishAgain: 'socrata.publishAgain',
  /** Dataset tree: "Publish CSV to This Dataset…". */
  publishToDataset: 'socrata.dataset.publishCsv',
  cancel: 'socrata.publish.cancel',
} as const;

const LAST_PUBLISH_KEY = 'socrata.lastPublish';
const PREVIEW_TARGETS_KEY = 'socrata.previewTargets';
const SPEC_GLOB = '**/{socrata.publish.json,*.socrata.json}';

/** The argument object every flow command accepts (all optional). */
export interface PublishCommandArgs {
  file?: string;
  domain?: string;
  dataset?: string;
  accountId?: string;
  newDataset?: { name: string; description?: string; permission?: 'public' | 'private' };
  mode?: Mode;
  mapping?: Record<string, ColumnTarget>;
  types?: Record<string, PreviewColumnType>;
  /** Run a button's action once the background pass is done: the command then returns its outcome. */
  run?: 'dryRun' | 'publish';
  /** Skip the confirmation of destructive modes (automation that has already asked). */
  confirmed?: boolean;
  /** Publish Again: the spec file to run. */
  spec?: string;
  /** Publish Again: the last publish, without asking (what "Resume" after a cancel runs). */
  last?: boolean;
}

export interface FlowResult {
  file: string;
  preview: ReturnType<PreviewSession['summary']>;
  outcome: PublishOutcome | undefined;
}

type LastPublish = { kind: 'spec'; path: string } | { kind: 'request'; domain: string; request: PublishRequest };

export interface PublishFlowDeps {
  readonly context: vscode.ExtensionContext;
  readonly accounts: SocrataAccounts<SodaClient>;
  readonly log: vscode.LogOutputChannel;
  readonly boundary: CommandBoundary;
  readonly runner: PublishRunner;
  readonly diagnostics: vscode.DiagnosticCollection;
}

function isArgs(v: unknown): v is PublishCommandArgs {
  return typeof v === 'object' && v !== null && !(v instanceof vscode.Uri) && !Array.isArray(v);
}

/** Checks an argument object field by field; a bad one is an error naming the field. */
function checkArgs(a: PublishCommandArgs): PublishCommandArgs {
  const bad = (field: string, why: string): never => {
    throw new ExpectedError(vscode.l10n.t('Argument {0}: {1}.', field, why));
  };
  if (a.file !== undefined && typeof a.file !== 'string') bad('file', vscode.l10n.t('must be a path'));
  if (a.domain !== undefined) {
    if (typeof a.domain !== 'string') bad('domain', vscode.l10n.t('must be a domain such as data.city.gov'));
    parseDomain(a.domain);
  }
  if (a.dataset !== undefined && (typeof a.dataset !== 'string' || !isValid4x4(a.dataset))) bad('dataset', vscode.l10n.t('must be a 4x4 id such as abcd-1234'));
  if (a.mode !== undefined && !isMode(a.mode)) bad('mode', vscode.l10n.t('must be one of upsert, append, replace, delete, sync, create'));
  if (a.newDataset !== undefined && (typeof a.newDataset !== 'object' || typeof a.newDataset.name !== 'string' || a.newDataset.name.trim() === '')) {
    bad('newDataset.name', vscode.l10n.t('is required'));
  }
  if (a.newDataset?.permission !== undefined && a.newDataset.permission !== 'public' && a.newDataset.permission !== 'private') {
    bad('newDataset.permission', vscode.l10n.t('must be public or private'));
  }
  if (a.mapping !== undefined && !Object.values(a.mapping).every(isColumnTarget)) bad('mapping', vscode.l10n.t('values must be field names or null'));
  if (a.types !== undefined && !Object.values(a.types).every(isColumnType)) bad('types', vscode.l10n.t('values must be column types such as text or number'));
  if (a.run !== undefined && a.run !== 'dryRun' && a.run !== 'publish') bad('run', vscode.l10n.t('must be dryRun or publish'));
  if (a.last !== undefined && typeof a.last !== 'boolean') bad('last', vscode.l10n.t('must be true or false'));
  return a;
}

export class PublishFlow {
  private readonly panels = new Map<string, PreviewPanel>();

  constructor(private readonly deps: PublishFlowDeps) {}

  get openPreviews(): readonly PreviewPanel[] {
    return [...this.panels.values()];
  }

  register(): vscode.Disposable[] {
    const b = this.deps.boundary;
    return [
      b.register(PublishCommands.publishFile, (a0, a1) => this.publishFile(a0, a1, true)),
      b.register(PublishCommands.publishCsv, (a0, a1) => this.publishFile(a0, a1, true)),
      b.register(PublishCommands.preview, (a0, a1) => this.publishFile(a0, a1, false)),
      b.register(PublishCommands.publishToDataset, (a0, a1) => this.publishToDataset(a0, a1)),
      b.register(PublishCommands.publishAgain, (a0) => this.publishAgain(a0)),
      b.register(PublishCommands.cancel, () => this.deps.runner.cancel()),
      vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, { deserializeWebviewPanel: (panel, state) => this.revive(panel, state) }),
      { dispose: () => [...this.panels.values()].forEach((p) => p.dispose()) },
    ];
  }

  // ---- entry points ------------------------------------------------------------------------------------------

  private async publishFile(a0: unknown, a1: unknown, pickTarget: boolean): Promise<FlowResult> {
    const args = checkArgs(isArgs(a0) ? a0 : isArgs(a1) ? a1 : {});
    const file = a0 instanceof vscode.Uri ? a0.fsPath : (args.file ?? (await this.askFile()));
    // An open preview of the file keeps its target (after a create: the created dataset).
    let target = this.targetFromArgs(args) ?? this.panels.get(resolve(file))?.session.currentTarget;
    let initial: Partial<{ mode: Mode; mapping: Record<string, ColumnTarget>; types: Record<string, PreviewColumnType> }> = {};
    if (!target) {
      const spec = await this.specFor(file);
      if (spec) {
        this.deps.log.info(`Starting from the publish spec ${vscode.workspace.asRelativePath(spec.path)} for ${basename(file)}.`);
        target = spec.target;
        initial = {
          mode: spec.loaded.spec.mode,
          mapping: spec.loaded.spec.mapping ?? {},
          types: (spec.loaded.spec.types ?? {}) as Record<string, PreviewColumnType>,
        };
      }
    }
    target ??= await this.rememberedTarget(resolve(file));
    if (!target && pickTarget) {
      target = await this.pickTarget();
      if (!target) throw new UserCancelledError();
    }
    return this.open(
      file,
      target,
      {
        ...initial,
        ...(args.mode ? { mode: args.mode } : {}),
        ...(args.mapping ? { mapping: args.mapping } : {}),
        ...(args.types ? { types: args.types } : {}),
      },
      args,
    );
  }

  private async publishToDataset(a0: unknown, a1: unknown): Promise<FlowResult> {
    const args = checkArgs(isArgs(a1) ? a1 : isArgs(a0) && targetOf(a0) === undefined ? a0 : {});
    let target: SessionTarget | undefined;
    const fromNode = targetOf(a0);
    if (fromNode) target = { domain: fromNode.domain, id: fromNode.id, ...(fromNode.accountId ? { accountId: fromNode.accountId } : {}) };
    target ??= this.targetFromArgs(args) ?? (await this.pickTarget());
    if (!target) throw new UserCancelledError();
    const file = args.file ?? (await this.askFile());
    return this.open(file, target, args.mode ? { mode: args.mode } : {}, args);
  }

  private async publishAgain(a0: unknown): Promise<PublishOutcome | undefined> {
    const args = isArgs(a0) ? checkArgs(a0) : {};
    let last: LastPublish | undefined;
    if (args.spec !== undefined) last = { kind: 'spec', path: resolve(args.spec) };
    else if (args.last === true) {
      last = this.deps.context.workspaceState.get<LastPublish>(LAST_PUBLISH_KEY);
      if (!last) throw new ExpectedError(vscode.l10n.t('Nothing to publish again: no earlier publish in this workspace.'));
    } else last = await this.chooseAgain();
    if (!last) throw new UserCancelledError();
    let domain: string;
    let request: PublishRequest;
    if (last.kind === 'spec') {
      const loaded = await loadSpec(last.path).catch((e: unknown) => {
        throw new ExpectedError(e instanceof Error ? e.message : String(e));
      });
      domain = loaded.domain;
      const s = readPublishSettings();
      request = { ...loaded.request, batchSize: loaded.request.batchSize ?? s.batchSize, concurrency: loaded.request.concurrency ?? s.concurrency };
    } else {
      domain = last.domain;
      request = last.request;
    }
    const host = parseDomain(domain).host;
    const writable =
      request.dataset !== undefined
        ? await findWritableConnection(this.deps.accounts, host, request.dataset, { append: request.mode === 'append', log: this.deps.log })
        : undefined;
    const client = writable?.connection.client ?? (await this.client(domain));
    await this.remember(last);
    return this.deps.runner.run({ client, request, dryRun: args.run === 'dryRun', confirmed: args.confirmed === true, resume: () => this.resumeLast() });
  }

  // ---- the preview -------------------------------------------------------------------------------------------

  private async open(
    file: string,
    target: SessionTarget | undefined,
    initial: Partial<{ mode: Mode; mapping: Record<string, ColumnTarget>; types: Record<string, PreviewColumnType> }>,
    args: PublishCommandArgs,
  ): Promise<FlowResult> {
    const full = resolve(file);
    if (!existsSync(full)) throw new ExpectedError(vscode.l10n.t('{0}: the file does not exist.', full));
    const existing = this.panels.get(full);
    let panel: PreviewPanel;
    if (existing) {
      panel = existing;
      panel.reveal();
      if (target && JSON.stringify(target) !== JSON.stringify(panel.session.currentTarget)) await panel.session.setTarget(target);
      if (initial.mode) panel.session.setMode(initial.mode);
    } else {
      const session = new PreviewSession({ accounts: this.deps.accounts, log: this.deps.log, settings: readPublishSettings }, full, { target, ...initial });
      panel = PreviewPanel.create(this.deps.context.extensionUri, session, this.actions(), this.deps.log);
      this.track(panel);
      await session.load();
    }
    let outcome: PublishOutcome | undefined;
    if (args.run) {
      await panel.session.whenScanned();
      outcome = await this.runAction(panel, args.run, args.confirmed === true);
    }
    return { file: full, preview: panel.session.summary(), outcome };
  }

  private track(panel: PreviewPanel): void {
    const file = panel.session.file;
    this.panels.set(file, panel);
    // The walkthrough's "Preview a CSV" step completes on this key: a preview is open (not just the command invoked).
    void vscode.commands.executeCommand('setContext', 'socrata.didPreview', true);
    // The preview follows the file on disk: a change (saved here or written by another program) reads it again.
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dirname(file)), basename(file)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reload = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        if (existsSync(file)) void panel.session.load();
      }, 300);
    };
    const subs = [watcher, watcher.onDidChange(reload), watcher.onDidCreate(reload)];
    const targetSub = panel.session.onDidChange(() => void this.rememberTarget(file, panel.session.currentTarget));
    panel.onDidDispose(() => {
      if (timer) clearTimeout(timer);
      for (const d of subs) d.dispose();
      targetSub.dispose();
      if (this.panels.get(file) === panel) this.panels.delete(file);
    });
  }

  /** The last target of each previewed file, so a re-opened preview starts from it. */
  private async rememberTarget(file: string, target: SessionTarget | undefined): Promise<void> {
    if (!target || !('id' in target)) return;
    const all = this.deps.context.workspaceState.get<Record<string, SessionTarget>>(PREVIEW_TARGETS_KEY) ?? {};
    if (JSON.stringify(all[file]) === JSON.stringify(target)) return;
    const next = { ...all, [file]: target };
    // Bounded: the 200 most recent files.
    const keys = Object.keys(next);
    for (const k of keys.slice(0, Math.max(0, keys.length - 200))) delete next[k];
    await this.deps.context.workspaceState.update(PREVIEW_TARGETS_KEY, next);
  }

  /** The file's last target, when an account of its portal is still signed in (otherwise nothing: no sign-in prompt). */
  private async rememberedTarget(file: string): Promise<SessionTarget | undefined> {
    const t = this.deps.context.workspaceState.get<Record<string, SessionTarget>>(PREVIEW_TARGETS_KEY)?.[file];
    if (!t || typeof t !== 'object' || typeof t.domain !== 'string' || !('id' in t) || typeof t.id !== 'string') return undefined;
    const accounts = await this.deps.accounts.list();
    return accounts.some((a) => a.domain === t.domain && a.invalid !== true) ? t : undefined;
  }

  private async revive(webviewPanel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const restore = reviveState(state);
    if (!restore || !existsSync(restore.file)) {
      // Nothing usable was saved (or the file is gone): close instead of showing an empty preview.
      webviewPanel.dispose();
      return;
    }
    const session = new PreviewSession({ accounts: this.deps.accounts, log: this.deps.log, settings: readPublishSettings }, restore.file, restore);
    const panel = new PreviewPanel(webviewPanel, session, this.deps.context.extensionUri, this.actions(), this.deps.log);
    this.track(panel);
    await session.load();
  }

  private actions(): PreviewActions {
    return {
      run: (panel, action) => this.deps.boundary.run(`preview.${action}`, () => this.runAction(panel, action, false)),
      pickDataset: () => this.pickTarget(),
      domainForNew: () => this.domainForNew(),
      setProblems: (uri, problems) => this.deps.diagnostics.set(uri, problems),
    };
  }

  private async runAction(panel: PreviewPanel, action: PreviewAction, confirmed: boolean): Promise<PublishOutcome | undefined> {
    const session = panel.session;
    if (action === 'saveSpec') {
      await this.saveSpec(session);
      return undefined;
    }
    // A reload of the file or the target (the file changed on disk) replaces the client: act on the reloaded one.
    await session.whenLoaded();
    const request = session.request();
    const client = session.currentClient;
    if (!request || !client) throw new ExpectedError(vscode.l10n.t('Choose the dataset to publish to first (or create a new one).'));
    if (action === 'publish' && request.newDataset && !confirmed) await this.confirmSameName(client, request.newDataset.name);
    session.beginAction(action === 'dryRun' ? vscode.l10n.t('Dry run…') : vscode.l10n.t('Publishing…'));
    try {
      const view = session.currentView;
      const isPublic = view?.isPublic;
      const outcome = await this.deps.runner.run({
        client,
        request,
        dryRun: action === 'dryRun',
        isPublic,
        confirmed,
        problems: session.summary().problems,
        resume: () => this.resumeLast(),
      });
      session.recordResult(outcome.message);
      let remembered = request;
      if (action === 'publish' && request.newDataset && outcome.dataset && (outcome.status === 'success' || outcome.status === 'partial')) {
        // The dataset exists now: the preview, the spec and Publish Again target it (no second create).
        await session.adoptCreated({ domain: client.domain.host, id: outcome.dataset });
        remembered = session.request() ?? { ...request, dataset: outcome.dataset, newDataset: undefined, mode: 'replace' };
        await this.retargetSpec(session.file, outcome.dataset, remembered.mode);
      }
      if (action === 'publish' && outcome.status !== 'declined') await this.remember({ kind: 'request', domain: client.domain.host, request: remembered });
      return outcome;
    } finally {
      session.endAction();
    }
  }

  /** Creating a dataset with the name of one the person already owns there asks first. */
  private async confirmSameName(client: SodaClient, name: string): Promise<void> {
    let same: string[] = [];
    try {
      const me = await client.currentUser();
      for await (const page of client.catalog({ forUser: me.id, q: name, pageSize: 100 })) {
        same = page.results.filter((r) => r.name.trim().toLowerCase() === name.trim().toLowerCase()).map((r) => r.id);
        break;
      }
    } catch (e) {
      this.deps.log.warn(`Could not check for datasets named "${name}" before creating one: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (same.length === 0) return;
    const create = vscode.l10n.t('Create Another');
    const choice = await vscode.window.showWarningMessage(
      same.length === 1
        ? vscode.l10n.t('You already own a dataset named "{0}" on {1} ({2}). Create another one?', name, client.domain.host, same.join(', '))
        : vscode.l10n.t('You already own {0} datasets named "{1}" on {2} ({3}). Create another one?', same.length, name, client.domain.host, same.join(', ')),
      { modal: true, detail: vscode.l10n.t('To update the existing dataset instead, choose it as the target ("Choose Dataset…").') },
      create,
    );
    if (choice !== create) throw new UserCancelledError();
  }

  /** A workspace spec for this file that says "new" now names the created dataset (and the mode to use). */
  private async retargetSpec(file: string, id: string, mode: Mode): Promise<void> {
    const found = await this.specFor(file);
    if (!found || found.loaded.spec.dataset !== 'new') return;
    try {
      const raw = JSON.parse(await readFile(found.path, 'utf8')) as Record<string, unknown>;
      raw.dataset = id;
      delete raw.new;
      delete raw.rowIdentifier;
      raw.mode = mode;
      parseSpec(raw, found.path);
      await writeFile(found.path, `${JSON.stringify(raw, null, 2)}\n`, 'utf8');
      this.deps.log.info(`The publish spec ${vscode.workspace.asRelativePath(found.path)} now targets the created dataset ${id} (${mode}).`);
    } catch (e) {
      this.deps.log.warn(`Could not point the publish spec ${found.path} at ${id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** "Resume" after a cancel: the last publish again (its journal skips what was applied). */
  private resumeLast(): void {
    void vscode.commands.executeCommand(PublishCommands.publishAgain, { last: true });
  }

  // ---- specs -------------------------------------------------------------------------------------------------

  /** The first workspace spec whose CSV is this file. */
  private async specFor(file: string): Promise<{ path: string; loaded: LoadedSpec; target: SessionTarget } | undefined> {
    const full = resolve(file);
    for (const uri of await vscode.workspace.findFiles(SPEC_GLOB, '**/node_modules/**', 200)) {
      try {
        const loaded = await loadSpec(uri.fsPath);
        if (resolve(loaded.request.file) !== full) continue;
        const s = loaded.spec;
        const target: SessionTarget =
          s.dataset === 'new'
            ? {
                domain: loaded.domain,
                newName: s.new?.name ?? basename(file),
                description: s.new?.description ?? '',
                ...(s.new?.permission ? { permission: s.new.permission } : {}),
              }
            : { domain: parseDomain(loaded.domain).host, id: s.dataset };
        return { path: uri.fsPath, loaded, target };
      } catch (e) {
        this.deps.log.warn(`Skipping the publish spec ${uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return undefined;
  }

  private async saveSpec(session: PreviewSession): Promise<string | undefined> {
    const request = session.request();
    const target = session.currentTarget;
    if (!request || !target) throw new ExpectedError(vscode.l10n.t('Choose the dataset to publish to first: a spec names its target.'));
    const ext = extname(session.file);
    const path = join(dirname(session.file), `${basename(session.file, ext)}.socrata.json`);
    if (existsSync(path)) {
      const overwrite = vscode.l10n.t('Overwrite');
      const choice = await vscode.window.showWarningMessage(vscode.l10n.t('{0} already exists. Overwrite it?', basename(path)), { modal: true }, overwrite);
      if (choice !== overwrite) throw new UserCancelledError();
    }
    const rel = relative(dirname(path), session.file).split(sep).join('/');
    const spec: PublishSpec = {
      domain: parseDomain(target.domain).host,
      dataset: 'id' in target ? target.id : 'new',
      ...('newName' in target
        ? {
            new: {
              name: target.newName,
              ...(target.description ? { description: target.description } : {}),
              ...(target.permission ? { permission: target.permission } : {}),
            },
          }
        : {}),
      csv: rel.startsWith('.') ? rel : `./${rel}`,
      mode: request.mode,
      ...(request.mapping ? { mapping: request.mapping } : {}),
      ...(request.types ? { types: request.types } : {}),
      ...(request.rowIdentifier ? { rowIdentifier: request.rowIdentifier } : {}),
    };
    parseSpec(spec, path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(spec, null, 2)}\n`, 'utf8');
    this.deps.log.info(`Saved the publish spec ${path}.`);
    await this.remember({ kind: 'spec', path });
    await vscode.window.showTextDocument(vscode.Uri.file(path), { preview: false, viewColumn: vscode.ViewColumn.Beside });
    return path;
  }

  private async chooseAgain(): Promise<LastPublish | undefined> {
    const last = this.deps.context.workspaceState.get<LastPublish>(LAST_PUBLISH_KEY);
    type Item = vscode.QuickPickItem & { value: LastPublish };
    const items: Item[] = [];
    if (last) {
      const label =
        last.kind === 'spec'
          ? vscode.workspace.asRelativePath(last.path)
          : `${basename(last.request.file)} → ${last.domain}/${last.request.dataset ?? vscode.l10n.t('new')} (${last.request.mode})`;
      items.push({ label: `$(history) ${label}`, description: vscode.l10n.t('last publish'), value: last });
    }
    for (const uri of await vscode.workspace.findFiles(SPEC_GLOB, '**/node_modules/**', 200)) {
      if (last?.kind === 'spec' && last.path === uri.fsPath) continue;
      items.push({
        label: `$(file-code) ${vscode.workspace.asRelativePath(uri)}`,
        description: vscode.l10n.t('publish spec'),
        value: { kind: 'spec', path: uri.fsPath },
      });
    }
    if (items.length === 0) {
      throw new ExpectedError(
        vscode.l10n.t('Nothing to publish again: no earlier publish and no publish spec (socrata.publish.json or *.socrata.json) in the workspace.'),
      );
    }
    const picked = await vscode.window.showQuickPick(items, {
      title: vscode.l10n.t('Publish Again'),
      placeHolder: vscode.l10n.t('The last publish, or a publish spec of the workspace'),
    });
    return picked?.value;
  }

  private async remember(last: LastPublish): Promise<void> {
    await this.deps.context.workspaceState.update(LAST_PUBLISH_KEY, last);
  }

  // ---- inputs ------------------------------------------------------------------------------------------------

  private targetFromArgs(a: PublishCommandArgs): SessionTarget | undefined {
    if (a.domain === undefined) return undefined;
    const domain = parseDomain(a.domain).host;
    if (a.dataset !== undefined) return { domain, id: a.dataset, ...(a.accountId ? { accountId: a.accountId } : {}) };
    if (a.newDataset) {
      return {
        domain,
        newName: a.newDataset.name.trim(),
        description: a.newDataset.description ?? '',
        ...(a.newDataset.permission ? { permission: a.newDataset.permission } : {}),
      };
    }
    return undefined;
  }

  private async askFile(): Promise<string> {
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active?.scheme === 'file' && /\.(csv|tsv)$/i.test(active.fsPath)) return active.fsPath;
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: vscode.l10n.t('Preview'),
      title: vscode.l10n.t('Choose a CSV file to publish'),
      filters: { [vscode.l10n.t('CSV files')]: ['csv', 'tsv', 'txt'] },
    });
    const uri = picked?.[0];
    if (!uri) throw new UserCancelledError();
    return uri.fsPath;
  }

  private async pickTarget(): Promise<SessionTarget | undefined> {
    const picked = await pickDataset(this.deps.accounts, { title: vscode.l10n.t('Publish to which dataset?') });
    if (!picked) return undefined;
    return { domain: picked.domain, id: picked.id, ...(picked.accountId ? { accountId: picked.accountId } : {}) };
  }

  private async domainForNew(): Promise<string | undefined> {
    const domains = await this.deps.accounts.domains();
    const preferred = readPublishSettings().defaultDomain;
    if (domains.length === 0) {
      throw new ExpectedError(vscode.l10n.t('Sign in to a Socrata portal first (Socrata: Sign In with API Key): a new dataset is created there.'));
    }
    if (domains.length === 1) return domains[0];
    const sorted = preferred && domains.includes(preferred) ? [preferred, ...domains.filter((d) => d !== preferred)] : domains;
    return vscode.window.showQuickPick(sorted, { title: vscode.l10n.t('Create the new dataset on which portal?') });
  }

  private async client(domain: string): Promise<SodaClient> {
    const host = parseDomain(domain).host;
    const client = await this.deps.accounts.getClientFor(host, { silent: false });
    if (!client) throw new ExpectedError(vscode.l10n.t('Sign in to {0} to publish there.', host));
    return client;
  }
}

function reviveState(state: unknown): PreviewRestoreState | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const restore = (state as { restore?: unknown }).restore;
  return isRestoreState(restore) ? restore : undefined;
}
