// The read-only grid webview (browser bundle): renders pages of rows the host sends and asks for the next or
// previous page. Everything from the server is inserted with textContent, never as HTML.
import type { GridToHost, HostToGrid } from '../protocol';

declare function acquireVsCodeApi(): { postMessage(message: GridToHost): void };

const vscode = acquireVsCodeApi();

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
    const p = el('p', message.message, 'error');
    p.setAttribute('role', 'alert');
    const bar = el('div', undefined, 'toolbar');
    bar.append(button('Previous', { type: 'previous' }, message.hasPrevious), button('Retry', { type: 'retry' }, true));
    root.append(p, bar);
    return;
  }
  root.append(el('h1', message.title));
  const bar = el('div', undefined, 'toolbar');
  const last = message.firstRow + message.rows.length - 1;
  const range = message.rows.length === 0 ? 'No rows' : `Rows ${message.firstRow}–${last}`;
  bar.append(
    button('Previous', { type: 'previous' }, message.hasPrevious),
    button('Next', { type: 'next' }, message.hasNext),
    status(`${range} · ${message.subtitle}`),
  );
  if (message.canSave) bar.append(button('Save as CSV…', { type: 'saveCsv' }, true));
  root.append(bar);
  // The scrolling region takes focus so that keyboard users can scroll it; it is named after the table.
  const wrap = el('div', undefined, 'grid');
  wrap.tabIndex = 0;
  wrap.setAttribute('role', 'region');
  wrap.setAttribute('aria-label', `${message.title}: rows`);
  const table = el('table');
  table.append(el('caption', `${message.title} — ${range}`, 'visually-hidden'));
  const head = el('thead');
  const hr = el('tr');
  const numHead = el('th', '#', 'num');
  numHead.scope = 'col';
  numHead.setAttribute('aria-label', 'Row number');
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
      if (cell === null) td.title = 'no value';
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
