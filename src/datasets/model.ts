// The dataset browser's logic that does not need VS Code: context-value tokens, "Go to Dataset" input
// parsing, SoQL statement paging, cell formatting and CSV output. Unit-tested in plain Node. Its texts go through
// @vscode/l10n (configured with VS Code's bundle when the extension activates; English in plain Node).
import * as l10n from '@vscode/l10n';
import { assert4x4, isValid4x4, parseDomain, type SodaDomain } from '../soda/domain';
import { SodaError } from '../soda/errors';
import { statementShape } from '../soda/query';

// The statement shape and the SODA 2.1 page statement belong to the engine's queries; re-exported for the grid.
export { pagedStatement, statementShape, type StatementShape } from '../soda/query';

/**
 * Capability tokens of tree items. A `contextValue` is the node kind followed by its tokens, each ended by
 * `;` (`dataset;owned;writable;hasRowId;`), so menus match them with regexes such as `viewItem =~ /;writable;/`.
 */
export const Tokens = {
  owned: 'owned',
  writable: 'writable',
  hasRowId: 'hasRowId',
  public: 'public',
  private: 'private',
  rowId: 'rowId',
  invalid: 'invalid',
  /** Rights on a dataset (from the view's `rights`): write rows, delete rows, change metadata, delete the dataset. */
  canWrite: 'canWrite',
  canDeleteRows: 'canDeleteRows',
  canEditMetadata: 'canEditMetadata',
  canDeleteDataset: 'canDeleteDataset',
  readOnly: 'readOnly',
  /** A dataset shared with the account (listed under "Shared with me"). */
  shared: 'shared',
  /** Group nodes: which one. */
  mine: 'mine',
  all: 'all',
} as const;

/** The right (in a view's `rights`) each write action needs, and the token that offers the action. */
export const WriteRights = {
  publish: { right: 'write', token: Tokens.canWrite, action: () => l10n.t('write rows') },
  deleteRows: { right: 'delete', token: Tokens.canDeleteRows, action: () => l10n.t('delete rows') },
  editMetadata: { right: 'update_view', token: Tokens.canEditMetadata, action: () => l10n.t('change metadata') },
  deleteDataset: { right: 'delete_view', token: Tokens.canDeleteDataset, action: () => l10n.t('delete the dataset') },
} as const;

export type GrantRole = 'owner' | 'contributor' | 'viewer';

/** How the portal names a grant's role. */
export function roleLabel(role: GrantRole): string {
  return role === 'contributor' ? l10n.t('editor') : role === 'owner' ? l10n.t('co-owner') : l10n.t('viewer');
}

/** The caller's own role among a view's `grants` (`{type, userId}`), the strongest when several. */
export function roleOf(grants: unknown, userId: string | undefined): GrantRole | undefined {
  if (!Array.isArray(grants) || userId === undefined) return undefined;
  const order: GrantRole[] = ['owner', 'contributor', 'viewer'];
  let best: GrantRole | undefined;
  for (const g of grants) {
    if (typeof g !== 'object' || g === null) continue;
    const { type, userId: uid } = g as { type?: unknown; userId?: unknown };
    if (uid !== userId || typeof type !== 'string' || !order.includes(type as GrantRole)) continue;
    if (best === undefined || order.indexOf(type as GrantRole) < order.indexOf(best)) best = type as GrantRole;
  }
  return best;
}

export type NodeKind = 'domain' | 'group' | 'dataset' | 'draft' | 'column' | 'loadMore' | 'error' | 'message';
export type Token = (typeof Tokens)[keyof typeof Tokens];

export function contextValue(kind: NodeKind, tokens: readonly (Token | false | undefined)[] = []): string {
  const present = tokens.filter((t): t is Token => typeof t === 'string');
  return `${kind};${present.map((t) => `${t};`).join('')}`;
}

/** A dataset named by what a person typed or pasted: the 4x4, and the portal when a URL was given. */
/**
 * `text` as a Markdown inline code span. A code span shows its content literally, so it must not go through
 * `MarkdownString.appendText` (whose backslash escapes would show as backslashes: `permit\_id`). The fence is one
 * backtick longer than the longest run of backticks in the text; line breaks become spaces.
 */
export function inlineCode(text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...(oneLine.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}

export interface DatasetRef {
  readonly id: string;
  readonly domain: SodaDomain | undefined;
}

function invalidRef(input: string, why: string): SodaError {
  const shown = JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}…` : input);
  return new SodaError({
    kind: 'invalid-input',
    message: l10n.t(
      'Cannot find a dataset in {0}: {1}. Enter a 4x4 id such as "abcd-1234" or paste the dataset\'s address from the portal (https://data.city.gov/Some/Name/abcd-1234).',
      shown,
      why,
    ),
    field: 'dataset',
  });
}

/**
 * Parses "Go to Dataset…" input: a bare 4x4 (`abcd-1234`, any case) or a portal address whose path ends with
 * a 4x4 (`https://data.x.gov/Some/Name/abcd-1234`, `…/d/abcd-1234`, `…/resource/abcd-1234.json`,
 * `…/api/views/abcd-1234`). The domain is validated with `parseDomain` (https, or http on loopback only).
 */
export function parseDatasetRef(input: string): DatasetRef {
  const text = input.trim();
  if (text === '') throw invalidRef(input, l10n.t('it is empty'));
  const lower = text.toLowerCase();
  if (isValid4x4(lower)) return { id: lower, domain: undefined };
  if (!/^https?:\/\//i.test(text)) {
    throw invalidRef(input, l10n.t('it is neither a 4x4 id nor an https:// address'));
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidRef(input, l10n.t('the address is malformed'));
  }
  if (url.username !== '' || url.password !== '') throw invalidRef(input, l10n.t('the address contains a user name or password; paste it without them'));
  const domain = parseDomain(`${url.protocol}//${url.host}`);
  const segments = url.pathname.split('/').filter((s) => s !== '');
  // The dataset id is the last path segment that is a 4x4 (an extension such as .json is ignored).
  for (let i = segments.length - 1; i >= 0; i--) {
    let segment: string;
    try {
      segment = decodeURIComponent(segments[i] ?? '');
    } catch {
      continue;
    }
    const candidate = segment.replace(/\.[a-z]+$/i, '').toLowerCase();
    if (isValid4x4(candidate)) return { id: candidate, domain };
  }
  throw invalidRef(input, l10n.t('its path has no 4x4 id'));
}

/** `https://data.city.gov/d/abcd-1234`: the dataset's page on the portal. */
export function portalUrl(domain: SodaDomain, id: string): string {
  assert4x4(id);
  return new URL(`/d/${id}`, domain.origin).toString();
}

/** `https://data.city.gov/resource/abcd-1234.json`: the SODA endpoint. */
export function apiEndpoint(domain: SodaDomain, id: string): string {
  assert4x4(id);
  return new URL(`/resource/${id}.json`, domain.origin).toString();
}

// ------------------------------------------------------------------ SoQL statements

/** 0-based position of a string literal that is never closed (`''` inside a literal is an escaped quote). */
function unclosedLiteral(text: string): number | undefined {
  let start: number | undefined;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "'") continue;
    if (start === undefined) start = i;
    else if (text[i + 1] === "'") i++;
    else start = undefined;
  }
  return start;
}

/**
 * Checks a SoQL statement typed by a person before it is sent. It must start with SELECT (a whole `$query`),
 * end its string literals, and keep its own LIMIT and OFFSET together (paging adds them otherwise).
 */
export function checkStatement(stmt: string): string | undefined {
  const text = stmt.trim();
  if (text === '') return l10n.t('Enter a SoQL query, e.g. SELECT * WHERE valuation > 1000 ORDER BY issued_date DESC.');
  if (!/^select\b/i.test(text)) return l10n.t('A query starts with SELECT (e.g. SELECT * WHERE …).');
  const open = unclosedLiteral(text);
  if (open !== undefined) return l10n.t('The string literal that starts at column {0} is not closed with a single quote.', open + 1);
  const shape = statementShape(text);
  if (shape.hasOffset && !shape.hasLimit) return l10n.t('OFFSET needs a LIMIT; or leave both out and page with Next/Previous.');
  return undefined;
}

// ------------------------------------------------------------------ values

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function wktCoordinates(c: unknown): string {
  if (Array.isArray(c) && c.every((x) => typeof x === 'number')) return c.join(' ');
  if (Array.isArray(c)) return `(${c.map(wktCoordinates).join(', ')})`;
  return '';
}

/** A cell as text: the SODA JSON encodings (§3.4) shown the way the CSV export writes them. */
export function formatCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isRecord(value)) {
    if (typeof value.type === 'string' && 'coordinates' in value) {
      const type = value.type.toUpperCase();
      const coords = wktCoordinates(value.coordinates);
      return type === 'POINT' ? `POINT (${coords})` : `${type} ${coords.startsWith('(') ? coords : `(${coords})`}`;
    }
    if (typeof value.url === 'string') {
      return typeof value.description === 'string' && value.description !== '' ? `${value.description} (${value.url})` : value.url;
    }
  }
  return JSON.stringify(value);
}

/** The columns of a result: the server's X-SODA2-Fields when sent, otherwise the keys seen in the rows. */
export function resultColumns(
  rows: readonly Record<string, unknown>[],
  fields: readonly string[] | undefined,
  types: readonly string[] | undefined,
): { name: string; type: string | undefined }[] {
  if (fields !== undefined) return fields.map((name, i) => ({ name, type: types?.[i] }));
  const names: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
  }
  return names.map((name) => ({ name, type: undefined }));
}

/** Legacy `dataTypeName` → the SoQL type name shown next to a column (§3.3). */
export function soqlTypeName(dataTypeName: string): string {
  switch (dataTypeName) {
    case 'calendar_date':
      return 'floating_timestamp';
    case 'date':
      return 'fixed_timestamp';
    case 'checkbox':
      return 'boolean';
    case 'money':
    case 'percent':
      return 'number';
    default:
      return dataTypeName;
  }
}

/** "updated 3 days ago" style text for a tree description (`now` passed in for tests). */
export function updatedText(iso: string | undefined, now: Date = new Date()): string | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return undefined;
  const days = Math.floor((now.getTime() - t) / 86_400_000);
  if (days < 1) return l10n.t('updated today');
  if (days === 1) return l10n.t('updated yesterday');
  if (days < 60) return l10n.t('updated {0} days ago', days);
  return l10n.t('updated {0}', new Date(t).toISOString().slice(0, 10));
}
