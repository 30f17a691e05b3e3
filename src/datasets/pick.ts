// Choosing a dataset when a command runs without a tree node: a quick pick over the catalog of every
// signed-in account, plus "another dataset by 4x4 or URL". Other features call `pickDataset` too.
import * as vscode from 'vscode';
import { type AccountDescription, accountLabel, type SocrataAccounts } from '../accounts';
import type { SodaClient } from '../soda/client';
import { assert4x4, parseDomain } from '../soda/domain';
import { isSodaError } from '../soda/errors';
import { ExpectedError } from '../ui/boundary';
import { parseDatasetRef } from './model';
import { type DatasetNode, DraftNode } from './nodes';

/** A dataset chosen in the tree, in a picker or passed by a caller: where it lives and its 4x4. */
export interface DatasetTarget {
  /** `host[:port]` as accounts store it. */
  readonly domain: string;
  readonly id: string;
  readonly name?: string;
  /** The account to use; the domain's first usable account when absent. */
  readonly accountId?: string;
}

export interface PickDatasetOptions {
  readonly title?: string;
  /** Only datasets the account may write (owned ones, per the catalog). */
  readonly writableOnly?: boolean;
}

type Accounts = Pick<SocrataAccounts<SodaClient>, 'list' | 'getConnection'>;

/** A DatasetNode or `{ domain, id }` → a target; undefined for anything else. Throws on a malformed id/domain. */
export function targetOf(arg: unknown): DatasetTarget | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const node = arg as Partial<DatasetNode> & { kind?: unknown };
  if (node.kind === 'dataset' && node.parent !== undefined && node.entry !== undefined) {
    return { domain: node.parent.account.domain, id: node.entry.id, name: node.name, accountId: node.parent.account.id };
  }
  // A draft in the tree: commands that need a 4x4 use its dataset (SODA reaches only the dataset).
  if (arg instanceof DraftNode) {
    return { domain: arg.account.account.domain, id: arg.datasetId, accountId: arg.account.account.id };
  }
  const plain = arg as { domain?: unknown; id?: unknown; name?: unknown; accountId?: unknown };
  if (typeof plain.domain === 'string' && typeof plain.id === 'string') {
    assert4x4(plain.id);
    return {
      domain: parseDomain(plain.domain).host,
      id: plain.id,
      ...(typeof plain.name === 'string' ? { name: plain.name } : {}),
      ...(typeof plain.accountId === 'string' ? { accountId: plain.accountId } : {}),
    };
  }
  return undefined;
}

interface Item extends vscode.QuickPickItem {
  target?: DatasetTarget;
  other?: true;
}

async function listFor(accounts: Accounts, account: AccountDescription, options: PickDatasetOptions, signal: AbortSignal): Promise<Item[]> {
  const connection = await accounts.getConnection(account.domain, { accountId: account.id, silent: true });
  if (!connection) return [];
  const items: Item[] = [];
  // Two pages of 100 at most: the picker is for the datasets people work with; others go through "by 4x4 or URL".
  let pages = 0;
  for await (const page of connection.client.catalog({ forUser: account.userId, pageSize: 100, order: 'name', signal })) {
    for (const entry of page.results) {
      // A draft (`abcd-1234:7`) is not something to query or publish to: its dataset is listed on its own.
      if (entry.draftOf !== undefined) continue;
      if (options.writableOnly && entry.owner?.id !== account.userId) continue;
      items.push({
        label: entry.name,
        description: entry.id,
        detail: accountLabel(account),
        iconPath: new vscode.ThemeIcon('table'),
        target: { domain: account.domain, id: entry.id, name: entry.name, accountId: account.id },
      });
    }
    if (++pages >= 2) break;
  }
  return items;
}

/** Asks for a 4x4 or portal URL; the domain comes from the URL, or from the only/picked signed-in domain. */
export async function askDatasetRef(accounts: Accounts, title = vscode.l10n.t('Go to Dataset')): Promise<DatasetTarget | undefined> {
  const value = await vscode.window.showInputBox({
    title,
    prompt: vscode.l10n.t('A dataset 4x4 id (abcd-1234) or its address pasted from the portal'),
    placeHolder: vscode.l10n.t('abcd-1234 or https://data.city.gov/Category/Name/abcd-1234'),
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        parseDatasetRef(v);
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  });
  if (value === undefined) return undefined;
  return resolveRef(accounts, value);
}

/** Turns typed text into a target, choosing the domain among the signed-in ones when only a 4x4 was given. */
export async function resolveRef(accounts: Accounts, text: string, domain?: string): Promise<DatasetTarget | undefined> {
  const ref = parseDatasetRef(text);
  if (ref.domain) return { domain: ref.domain.host, id: ref.id };
  if (domain !== undefined) return { domain: parseDomain(domain).host, id: ref.id };
  const domains = [...new Set((await accounts.list()).filter((a) => a.invalid !== true).map((a) => a.domain))];
  if (domains.length === 0) throw new ExpectedError(vscode.l10n.t("Sign in to a Socrata portal first, or paste the dataset's full address."));
  if (domains.length === 1) return { domain: domains[0] ?? '', id: ref.id };
  const picked = await vscode.window.showQuickPick(domains, { title: vscode.l10n.t('Which portal is {0} on?', ref.id), ignoreFocusOut: true });
  return picked === undefined ? undefined : { domain: picked, id: ref.id };
}

/**
 * A quick pick over the datasets of every signed-in account (loaded in the background while the picker is
 * open), with an entry to give any dataset by 4x4 or URL. Resolves undefined when dismissed.
 */
export async function pickDataset(accounts: Accounts, options: PickDatasetOptions = {}): Promise<DatasetTarget | undefined> {
  const quickPick = vscode.window.createQuickPick<Item>();
  quickPick.title = options.title ?? vscode.l10n.t('Choose a dataset');
  quickPick.placeholder = vscode.l10n.t('Type to filter your datasets by name or 4x4');
  quickPick.matchOnDescription = true;
  quickPick.matchOnDetail = true;
  quickPick.ignoreFocusOut = true;
  quickPick.busy = true;
  const other: Item = { label: `$(search) ${vscode.l10n.t('Another dataset by 4x4 or URL…')}`, alwaysShow: true, other: true };
  quickPick.items = [other];
  const abort = new AbortController();
  const errors: string[] = [];
  void (async () => {
    const list = (await accounts.list()).filter((a) => a.invalid !== true);
    const all = await Promise.all(
      list.map((a) =>
        listFor(accounts, a, options, abort.signal).catch((error: unknown) => {
          if (!isSodaError(error, 'cancelled')) errors.push(`${accountLabel(a)}: ${error instanceof Error ? error.message : String(error)}`);
          return [] as Item[];
        }),
      ),
    );
    if (abort.signal.aborted) return;
    const items = all.flat();
    quickPick.items = [...items, other];
    quickPick.busy = false;
    if (errors.length > 0) quickPick.placeholder = vscode.l10n.t('Some portals could not be listed ({0})', errors.join('; '));
    else if (items.length === 0) quickPick.placeholder = vscode.l10n.t('No datasets of yours found: give one by 4x4 or URL');
  })();
  try {
    const chosen = await new Promise<Item | undefined>((resolve) => {
      quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0]));
      quickPick.onDidHide(() => resolve(undefined));
      quickPick.show();
    });
    if (chosen?.other) {
      quickPick.hide();
      return await askDatasetRef(accounts, options.title ?? vscode.l10n.t('Choose a dataset'));
    }
    return chosen?.target;
  } finally {
    abort.abort();
    quickPick.dispose();
  }
}
