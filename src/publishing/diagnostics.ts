// CSV problems in the Problems panel. Diagnostics only need the file's URI: the CSV is not opened as a document
// (a huge file would be loaded into memory); VS Code opens it when a problem is clicked. Positions are lines; the
// CSV column is named in the message (its character offset is unknown without reading the line).
import * as vscode from 'vscode';
import type { ValidationReport } from '../csv';

export const DIAGNOSTIC_SOURCE = 'Socrata';

export interface FileProblem {
  line: number;
  /** 1-based CSV column, when the problem is about one cell. */
  column: number | undefined;
  message: string;
  severity: 'error' | 'warning';
}

/** Every located problem of a validation report (examples only: the report keeps a few per kind and column). */
export function problemsOf(report: ValidationReport): FileProblem[] {
  const out: FileProblem[] = [];
  for (const p of report.headerProblems) out.push({ line: 1, column: undefined, message: `header: ${p.message}`, severity: 'warning' });
  for (const c of report.columns) {
    for (const e of c.invalid.examples) out.push({ line: e.line, column: e.column, message: `column ${e.column} (${e.columnName}): ${e.message}`, severity: 'error' });
  }
  const rid = report.rowIdentifier;
  if (rid) {
    for (const e of [...rid.empty.examples, ...rid.duplicates.examples]) {
      out.push({ line: e.line, column: e.column, message: `column ${e.column} (${e.columnName}): ${e.message}`, severity: 'error' });
    }
  }
  for (const r of report.ragged.rows) {
    out.push({ line: r.line, column: undefined, message: `${r.actual} field${r.actual === 1 ? '' : 's'} instead of ${r.expected} (the header has ${r.expected} columns)`, severity: 'error' });
  }
  return out.sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
}

export function toDiagnostics(problems: readonly FileProblem[]): vscode.Diagnostic[] {
  return problems.map((p) => {
    const line = Math.max(0, p.line - 1);
    // The whole line: VS Code clamps the end to the line's length once the document is open.
    const d = new vscode.Diagnostic(new vscode.Range(line, 0, line, 10_000), p.message, p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
    d.source = DIAGNOSTIC_SOURCE;
    return d;
  });
}
