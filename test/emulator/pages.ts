/**
 * The emulator's human-facing pages, so the links a client opens land somewhere: a home page at `/` listing the
 * public datasets, and a minimal dataset page at `/d/{4x4}` (the catalog's `permalink`), at the catalog's `link`
 * (`/{category}/{name}/{4x4}`) and at `/d/{4x4}/revisions/{n}`. Plain HTML, no script; every value escaped.
 * The page shows what the signed-in browser may read: a private dataset is "not found" (a browser sends no
 * Basic credentials here).
 */
import type { EmulatorContext } from './context';
import { isFourByFour, type Dataset } from './store';
import { displayTypeOf, toCsvText } from './types';

const SAMPLE_ROWS = 10;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** The dataset id a page path names, or undefined when the path is not a page. `/` gives ''. */
export function pagePath(pathname: string): { kind: 'home' } | { kind: 'dataset'; id: string; revision?: string } | undefined {
  if (pathname === '/' || pathname === '/browse') return { kind: 'home' };
  let m = /^\/d\/([a-z0-9]{4}-[a-z0-9]{4})\/?$/.exec(pathname);
  if (m?.[1]) return { kind: 'dataset', id: m[1] };
  m = /^\/d\/([a-z0-9]{4}-[a-z0-9]{4})\/revisions\/(\d{1,9})\/?$/.exec(pathname);
  if (m?.[1] && m[2]) return { kind: 'dataset', id: m[1], revision: m[2] };
  m = /^\/(?!api\/|resource\/|oauth\/)[^/]+\/[^/]+\/([a-z0-9]{4}-[a-z0-9]{4})\/?$/.exec(pathname);
  if (m?.[1]) return { kind: 'dataset', id: m[1] };
  return undefined;
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { background: #1d3b5a; color: #fff; padding: 12px 24px; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 24px; }
table { border-collapse: collapse; background: #fff; margin: 8px 0 16px; }
th, td { border: 1px solid #d4d9df; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f4; }
code { background: #eef1f4; padding: 1px 4px; }
.muted { color: #5b6670; }
</style>
</head>
<body>
<header><a href="/">Local Socrata</a> <span class="muted">(emulator)</span></header>
<main>
${body}
</main>
</body>
</html>
`;
}

function readable(ctx: EmulatorContext, ds: Dataset): boolean {
  const u = ctx.user;
  return ds.isPublic || (u !== undefined && (u.id === ds.owner || u.roleName === 'administrator'));
}

function homePage(ctx: EmulatorContext): string {
  const list = ctx.store.listDatasets().filter((ds) => readable(ctx, ds) && ds.publicationStage === 'published');
  const rows = list
    .map(
      (ds) =>
        `<tr><td><a href="/d/${ds.id}">${escapeHtml(ds.name)}</a></td><td><code>${ds.id}</code></td><td>${escapeHtml(ds.category ?? '')}</td><td>${new Date(ds.rowsUpdatedAt * 1000).toISOString().slice(0, 10)}</td></tr>`,
    )
    .join('\n');
  return page(
    'Local Socrata',
    `<h1>Local Socrata</h1>
<p>A local stand-in for a Socrata open data portal at <code>${escapeHtml(ctx.domain)}</code>. ${list.length} public dataset${list.length === 1 ? '' : 's'}.</p>
<table><thead><tr><th>Name</th><th>ID</th><th>Category</th><th>Data updated</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p class="muted">APIs: <code>/api/catalog/v1</code>, <code>/api/views/{4x4}.json</code>, <code>/resource/{4x4}.json</code>, <code>/api/publishing/v1</code>.</p>`,
  );
}

function datasetPage(ctx: EmulatorContext, ds: Dataset, revision: string | undefined): string {
  const owner = ctx.store.getUser(ds.owner);
  const columns = ds.columns.filter((c) => !c.fieldName.startsWith(':'));
  const rows: string[] = [];
  for (const row of ctx.store.iterateRows(ds.id)) {
    if (rows.length >= SAMPLE_ROWS) break;
    rows.push(`<tr>${columns.map((c) => `<td>${escapeHtml(toCsvText(row.v[c.fieldName]) ?? '')}</td>`).join('')}</tr>`);
  }
  const count = ctx.store.rowCount(ds.id);
  const facts: [string, string][] = [
    ['ID', `<code>${ds.id}</code>`],
    ['Owner', escapeHtml(owner?.displayName ?? ds.owner)],
    ['Visibility', ds.isPublic ? 'public' : 'private'],
    ['Rows', count.toLocaleString('en-US')],
    ['Row identifier', ds.rowIdentifier ? `<code>${escapeHtml(ds.rowIdentifier)}</code>` : 'none (rows are keyed by :id)'],
    ['Data updated', new Date(ds.rowsUpdatedAt * 1000).toISOString()],
    ['API endpoint', `<a href="/resource/${ds.id}.json"><code>/resource/${ds.id}.json</code></a>`],
  ];
  return page(
    `${ds.name} | Local Socrata`,
    `<h1>${escapeHtml(ds.name)}</h1>
${revision !== undefined ? `<p>Revision ${escapeHtml(revision)} of this dataset (revisions are applied through <code>/api/publishing/v1</code>).</p>` : ''}
${ds.description ? `<p>${escapeHtml(ds.description)}</p>` : ''}
<table><tbody>
${facts.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('\n')}
</tbody></table>
<h2>Columns</h2>
<table><thead><tr><th>Column</th><th>Field name</th><th>Type</th></tr></thead><tbody>
${columns.map((c) => `<tr><td>${escapeHtml(c.name)}</td><td><code>${escapeHtml(c.fieldName)}</code></td><td>${escapeHtml(displayTypeOf(c.dataTypeName))}</td></tr>`).join('\n')}
</tbody></table>
<h2>First ${Math.min(SAMPLE_ROWS, count)} of ${count.toLocaleString('en-US')} rows</h2>
<table><thead><tr>${columns.map((c) => `<th>${escapeHtml(c.fieldName)}</th>`).join('')}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`,
  );
}

function notFoundPage(id: string): string {
  return page(
    'Not found | Local Socrata',
    `<h1>Dataset not found</h1><p>There is no public dataset <code>${escapeHtml(id)}</code> here (it may be private or deleted).</p><p><a href="/">All datasets</a></p>`,
  );
}

/** Answers a page request (GET/HEAD only); returns false when `pathname` is not a page. */
export function servePage(ctx: EmulatorContext): boolean {
  const target = pagePath(ctx.url.pathname);
  if (!target || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return false;
  const type = 'text/html; charset=utf-8';
  if (target.kind === 'home') {
    ctx.sendRaw(200, homePage(ctx), type);
    return true;
  }
  const ds = isFourByFour(target.id) ? ctx.store.getDataset(target.id) : undefined;
  if (!ds || !readable(ctx, ds)) ctx.sendRaw(404, notFoundPage(target.id), type);
  else ctx.sendRaw(200, datasetPage(ctx, ds, target.revision), type);
  return true;
}
