// Messages between the read-only grid webview (query results, dataset rows) and the extension host.
// Type-only: imported by both bundles.

export interface GridColumn {
  readonly name: string;
  /** SoQL type from X-SODA2-Types, when the server sent it. */
  readonly type: string | undefined;
}

/** The editable query box of a query tab: the statement shown, and the dataset's recent statements (newest first). */
export interface GridQuery {
  readonly statement: string;
  readonly history: readonly string[];
}

/** The total number of rows of the query: a number, still being counted, or unknown (the count failed or cannot be made). */
export type GridTotal = number | 'counting' | 'unknown';

export type HostToGrid =
  | {
      readonly type: 'page';
      readonly title: string;
      readonly subtitle: string;
      readonly columns: readonly GridColumn[];
      /** Cells as display text; null = no value. */
      readonly rows: readonly (readonly (string | null)[])[];
      /** 1-based number of the first row shown. */
      readonly firstRow: number;
      readonly hasPrevious: boolean;
      readonly hasNext: boolean;
      readonly canSave: boolean;
      /** Absent: the tab's query cannot be edited. */
      readonly query?: GridQuery;
      /** Absent: no total is shown. */
      readonly total?: GridTotal;
    }
  | { readonly type: 'busy'; readonly message: string }
  | { readonly type: 'error'; readonly title: string; readonly message: string; readonly hasPrevious: boolean; readonly query?: GridQuery };

export type GridToHost =
  | { readonly type: 'ready' }
  | { readonly type: 'next' }
  | { readonly type: 'previous' }
  | { readonly type: 'saveCsv' }
  | { readonly type: 'retry' }
  /** Run the statement typed in the query box, in this tab. */
  | { readonly type: 'run'; readonly statement: string };

/** The longest statement the query box sends. */
export const MAX_STATEMENT_LENGTH = 20_000;

export function isGridToHost(value: unknown): value is GridToHost {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  if (type === 'run') {
    const statement = (value as { statement?: unknown }).statement;
    return typeof statement === 'string' && statement.length <= MAX_STATEMENT_LENGTH;
  }
  return type === 'ready' || type === 'next' || type === 'previous' || type === 'saveCsv' || type === 'retry';
}
