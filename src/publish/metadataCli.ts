// `socrata-publish metadata get|set`: the dataset metadata document from the command line (src/soda/metadata.ts).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SodaClient } from '../soda';
import {
  applyPatch,
  describeRisks,
  diffDocuments,
  formatDocument,
  MetadataClient,
  MetadataDocumentError,
  validateDocument,
  type MetadataDocument,
} from '../soda/metadata';

export const METADATA_HELP = `  socrata-publish metadata get --domain <host> --dataset <4x4> [--json]
  socrata-publish metadata set --domain <host> --dataset <4x4> --file <metadata.json> [--dry-run] [--json] [--route revision|view]`;

export interface MetadataCliDeps {
  makeClient(domain: string): SodaClient;
  usage(message: string): never;
  check4x4(value: string): void;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal?: AbortSignal;
}

/** `metadata get|set`; returns the exit code. */
export async function cmdMetadata(args: string[], deps: MetadataCliDeps): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'get' && sub !== 'set') deps.usage(`metadata needs get or set (got ${sub === undefined ? 'nothing' : `"${sub}"`}).`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      domain: { type: 'string' },
      dataset: { type: 'string' },
      json: { type: 'boolean' },
      file: { type: 'string' },
      'dry-run': { type: 'boolean' },
      route: { type: 'string' },
    },
  });
  if (positionals.length) deps.usage(`metadata ${sub} takes no positional arguments (got ${positionals.join(' ')}).`);
  if (values.domain === undefined || values.dataset === undefined) deps.usage(`metadata ${sub} needs --domain and --dataset.`);
  deps.check4x4(values.dataset);
  if (sub === 'set' && values.file === undefined) deps.usage('metadata set needs --file <metadata.json>.');
  if (values.route !== undefined && values.route !== 'revision' && values.route !== 'view') deps.usage('--route: must be revision or view.');
  const client = deps.makeClient(values.domain);
  const meta = new MetadataClient(client);
  const signal = deps.signal;
  try {
    const { document: server } = await meta.get(values.dataset, signal);
    if (sub === 'get') {
      if (values.json) deps.stdout.write(formatDocument(server));
      else deps.stdout.write(describeDocument(server));
      return 0;
    }
    const file = resolve(values.file as string);
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => deps.usage(`--file: cannot read ${file} (${e.code ?? e.message}).`));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      deps.stderr.write(`${file}: not valid JSON: ${(e as Error).message}\n`);
      return 1;
    }
    // A file may hold only some keys: the others keep the server's values.
    const mine: MetadataDocument =
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { ...applyPatch(server, {}), ...(value as Partial<MetadataDocument>) }
        : (value as MetadataDocument);
    delete (mine as { $schema?: unknown }).$schema;
    const lists = await meta.lists(signal);
    const problems = validateDocument(mine, server, lists);
    if (problems.length) {
      for (const p of problems) deps.stderr.write(`${file}: ${p.field}: ${p.message}\n`);
      return 1;
    }
    const changes = diffDocuments(server, mine);
    for (const risk of describeRisks(changes, client.domain.host, values.dataset)) deps.stderr.write(`Warning: ${risk}\n`);
    const result = await meta.apply(values.dataset, mine, {
      base: server,
      lists,
      dryRun: values['dry-run'] ?? false,
      ...(values.route ? { route: values.route } : {}),
      ...(signal ? { signal } : {}),
    });
    if (values.json) {
      deps.stdout.write(
        `${JSON.stringify({ dryRun: values['dry-run'] ?? false, route: result.route, changes: result.changes, document: result.document }, null, 2)}\n`,
      );
    } else {
      const verb = values['dry-run'] ? 'Would change' : 'Changed';
      if (!result.changes.length) deps.stdout.write('Nothing to change.\n');
      else {
        deps.stdout.write(
          `${verb} ${result.changes.length} field(s) of ${values.dataset}${result.route === 'none' ? '' : ` (${result.route === 'revision' ? 'metadata-only revision' : 'PUT /api/views'})`}${values['dry-run'] ? '; nothing was sent' : ''}:\n`,
        );
        for (const c of result.changes) deps.stdout.write(`  ${c.field}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}\n`);
      }
      if (result.approvalSubmitted) deps.stdout.write('The revision was submitted for approval.\n');
    }
    return 0;
  } catch (e) {
    if (e instanceof MetadataDocumentError) {
      for (const p of e.problems) deps.stderr.write(`${values.file ?? 'metadata'}: ${p.field}: ${p.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await client.close();
  }
}

function describeDocument(d: MetadataDocument): string {
  const lines = [
    `Name:            ${d.name}`,
    `Description:     ${d.description}`,
    `Category:        ${d.category ?? '—'}`,
    `Tags:            ${d.tags.join(', ') || '—'}`,
    `Licence:         ${d.license.id ?? '—'}${d.license.attribution ? ` (attribution: ${d.license.attribution})` : ''}${d.license.attributionLink ? ` ${d.license.attributionLink}` : ''}`,
    `Contact email:   ${d.contactEmail ?? '—'}`,
    `Row identifier:  ${d.rowIdentifier ?? '—'}`,
    `Permission:      ${d.permission}`,
  ];
  for (const [set, fields] of Object.entries(d.customFields)) for (const [k, v] of Object.entries(fields)) lines.push(`${set} / ${k}: ${v}`);
  lines.push('Columns:');
  for (const c of d.columns) lines.push(`  ${c.fieldName} — ${c.displayName}${c.description ? `: ${c.description}` : ''}`);
  return `${lines.join('\n')}\n`;
}
