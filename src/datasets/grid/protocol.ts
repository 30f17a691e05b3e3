// Messages between the read-only grid webview (query results, dataset rows) and the extension host.
// Type-only: imported by both bundles.

export interface GridColumn {
  readonly name: string;
  /** SoQL type from X-SODA2-Types, when the server sent it. */
  readonly type: string | undefined;
}

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
    }
  | { readonly type: 'busy'; readonly message: string }
  | { readonly type: 'error'; readonly title: string; readonly message: string; readonly hasPrevious: boolean };

export type GridToHost =
  { readonly type: 'ready' } | { readonly type: 'next' } | { readonly type: 'previous' } | { readonly type: 'saveCsv' } | { readonly type: 'retry' };

export function isGridToHost(value: unknown): value is GridToHost {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'next' || type === 'previous' || type === 'saveCsv' || type === 'retry';
}
