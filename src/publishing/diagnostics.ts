// CSV problems in the Problems panel. Diagnostics only need the file's URI: the CSV is not opened as a document
// (a huge file would be loaded into memory); VS Code opens it when a problem is clicked. A cell problem points at
// the field itself (line and character range, found by `locateCells` reading the file up to the last problem's
// line); other problems, and cells not located, cover their whole line. The CSV column is named in the message too.
import * as vscode from 'vscode';
import type { ValidationReport } from '../csv';
import { cellKey, type CellSpan, locateCells } from '../csv/locate';

export const DIAGNOSTIC_SOURCE = 'Socrata';

export interface FileProblem {
  line: number;
  /** 1-based CSV column, when the problem is about one cell. */
  column: number | undefined;
  message: string;
  severity: 'error' | 'warning';
  /** Where the cell is in the text (0-based lines, UTF-16 characters), once located. */
  span?: CellSpan;
}

/** Every located problem of a validation report (examples only: the report keeps a few per kind and column). */
export function problemsOf(report: ValidationReport): FileProblem[] {
  const out: FileProblem[] = [];
  for (const p of report.headerProblems) out.push({ line: 1, column: undefined, message: vscode.l10n.t('header: {0}', p.message), severity: 'warning' });
  for (const c of report.columns) {
    for (const e of c.invalid.examples) {
      out.push({ line: e.line, column: e.column, message: cellMessage(e), severity: 'error' });
    }
  }
  const rid = report.rowIdentifier;
  if (rid) {
    for (const e of [...rid.empty.examples, ...rid.duplicates.examples]) {
      out.push({ line: e.line, column: e.column, message: cellMessage(e), severity: 'error' });
    }
  }
  for (const r of report.ragged.rows) {
    out.push({
      line: r.line,
      column: undefined,
      message:
        r.actual === 1
          ? vscode.l10n.t('1 field instead of {0} (the header has {0} columns)', r.expected)
          : vscode.l10n.t('{0} fields instead of {1} (the header has {1} columns)', r.actual, r.expected),
      severity: 'error',
    });
  }
  return out.sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
}

/** A cell problem's message: the CSV column's number and name, then the engine's (English) text. */
function cellMessage(e: { column: number; columnName: string; message: string }): string {
  return vscode.l10n.t('column {0} ({1}): {2}', e.column, e.columnName, e.message);
}

/** The problems with the text span of each cell problem filled in (unchanged when the file cannot be read again). */
export async function withCellSpans(problems: readonly FileProblem[], report: Pick<ValidationReport, 'format'>, signal?: AbortSignal): Promise<FileProblem[]> {
  const cells = problems.filter((p) => p.column !== undefined).map((p) => ({ line: p.line, column: p.column ?? 1 }));
  let spans: Map<string, CellSpan>;
  try {
    spans = await locateCells(report.format, cells, signal);
  } catch {
    return [...problems];
  }
  return problems.map((p) => {
    const span = p.column !== undefined ? spans.get(cellKey({ line: p.line, column: p.column })) : undefined;
    return span ? { ...p, span } : p;
  });
}

export function toDiagnostics(problems: readonly FileProblem[]): vscode.Diagnostic[] {
  return problems.map((p) => {
    const line = Math.max(0, p.line - 1);
    // A located cell: its field (an empty one gets a one-character range at its place). Otherwise the whole line:
    // VS Code clamps the end to the line's length once the document is open.
    const s = p.span;
    const range = s
      ? new vscode.Range(
          s.startLine,
          s.startCharacter,
          s.endLine,
          s.endLine === s.startLine && s.endCharacter === s.startCharacter ? s.endCharacter + 1 : s.endCharacter,
        )
      : new vscode.Range(line, 0, line, 10_000);
    const d = new vscode.Diagnostic(range, p.message, p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
    d.source = DIAGNOSTIC_SOURCE;
    return d;
  });
}
