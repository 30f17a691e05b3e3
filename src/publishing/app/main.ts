// The CSV preview webview (browser bundle). It renders the host's model and sends intents back; it builds the DOM
// with textContent only (no HTML strings), sets sizes through CSSOM (allowed by the CSP) and keeps its state with
// setState so a hidden/shown or reloaded panel comes back as it was. Its texts go through @vscode/l10n (`l10n.t`), with
// the translations the host put in the page (src/webview/app/l10n.ts).
// Why one file: it is the whole browser bundle of one view, a render function per section of
// the model and the few DOM helpers they share; from the host side it imports only protocol.ts.
import * as l10n from '@vscode/l10n';
import { loadTranslations } from '../../webview/app/l10n';
import {
  COLUMN_TYPES,
  type ColumnTarget,
  type ColumnView,
  isHostToWebview,
  type Mode,
  MODES,
  NEW_COLUMN,
  type PlanView,
  type PreviewModel,
  type WebviewState,
  type WebviewToHost,
} from '../protocol';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: WebviewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

loadTranslations();

const vscode = acquireVsCodeApi();
const ROW_HEIGHT = 24;
const OVERSCAN = 10;

let state: WebviewState = { restore: undefined, model: undefined, scrollTop: 0, scrollLeft: 0 };
const saved = vscode.getState();
if (typeof saved === 'object' && saved !== null && 'scrollTop' in saved) state = saved as WebviewState;

function post(m: WebviewToHost): void {
  vscode.postMessage(m);
}

type Attrs = Record<string, string | number | boolean | undefined>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | undefined)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined) el.append(c);
  return el;
}

function icon(name: string): HTMLElement {
  return h('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

function button(
  label: string,
  iconName: string,
  onClick: () => void,
  opts: { primary?: boolean; disabled?: boolean; title?: string; id?: string } = {},
): HTMLButtonElement {
  const b = h(
    'button',
    { type: 'button', class: opts.primary ? 'btn primary' : 'btn secondary', disabled: opts.disabled, title: opts.title, id: opts.id },
    icon(iconName),
    h('span', {}, label),
  );
  b.addEventListener('click', onClick);
  return b;
}

function fmt(n: number | undefined): string {
  return n === undefined ? '–' : n.toLocaleString('en-US').replace(/,/g, '\u2009');
}

function bytes(n: number): string {
  if (n >= 1024 * 1024 * 1024) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 * 1024) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}

function separatedBy(d: string): string {
  if (d === ',') return l10n.t('comma-separated');
  if (d === '\t') return l10n.t('tab-separated');
  if (d === ';') return l10n.t('semicolon-separated');
  if (d === '|') return l10n.t('pipe-separated');
  return l10n.t('{0}-separated', JSON.stringify(d));
}

function modeLabel(mode: Mode): string {
  switch (mode) {
    case 'upsert':
      return l10n.t('Upsert (update or create by row identifier)');
    case 'append':
      return l10n.t('Append rows');
    case 'replace':
      return l10n.t('Replace all rows');
    case 'delete':
      return l10n.t('Delete the listed rows');
    case 'sync':
      return l10n.t('Sync (upsert, then delete rows not in the file)');
    case 'create':
      return l10n.t('Create a new dataset');
  }
}

function fileSection(m: PreviewModel): HTMLElement {
  const f = m.file;
  const rows = f.rowsExact !== undefined ? l10n.t('{0} rows', fmt(f.rowsExact)) : l10n.t('about {0} rows (counting…)', fmt(f.rowsEstimated));
  return h(
    'section',
    { class: 'file', 'aria-label': l10n.t('File') },
    h('h1', {}, icon('file'), ' ', f.name),
    h(
      'p',
      { class: 'facts', id: 'file-facts' },
      `${bytes(f.size)} · ${f.encoding.toUpperCase()} · ${separatedBy(f.delimiter)} · `,
      h('span', { id: 'row-count' }, rows),
      ' ',
      button(l10n.t('Refresh'), 'refresh', () => post({ type: 'refresh' }), {
        id: 'refresh',
        title: l10n.t('Read the file again (the preview also follows changes on disk)'),
      }),
    ),
  );
}

function targetSection(m: PreviewModel): HTMLElement {
  const t = m.target;
  const section = h('section', { class: 'target', 'aria-label': l10n.t('Target dataset') }, h('h2', {}, l10n.t('Target')));
  if (t.kind === 'existing') {
    section.append(
      h(
        'p',
        { class: 'dataset', id: 'target-dataset' },
        icon(t.isPublic === false ? 'lock' : 'table'),
        ' ',
        h('strong', {}, t.name),
        ` ${l10n.t('({0}) on {1}', t.id, t.domain)}`,
        t.isPublic === undefined ? '' : h('span', { class: t.isPublic ? 'badge public' : 'badge private' }, t.isPublic ? l10n.t('public') : l10n.t('private')),
      ),
    );
  } else if (t.kind === 'new') {
    section.append(
      h(
        'p',
        { class: 'dataset', id: 'target-dataset' },
        icon('new-file'),
        ` ${l10n.t('New dataset')} `,
        h('strong', {}, t.name),
        ` ${l10n.t('on {0}', t.domain)}`,
      ),
    );
  } else {
    section.append(h('p', { class: 'dataset muted', id: 'target-dataset' }, l10n.t('No dataset chosen yet.')));
  }
  const actions = h(
    'div',
    { class: 'row' },
    button(l10n.t('Choose Dataset…'), 'search', () => post({ type: 'pickDataset' }), { id: 'pick-dataset' }),
  );
  section.append(actions);
  const name = h('input', {
    type: 'text',
    id: 'new-name',
    placeholder: l10n.t('Name of a new dataset'),
    'aria-label': l10n.t('New dataset name'),
    value: t.kind === 'new' ? t.name : '',
  });
  const desc = h('input', {
    type: 'text',
    id: 'new-description',
    placeholder: l10n.t('Description (optional)'),
    'aria-label': l10n.t('New dataset description'),
    value: t.kind === 'new' ? t.description : '',
  });
  const visibility = h('select', { id: 'new-permission', 'aria-label': l10n.t('Visibility of the new dataset') });
  for (const v of ['private', 'public'] as const) {
    visibility.append(
      h(
        'option',
        { value: v, selected: (t.kind === 'new' ? t.permission : 'private') === v },
        v === 'public' ? l10n.t('Public (anyone can see it)') : l10n.t('Private (only you and those you share with)'),
      ),
    );
  }
  const create = button(l10n.t('Use New Dataset'), 'add', () => {
    if (name.value.trim() !== '') {
      post({ type: 'newDataset', name: name.value.trim(), description: desc.value, permission: visibility.value === 'public' ? 'public' : 'private' });
    }
  });
  visibility.addEventListener('change', () => {
    if (t.kind === 'new') {
      post({ type: 'newDataset', name: t.name, description: t.description, permission: visibility.value === 'public' ? 'public' : 'private' });
    }
  });
  section.append(
    h(
      'details',
      { class: 'new-dataset', open: t.kind === 'new' },
      h('summary', {}, l10n.t('Create a new dataset instead')),
      h('div', { class: 'row' }, name, desc, visibility, create),
    ),
  );

  const modeSelect = h('select', { id: 'mode', 'aria-label': l10n.t('Mode') });
  const allowed = MODES.filter((mode) => (t.kind === 'new' ? mode === 'create' : mode !== 'create'));
  for (const mode of allowed) modeSelect.append(h('option', { value: mode, selected: mode === m.mode }, modeLabel(mode)));
  modeSelect.addEventListener('change', () => post({ type: 'setMode', mode: modeSelect.value as Mode }));
  const rid = h('span', { id: 'row-identifier' }, m.rowIdentifier ?? l10n.t('none'));
  const ridControl: HTMLElement =
    t.kind === 'new'
      ? (() => {
          const sel = h('select', { id: 'row-identifier-select', 'aria-label': l10n.t('Row identifier') }, h('option', { value: '' }, l10n.t('none')));
          for (const c of m.columns) {
            if (c.target === null) continue;
            const field = c.target === NEW_COLUMN ? fieldNameOf(c.header) : c.target;
            sel.append(h('option', { value: field, selected: field === m.rowIdentifier }, field));
          }
          sel.addEventListener('change', () => post({ type: 'setRowIdentifier', field: sel.value === '' ? null : sel.value }));
          return sel;
        })()
      : rid;
  section.append(h('div', { class: 'grid2' }, h('label', { for: 'mode' }, l10n.t('Mode')), modeSelect, h('span', {}, l10n.t('Row identifier')), ridControl));
  return section;
}

function fieldNameOf(header: string): string {
  const n = header
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[a-z_]/.test(n) ? n : `_${n}`;
}

function planSection(m: PreviewModel): HTMLElement {
  const p: PlanView = m.plan;
  const section = h('section', { class: 'plan', 'aria-label': l10n.t('Plan'), id: 'plan' }, h('h2', {}, l10n.t('What a publish would do')));
  const status =
    p.state === 'running'
      ? h('p', { class: 'muted', id: 'plan-state' }, icon('loading codicon-modifier-spin'), ` ${l10n.t('Checking every row… {0} read', fmt(p.scannedRows))}`)
      : p.state === 'error'
        ? h('p', { class: 'error', id: 'plan-state' }, icon('error'), ` ${p.message ?? l10n.t('The check failed.')}`)
        : h('p', { class: 'muted', id: 'plan-state' }, p.message ?? p.explanation ?? '');
  section.append(status);
  const stat = (label: string, value: number | undefined, cls = '', id?: string) =>
    h('div', { class: `stat ${cls}`, id }, h('span', { class: 'value' }, fmt(value)), h('span', { class: 'label' }, label));
  section.append(
    h(
      'div',
      { class: 'stats' },
      stat(l10n.t('to create'), p.toCreate, '', 'plan-create'),
      stat(l10n.t('to update'), p.toUpdate, '', 'plan-update'),
      stat(l10n.t('to delete'), p.toDelete, p.toDelete ? 'warn' : '', 'plan-delete'),
      stat(l10n.t('problems'), p.problemCount, p.problemCount ? 'bad' : '', 'plan-problems'),
    ),
  );
  for (const w of p.warnings.slice(0, 5)) section.append(h('p', { class: 'warning' }, icon('warning'), ` ${w}`));
  if ((p.problemCount ?? 0) > 0) {
    const box = h('input', { type: 'checkbox', id: 'skip-bad-rows', checked: p.skipBadRows });
    box.addEventListener('change', () => post({ type: 'setSkipBadRows', skip: box.checked }));
    const text =
      p.badRows === undefined
        ? l10n.t('Skip the rows with problems and publish the others (the skipped rows go to an error-rows CSV)')
        : p.badRows === 1
          ? l10n.t('Skip the 1 row with problems and publish the others (the skipped rows go to an error-rows CSV)')
          : l10n.t('Skip the {0} rows with problems and publish the others (the skipped rows go to an error-rows CSV)', fmt(p.badRows));
    section.append(h('p', { class: 'skip' }, h('label', { for: 'skip-bad-rows' }, box, ` ${text}`)));
  }
  const busy = m.busy !== undefined;
  const noTarget = m.target.kind === 'none';
  section.append(
    h(
      'div',
      { class: 'row actions' },
      button(l10n.t('Dry Run'), 'beaker', () => post({ type: 'action', action: 'dryRun' }), {
        disabled: busy || noTarget,
        id: 'dry-run',
        title: l10n.t('Check and count without sending anything'),
      }),
      button(l10n.t('Publish'), 'cloud-upload', () => post({ type: 'action', action: 'publish' }), {
        primary: true,
        disabled: busy || noTarget,
        id: 'publish',
      }),
      button(l10n.t('Save as Publish Spec'), 'save', () => post({ type: 'action', action: 'saveSpec' }), { disabled: noTarget, id: 'save-spec' }),
    ),
  );
  if (m.busy) section.append(h('p', { class: 'muted', id: 'busy' }, icon('loading codicon-modifier-spin'), ` ${m.busy}`));
  if (m.lastResult) section.append(h('p', { class: 'result', id: 'last-result' }, m.lastResult));
  return section;
}

function targetOptions(m: PreviewModel, c: ColumnView): HTMLSelectElement {
  const sel = h('select', { 'aria-label': l10n.t('Target field of {0}', c.header), class: 'target-select' });
  const add = (value: string, label: string, selected: boolean) => sel.append(h('option', { value, selected }, label));
  if (m.target.kind === 'existing') {
    for (const f of m.target.fields) add(f.fieldName, `${f.name} (${f.fieldName})`, c.target === f.fieldName);
  } else {
    add(NEW_COLUMN, l10n.t('new column {0}', fieldNameOf(c.header)), c.target === NEW_COLUMN);
  }
  add('', l10n.t('ignore (not sent)'), c.target === null);
  sel.addEventListener('change', () => {
    const target: ColumnTarget = sel.value === '' ? null : sel.value;
    post({ type: 'setTarget', column: c.index, target });
  });
  return sel;
}

function columnsSection(m: PreviewModel): HTMLElement {
  const table = h('table', { class: 'columns', id: 'columns' });
  table.append(
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...[l10n.t('Column'), l10n.t('Inferred'), l10n.t('Type'), l10n.t('Target field'), l10n.t('Empty'), l10n.t('Problems')].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
  );
  const body = h('tbody');
  for (const c of m.columns) {
    const typeSel = h('select', { 'aria-label': l10n.t('Type of {0}', c.header), class: 'type-select' });
    for (const t of COLUMN_TYPES) typeSel.append(h('option', { value: t, selected: t === c.type }, t));
    typeSel.addEventListener('change', () => post({ type: 'setType', column: c.index, columnType: typeSel.value as (typeof COLUMN_TYPES)[number] }));
    const problems = h('td', { class: c.problems > 0 ? 'problems bad' : 'problems' }, c.problems > 0 ? `${fmt(c.problems)}` : '0');
    if (c.examples.length > 0) {
      const list = h('ul', { class: 'examples' });
      for (const e of c.examples) {
        const link = h('a', { href: '#', title: l10n.t('Open this line') }, e.text);
        link.addEventListener('click', (ev) => {
          ev.preventDefault();
          post({ type: 'openLine', line: e.line, column: e.column });
        });
        list.append(h('li', {}, link));
      }
      problems.append(list);
    }
    body.append(
      h(
        'tr',
        { 'data-column': c.index },
        h(
          'th',
          { scope: 'row' },
          c.header,
          c.confidence !== undefined && c.confidence < 1
            ? h('span', { class: 'muted', title: l10n.t('Matched by name similarity') }, ` ~${Math.round(c.confidence * 100)}%`)
            : '',
        ),
        h('td', { class: 'inferred' }, c.inferredType),
        h('td', {}, typeSel),
        h('td', {}, targetOptions(m, c)),
        h('td', {}, `${Math.round(c.nullShare * 100)}%`),
        problems,
      ),
    );
  }
  table.append(body);
  return h('section', { class: 'columns-section', 'aria-label': l10n.t('Columns') }, h('h2', {}, l10n.t('Columns')), h('div', { class: 'scroll-x' }, table));
}

/** The first rows, virtualised: only the rows in view (plus a margin) are in the DOM. */
function gridSection(m: PreviewModel): HTMLElement {
  const header = m.grid.header;
  const viewport = h('div', {
    class: 'grid-viewport',
    tabindex: 0,
    role: 'grid',
    'aria-label': l10n.t('First rows'),
    'aria-rowcount': m.grid.rows.length + 1,
    id: 'grid',
  });
  const head = h(
    'div',
    { class: 'grid-row grid-head', role: 'row' },
    h('span', { class: 'cell line', role: 'columnheader' }, l10n.t('line')),
    ...header.map((c) => h('span', { class: 'cell', role: 'columnheader', title: c }, c)),
  );
  const body = h('div', { class: 'grid-body' });
  body.style.height = `${m.grid.rows.length * ROW_HEIGHT}px`;
  viewport.append(head, body);
  let first = -1;
  let last = -1;
  const draw = () => {
    const top = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const bottom = Math.min(m.grid.rows.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    if (top === first && bottom === last) return;
    first = top;
    last = bottom;
    body.replaceChildren();
    for (let i = top; i < bottom; i++) {
      const r = m.grid.rows[i];
      if (!r) continue;
      const row = h(
        'div',
        { class: 'grid-row', role: 'row', 'aria-rowindex': i + 2 },
        h('span', { class: 'cell line' }, String(r.line)),
        ...header.map((_, j) => h('span', { class: 'cell', role: 'gridcell', title: r.fields[j] ?? '' }, r.fields[j] ?? '')),
      );
      row.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      body.append(row);
    }
  };
  viewport.addEventListener('scroll', () => {
    draw();
    state = { ...state, scrollTop: viewport.scrollTop, scrollLeft: viewport.scrollLeft };
    vscode.setState(state);
  });
  requestAnimationFrame(() => {
    viewport.scrollTop = state.scrollTop;
    viewport.scrollLeft = state.scrollLeft;
    draw();
  });
  // The header and cells share the width of the widest column set, so wide files scroll sideways together.
  const width = `${80 + header.length * 160}px`;
  head.style.width = width;
  body.style.width = width;
  return h('section', { class: 'grid-section', 'aria-label': l10n.t('First rows') }, h('h2', {}, l10n.t('First {0} rows', fmt(m.grid.rows.length))), viewport);
}

function render(m: PreviewModel): void {
  const root = document.getElementById('root');
  if (!root) return;
  const focused = document.activeElement?.id;
  root.setAttribute('aria-busy', m.plan.state === 'running' || m.busy !== undefined ? 'true' : 'false');
  const parts: HTMLElement[] = [fileSection(m)];
  if (m.error) parts.push(h('p', { class: 'error', id: 'error', role: 'alert' }, icon('error'), ` ${m.error}`));
  parts.push(h('div', { class: 'top' }, targetSection(m), planSection(m)));
  if (m.columns.length) parts.push(columnsSection(m));
  if (m.grid.header.length) parts.push(gridSection(m));
  root.replaceChildren(...parts);
  if (focused) document.getElementById(focused)?.focus();
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const m = event.data;
  if (!isHostToWebview(m)) return;
  if (m.type === 'model') {
    state = { ...state, model: m.model, restore: m.restore };
    vscode.setState(state);
    render(m.model);
  } else if (state.model) {
    const model = { ...state.model, plan: m.plan, file: { ...state.model.file, rowsExact: m.rowsExact } };
    state = { ...state, model };
    vscode.setState(state);
    render(model);
  }
});

if (state.model) render(state.model);
post({ type: 'ready' });
