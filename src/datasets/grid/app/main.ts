// The read-only grid webview (browser bundle): renders pages of rows the host sends and asks for the next or
// previous page. Everything from the server is inserted with textContent, never as HTML. Its texts go through
// @vscode/l10n (`l10n.t`), with the translations the host put in the page (src/webview/app/l10n.ts).
import * as l10n from '@vscode/l10n';
import { loadTranslations } from '../../../webview/app/l10n';
import type { GridQuery, GridToHost, GridTotal, HostToGrid } from '../protocol';

/** Kept by VS Code across a reload of the hidden tab: the query box's unsent text, for the statement it edits. */
interface GridViewState {
  readonly base: string;
  readonly draft: string;
}

declare function acquireVsCodeApi(): { postMessage(message: GridToHost): void; getState(): GridViewState | undefined; setState(state: GridViewState): void };

const vscode = acquireVsCodeApi();
loadTranslations();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className !== undefined) node.className = className;
  return node;
}

function button(label: string, message: GridToHost, enabled: boolean): HTMLButtonElement {
  const b = el('button', label);
  b.type = 'button';
  b.disabled = !enabled;
  b.addEventListener('click', () => vscode.postMessage(message));
  return b;
}

/** The page's range, announced by screen readers when it changes (a polite live region). */
function status(text: string): HTMLSpanElement {
  const s = el('span', text, 'status');
  s.setAttribute('role', 'status');
  return s;
}

/**
 * The query box: the statement (editable; Ctrl+Enter or Run runs it in this tab) and the dataset's recent
 * statements (picking one puts it in the box). Unsent edits survive the tab being hidden and shown again.
 */
function queryForm(query: GridQuery): HTMLFormElement {
  const form = el('form', undefined, 'query');
  const label = el('label', l10n.t('SoQL query'));
  label.htmlFor = 'query-text';
  const text = el('textarea');
  text.id = 'query-text';
  text.rows = 2;
  text.spellcheck = false;
  const saved = vscode.getState();
  text.value = saved !== undefined && saved.base === query.statement ? saved.draft : query.statement;
  text.addEventListener('input', () => vscode.setState({ base: query.statement, draft: text.value }));
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  const run = el('button', l10n.t('Run'));
  run.type = 'submit';
  run.title = l10n.t('Run the query in this tab (Ctrl+Enter)');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    vscode.setState({ base: text.value.trim(), draft: text.value.trim() });
    vscode.postMessage({ type: 'run', statement: text.value });
  });
  form.append(label, text, run);
  if (query.history.length > 0) {
    const historyLabel = el('label', l10n.t('Recent queries'));
    historyLabel.htmlFor = 'query-history';
    const select = el('select');
    select.id = 'query-history';
    select.append(el('option', l10n.t('{0} recent…', query.history.length)));
    for (const statement of query.history) {
      const option = el('option', statement.length > 120 ? `${statement.slice(0, 119)}…` : statement);
      option.value = statement;
      select.append(option);
    }
    select.addEventListener('change', () => {
      if (select.value === '' || select.selectedIndex === 0) return;
      text.value = select.value;
      vscode.setState({ base: query.statement, draft: text.value });
      select.selectedIndex = 0;
      text.focus();
    });
    const recent = el('div', undefined, 'recent');
    recent.append(historyLabel, select);
    form.append(recent);
  }
  return form;
}

/** "Rows 1–100 of 12,345". */
function rangeText(first: number, count: number, total: GridTotal | undefined): string {
  if (count === 0) {
    return total === undefined || total === 'unknown' || total === 'counting' ? l10n.t('No rows') : l10n.t('No rows (of {0})', total.toLocaleString('en-US'));
  }
  const from = first.toLocaleString('en-US');
  const to = (first + count - 1).toLocaleString('en-US');
  if (total === undefined) return l10n.t('Rows {0}–{1}', from, to);
  if (total === 'counting') return l10n.t('Rows {0}–{1} of … (counting)', from, to);
  if (total === 'unknown') return l10n.t('Rows {0}–{1} of an unknown total', from, to);
  return l10n.t('Rows {0}–{1} of {2}', from, to, total.toLocaleString('en-US'));
}

function render(message: HostToGrid): void {
  const root = document.getElementById('root');
  if (!root) return;
  root.replaceChildren();
  root.setAttribute('aria-busy', message.type === 'busy' ? 'true' : 'false');
  if (message.type === 'busy') {
    const p = el('p', message.message, 'status');
    p.setAttribute('role', 'status');
    root.append(p);
    return;
  }
  if (message.type === 'error') {
    root.append(el('h1', message.title));
    if (message.query) root.append(queryForm(message.query));
    const p = el('p', message.message, 'error');
    p.setAttribute('role', 'alert');
    const bar = el('div', undefined, 'toolbar');
    bar.append(button(l10n.t('Previous'), { type: 'previous' }, message.hasPrevious), button(l10n.t('Retry'), { type: 'retry' }, true));
    root.append(p, bar);
    return;
  }
  root.append(el('h1', message.title));
  if (message.query) root.append(queryForm(message.query));
  const bar = el('div', undefined, 'toolbar');
  const range = rangeText(message.firstRow, message.rows.length, message.total);
  bar.append(
    button(l10n.t('Previous'), { type: 'previous' }, message.hasPrevious),
    button(l10n.t('Next'), { type: 'next' }, message.hasNext),
    status(`${range} · ${message.subtitle}`),
  );
  if (message.canSave) bar.append(button(l10n.t('Save as CSV…'), { type: 'saveCsv' }, true));
  root.append(bar);
  // The scrolling region takes focus so that keyboard users can scroll it; it is named after the table.
  const wrap = el('div', undefined, 'grid');
  wrap.tabIndex = 0;
  wrap.setAttribute('role', 'region');
  wrap.setAttribute('aria-label', l10n.t('{0}: rows', message.title));
  const table = el('table');
  table.append(el('caption', `${message.title} — ${range}`, 'visually-hidden'));
  const head = el('thead');
  const hr = el('tr');
  const numHead = el('th', '#', 'num');
  numHead.scope = 'col';
  numHead.setAttribute('aria-label', l10n.t('Row number'));
  hr.append(numHead);
  for (const c of message.columns) {
    const th = el('th');
    th.scope = 'col';
    th.append(el('span', c.name), el('span', c.type ?? '', 'type'));
    hr.append(th);
  }
  head.append(hr);
  const body = el('tbody');
  message.rows.forEach((row, i) => {
    const tr = el('tr');
    tr.append(el('td', String(message.firstRow + i), 'num'));
    row.forEach((cell, j) => {
      const type = message.columns[j]?.type ?? '';
      const td = el('td', cell ?? '', cell === null ? 'null' : type === 'number' || type === 'double' ? 'number' : undefined);
      if (cell === null) td.title = l10n.t('no value');
      tr.append(td);
    });
    body.append(tr);
  });
  table.append(head, body);
  wrap.append(table);
  root.append(wrap);
}

window.addEventListener('message', (event: MessageEvent<HostToGrid>) => render(event.data));
vscode.postMessage({ type: 'ready' });
