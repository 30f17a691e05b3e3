// The dataset browser's logic that does not need VS Code: context-value tokens, "Go to Dataset" input
// parsing, SoQL statement paging, cell formatting and CSV output. Unit-tested in plain Node.
import { assert4x4, isValid4x4, parseDomain, type SodaDomain } from '../soda/domain';
import { SodaError } from '../soda/errors';

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
} as const;

export type NodeKind = 'domain' | 'dataset' | 'draft' | 'column' | 'loadMore' | 'error' | 'message';
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
    message: `Cannot find a dataset in ${shown}: ${why}. Enter a 4x4 id such as "abcd-1234" or paste the dataset's address from the portal (https://data.city.gov/Some/Name/abcd-1234).`,
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
  if (text === '') throw invalidRef(input, 'it is empty');
  const lower = text.toLowerCase();
  if (isValid4x4(lower)) return { id: lower, domain: undefined };
  if (!/^https?:\/\//i.test(text)) {
    throw invalidRef(input, 'it is neither a 4x4 id nor an https:// address');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidRef(input, 'the address is malformed');
  }
  if (url.username !== '' || url.password !== '') throw invalidRef(input, 'the address contains a user name or password; paste it without them');
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
  throw invalidRef(input, 'its path has no 4x4 id');
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

/** Replaces string literals and back-quoted names with blanks so that keywords inside them are not seen. */
function blankLiterals(stmt: string): string {
  return stmt.replace(/'(?:[^']|'')*'|`[^`]*`/g, (m) => ' '.repeat(m.length));
}

export interface StatementShape {
  hasLimit: boolean;
  hasOffset: boolean;
  hasOrder: boolean;
  hasGroup: boolean;
  /** The SELECT list calls an aggregate function (count, sum, avg, min, max, stddev…). */
  hasAggregate: boolean;
  /** SELECT DISTINCT. */
  hasDistinct: boolean;
}

/** SoQL's aggregate functions: a statement selecting one is grouped (implicitly, into one row, without GROUP BY). */
const AGGREGATE = /\b(?:count|sum|avg|min|max|stddev_pop|stddev_samp|median|percentile_cont|percentile_disc|regr_[a-z]+)\s*\(/i;

export function statementShape(stmt: string): StatementShape {
  const bare = blankLiterals(stmt);
  const select = /^\s*select\b([\s\S]*?)(?=\b(?:where|group\s+by|having|order\s+by|limit|offset|search)\b|$)/i.exec(bare)?.[1] ?? '';
  return {
    hasLimit: /\blimit\b/i.test(bare),
    hasOffset: /\boffset\b/i.test(bare),
    hasOrder: /\border\s+by\b/i.test(bare),
    hasGroup: /\bgroup\s+by\b/i.test(bare),
    hasAggregate: AGGREGATE.test(select),
    hasDistinct: /^\s*distinct\b/i.test(select),
  };
}

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
  if (text === '') return 'Enter a SoQL query, e.g. SELECT * WHERE valuation > 1000 ORDER BY issued_date DESC.';
  if (!/^select\b/i.test(text)) return 'A query starts with SELECT (e.g. SELECT * WHERE …).';
  const open = unclosedLiteral(text);
  if (open !== undefined) return `The string literal that starts at column ${open + 1} is not closed with a single quote.`;
  const shape = statementShape(text);
  if (shape.hasOffset && !shape.hasLimit) return 'OFFSET needs a LIMIT; or leave both out and page with Next/Previous.';
  return undefined;
}

/**
 * The statement for one page. A statement with its own LIMIT is run as written (one page), and so is an aggregate
 * without GROUP BY (`SELECT count(*)`: one row). Otherwise LIMIT/OFFSET are appended, with `ORDER BY :id` first
 * only for a plain row query without an order: offset paging is only correct over a stable order, and the server
 * refuses `:id` in a grouped, aggregated or DISTINCT query (it is not one of the groups). Those are paged by their
 * own ORDER BY when they have one, and as the server returns the groups otherwise.
 */
export function pagedStatement(stmt: string, limit: number, offset: number): { statement: string; paged: boolean } {
  const text = stmt.trim().replace(/;\s*$/, '');
  const shape = statementShape(text);
  if (shape.hasLimit) return { statement: text, paged: false };
  if (shape.hasAggregate && !shape.hasGroup) return { statement: text, paged: false };
  const order = shape.hasOrder || shape.hasGroup || shape.hasAggregate || shape.hasDistinct ? '' : ' ORDER BY :id';
  return { statement: `${text}${order} LIMIT ${limit} OFFSET ${offset}`, paged: true };
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

/** One CSV cell: every non-empty value quoted, inner quotes doubled (as SODA's CSV export does). */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  return `"${formatCell(value).replace(/"/g, '""')}"`;
}

export function csvLine(cells: readonly unknown[]): string {
  return `${cells.map(csvCell).join(',')}\n`;
}

/** The columns of a result: the server's X-SODA2-Fields when sent, otherwise the keys seen in the rows. */
export function resultColumns(rows: readonly Record<string, unknown>[], fields: readonly string[] | undefined, types: readonly string[] | undefined): { name: string; type: string | undefined }[] {
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
  if (days < 1) return 'updated today';
  if (days === 1) return 'updated yesterday';
  if (days < 60) return `updated ${days} days ago`;
  return `updated ${new Date(t).toISOString().slice(0, 10)}`;
}
