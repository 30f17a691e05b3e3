// socrata-publish — the headless publisher (same engine as the extension: src/publish).
// Credentials come from the environment only. As shells expect: the result goes to stdout; errors, warnings and
// progress go to stderr (a bar only when stderr is a terminal, else a line about every 10 s; none with --quiet);
// with --json, stdout holds only JSON, errors included; a failed run ends with the failure.
// Exit codes: 0 success, 1 failure (refused, failed, cancelled, rows not published, invalid file), 2 bad usage.
// Why one file: the help text, the flags and the output of the commands (publish, validate, query;
// metadata is src/publish/metadataCli.ts) read as one interface; the work is in the engine (src/publish, src/csv,
// src/soda).
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readHead, schemaFromView, validateFile, type DatasetSchema } from './csv';
import { loadSpec, PUBLISH_MODES, publish, type PublishMode, type PublishProgress, type PublishRequest, type PublishResult } from './publish';
import { cmdMetadata, METADATA_HELP } from './publish/metadataCli';
import { draftRef, isSodaError, isValid4x4, parseDomain, runQuery, SodaClient, type SodaAuth } from './soda';
import { caFilesFromEnv } from './soda/network';

const HELP = `socrata-publish — publish CSV files to Socrata

Usage:
  socrata-publish publish <csv> --domain <host[:port]> (--dataset <4x4> | --new-name <name>) --mode <mode> [options]
  socrata-publish publish --spec <socrata.publish.json> [options]
  socrata-publish validate <csv> [--domain <host> --dataset <4x4>] [--json] [--quiet]
  socrata-publish query --domain <host> --dataset <4x4> [--soql "<SoQL>"] [--json] [--quiet]
${METADATA_HELP}

Modes: ${PUBLISH_MODES.join(', ')}

Options:
  --spec <file>          read domain, dataset, csv, mode, mapping… from a publish spec (flags override it)
  --dry-run              plan and validate only; nothing is written
  --json                 print only JSON on stdout (the result, or {"ok": false, "error": …})
  --quiet                no progress on stderr (errors are still printed)
  --batch-size <n>       rows per request (default 10000)
  --concurrency <n>      requests in flight (default 3, at most 8)
  --skip-bad-rows        send the good rows; bad rows go to the error-rows CSV
  --row-identifier <f>   row identifier field (create: set it on the new dataset)
  --route revision       upsert/append/delete through a revision (all or nothing)
  --journal-dir <dir>    resume journal directory (default: .socrata/ next to the spec or the CSV)
  --errors-file <file>   where to write rows that were not published (default: <csv>.errors.csv)
  --uncertain <choice>   after an interrupted append: stop (default), skip or resend the uncertain lines
  -h, --help             this help

Credentials (environment only, never flags or spec files):
  SOCRATA_KEY_ID + SOCRATA_KEY_SECRET, or SOCRATA_USERNAME + SOCRATA_PASSWORD, or SOCRATA_OAUTH_TOKEN;
  SOCRATA_APP_TOKEN optionally. query goes through SODA3, which needs credentials or SOCRATA_APP_TOKEN
  (a portal without SODA3 is queried through SODA 2.1 /resource instead).

Network (environment):
  HTTPS_PROXY / HTTP_PROXY (http://user:password@proxy:port), NO_PROXY;
  SOCRATA_CA_FILE  PEM file(s) of extra certificate authorities (separated by ":" or ";" on Windows);
  NODE_EXTRA_CA_CERTS and the operating system's certificate store are trusted too.
`;

class UsageError extends Error {}

function usage(message: string): never {
  throw new UsageError(message);
}

function authFromEnv(env: NodeJS.ProcessEnv): SodaAuth {
  const keyId = env.SOCRATA_KEY_ID;
  const keySecret = env.SOCRATA_KEY_SECRET;
  if (keyId || keySecret) {
    if (!keyId || !keySecret) usage('SOCRATA_KEY_ID and SOCRATA_KEY_SECRET must be set together.');
    return { type: 'apiKey', keyId, keySecret };
  }
  const user = env.SOCRATA_USERNAME;
  const password = env.SOCRATA_PASSWORD;
  if (user || password) {
    if (!user || !password) usage('SOCRATA_USERNAME and SOCRATA_PASSWORD must be set together.');
    return { type: 'basic', email: user, password };
  }
  if (env.SOCRATA_OAUTH_TOKEN) return { type: 'oauth', accessToken: env.SOCRATA_OAUTH_TOKEN };
  return { type: 'none' };
}

function makeClient(domain: string, env: NodeJS.ProcessEnv): SodaClient {
  try {
    parseDomain(domain);
  } catch (e) {
    usage(`--domain: ${(e as Error).message}`);
  }
  return new SodaClient({
    domain,
    auth: authFromEnv(env),
    ...(env.SOCRATA_APP_TOKEN ? { appToken: env.SOCRATA_APP_TOKEN } : {}),
    product: 'cli',
    tls: { caFiles: caFilesFromEnv(env) },
  });
}

function check4x4(value: string): void {
  const ok: boolean = isValid4x4(value);
  const draft = draftRef(value);
  if (!ok && draft) {
    usage(`--dataset: "${value}" is a draft (revision ${draft.revision}) of ${draft.id}; use ${draft.id}: reads and writes go to published datasets.`);
  }
  if (!ok) usage(`--dataset: "${value}" is not a 4x4 id such as "abcd-1234".`);
}

function intFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) usage(`--${name}: expected a whole number, got "${value}".`);
  return Number(value);
}

function formatDuration(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** Seconds between progress lines when stderr is not a terminal. */
export const PROGRESS_LINE_INTERVAL_MS = 10_000;

/**
 * Progress on stderr: a bar redrawn in place when stderr is a terminal; otherwise a line about every 10 s (the
 * first one 10 s after the start, so a short run prints none); nothing with `quiet`.
 */
export function progressPrinter(
  stderr: NodeJS.WritableStream & { isTTY?: boolean },
  options: { quiet?: boolean; now?: () => number } = {},
): { onProgress: (p: PublishProgress) => void; done: () => void } {
  const tty = stderr.isTTY === true;
  const now = options.now ?? Date.now;
  let lastLine = now();
  let drawn = false;
  return {
    onProgress: (p) => {
      if (options.quiet) return;
      const pct = p.rowsTotal
        ? Math.min(100, Math.floor((p.rowsDone / p.rowsTotal) * 100))
        : p.bytesTotal
          ? Math.min(100, Math.floor((p.bytesDone / p.bytesTotal) * 100))
          : 0;
      const text = `${p.stage} ${p.rowsDone}${p.rowsTotal !== undefined ? `/${p.rowsTotal}` : ''} rows, ${p.rowsPerSecond} rows/s, ETA ${formatDuration(p.etaSeconds)}${p.lastRequestId ? `, request ${p.lastRequestId}` : ''}`;
      if (tty) {
        const width = 24;
        const filled = Math.round((pct / 100) * width);
        stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${text}\u001b[K`);
        drawn = true;
      } else if (now() - lastLine >= PROGRESS_LINE_INTERVAL_MS) {
        stderr.write(`${text}\n`);
        lastLine = now();
      }
    },
    done: () => {
      if (tty && drawn) stderr.write('\n');
      drawn = false;
    },
  };
}

const SUCCESS: readonly PublishResult['status'][] = ['success', 'dry-run', 'approval-submitted'];

/** The result on stdout; a failure (its message) last, on stderr. */
function printResult(result: PublishResult, json: boolean, out: NodeJS.WritableStream, err: NodeJS.WritableStream): void {
  const failed = !SUCCESS.includes(result.status);
  if (json) {
    const plan = result.plan ? { ...result.plan, syncDeletes: result.plan.syncDeletes?.length, remoteHashes: result.plan.remoteHashes?.size } : undefined;
    out.write(`${JSON.stringify({ ok: !failed, ...result, plan }, null, 2)}\n`);
    if (failed) err.write(`socrata-publish: ${result.message}\n`);
    return;
  }
  const lines = failed ? [] : [result.message];
  if (result.plan) {
    const p = result.plan;
    lines.push(`Plan: ${p.explanation}`);
    const c = p.counts;
    const nums = [
      p.rows !== undefined ? `${p.rows} rows in the file` : undefined,
      p.badRows ? `${p.badRows} with problems` : undefined,
      c.toCreate !== undefined ? `${c.toCreate} to create` : undefined,
      c.toUpdate !== undefined ? `${c.toUpdate} to update` : undefined,
      c.toDelete !== undefined ? `${c.toDelete} to delete` : undefined,
      c.remoteBefore !== undefined ? `${c.remoteBefore} rows before, ${c.remoteAfter ?? '?'} after` : undefined,
    ].filter(Boolean);
    if (nums.length) lines.push(`      ${nums.join(', ')}.`);
    for (const w of p.warnings) lines.push(`Note: ${w}`);
    for (const pr of p.problems.slice(0, 10)) lines.push(`Problem: ${pr.message}`);
  }
  const didSomething = result.created + result.updated + result.deleted + result.errors > 0;
  if (result.status !== 'dry-run' && result.status !== 'refused' && (!failed || didSomething)) {
    lines.push(
      `Created ${result.created}, updated ${result.updated}, deleted ${result.deleted}, errors ${result.errors} (${(result.elapsedMs / 1000).toFixed(1)} s).`,
    );
  }
  if (result.resume) lines.push(result.resume.reason);
  for (const e of result.rowErrors.slice(0, 10)) lines.push(`Line ${e.line}: ${e.message}`);
  if (result.errorRowsFile) lines.push(`Rows not published: ${result.errorRowsFile}`);
  if (lines.length) out.write(`${lines.join('\n')}\n`);
  if (failed) err.write(`socrata-publish: ${result.message}\n`);
}

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

async function cmdPublish(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      domain: { type: 'string' },
      dataset: { type: 'string' },
      'new-name': { type: 'string' },
      mode: { type: 'string' },
      spec: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      'skip-bad-rows': { type: 'boolean' },
      'row-identifier': { type: 'string' },
      route: { type: 'string' },
      'journal-dir': { type: 'string' },
      'errors-file': { type: 'string' },
      uncertain: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (positionals.length > 1) usage(`publish takes one CSV file, got ${positionals.length}: ${positionals.join(' ')}`);
  let request: Partial<PublishRequest> = {};
  let domain = values.domain;
  let journalDir = values['journal-dir'];
  if (values.spec !== undefined) {
    const loaded = await loadSpec(values.spec).catch((e: unknown) => usage((e as Error).message));
    request = loaded.request;
    domain ??= loaded.domain;
    journalDir ??= join(loaded.specDir, '.socrata');
  }
  if (positionals[0] !== undefined) request.file = resolve(positionals[0]);
  if (request.file === undefined) usage('publish needs a CSV file (or --spec with "csv").');
  if (domain === undefined) usage('publish needs --domain <host[:port]> (or a spec with "domain").');
  if (values.mode !== undefined) {
    if (!(PUBLISH_MODES as readonly string[]).includes(values.mode)) usage(`--mode: must be one of ${PUBLISH_MODES.join(', ')} (got "${values.mode}").`);
    request.mode = values.mode as PublishMode;
  }
  if (values.dataset !== undefined) {
    check4x4(values.dataset);
    request.dataset = values.dataset;
    delete request.newDataset;
  }
  if (values['new-name'] !== undefined) {
    request.newDataset = { ...(request.newDataset ?? {}), name: values['new-name'] };
    delete request.dataset;
    request.mode ??= 'create';
  }
  if (request.mode === undefined) usage(`publish needs --mode (${PUBLISH_MODES.join(', ')}).`);
  if (request.dataset === undefined && request.newDataset === undefined) usage('publish needs --dataset <4x4> or --new-name <name>.');
  const batchSize = intFlag(values['batch-size'], 'batch-size');
  if (batchSize !== undefined) request.batchSize = batchSize;
  const concurrency = intFlag(values.concurrency, 'concurrency');
  if (concurrency !== undefined) request.concurrency = concurrency;
  if (values['skip-bad-rows']) request.skipBadRows = true;
  if (values['row-identifier'] !== undefined) request.rowIdentifier = values['row-identifier'];
  if (values.route !== undefined) {
    if (values.route !== 'revision' && values.route !== 'auto') usage('--route: must be auto or revision.');
    request.route = values.route;
  }
  const uncertain = values.uncertain;
  if (uncertain !== undefined && uncertain !== 'stop' && uncertain !== 'skip' && uncertain !== 'resend') usage('--uncertain: must be stop, skip or resend.');
  journalDir ??= join(dirname(request.file), '.socrata');
  const client = makeClient(domain, io.env);
  const progress = progressPrinter(io.stderr, { quiet: values.quiet ?? false });
  try {
    const result = await publish(client, request as PublishRequest, {
      dryRun: values['dry-run'] ?? false,
      journalDir,
      onProgress: progress.onProgress,
      ...(values['errors-file'] !== undefined ? { errorRowsFile: resolve(values['errors-file']) } : {}),
      ...(uncertain !== undefined ? { uncertain } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    progress.done();
    printResult(result, values.json ?? false, io.stdout, io.stderr);
    return SUCCESS.includes(result.status) ? 0 : 1;
  } finally {
    progress.done();
    await client.close();
  }
}

/**
 * Problems that make a CSV unusable before any row is read, as `file:line:column: message` (line and column
 * 1-based): no bytes, no header, a blank header name, two headers that become the same field name.
 */
async function structuralProblems(file: string): Promise<{ problems: string[]; fatal: boolean }> {
  const size = (
    await stat(file).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`${file}: cannot read the file (${e.code === 'ENOENT' ? 'it does not exist' : e.code === 'EACCES' ? 'permission denied' : e.message}).`);
    })
  ).size;
  if (size === 0) return { problems: [`${file}:1:1: the file is empty (0 bytes); a CSV starts with a header line naming the columns.`], fatal: true };
  const head = await readHead(file, { rows: 0 });
  const line = head.headerLine;
  if (head.header.length === 0 || head.header.every((h) => h.trim() === '')) {
    return { problems: [`${file}:${line}:1: no header: the file has no line naming the columns.`], fatal: true };
  }
  if (head.header.every((h) => h.trim() !== '' && Number.isFinite(Number(h.trim())))) {
    return {
      problems: [
        `${file}:${line}:1: no header: the first line holds values (${head.header
          .slice(0, 3)
          .map((h) => `"${h}"`)
          .join(', ')}), not column names; add a header line naming the columns.`,
      ],
      fatal: true,
    };
  }
  const problems: string[] = [];
  for (const p of head.headerProblems) {
    if (p.kind === 'empty') {
      const c = p.columns[0] ?? 0;
      const name = head.header[c] ?? '';
      problems.push(
        `${file}:${line}:${c + 1}: header: column ${c + 1} ${name.trim() === '' ? 'has a blank name' : `("${name}") has no letters or digits to make a field name`}.`,
      );
    } else {
      const [first, ...others] = p.columns;
      for (const c of others) {
        problems.push(
          `${file}:${line}:${c + 1}: header: column ${c + 1} ("${head.header[c]}") becomes the field name "${head.fieldNames[c] ?? ''}", like column ${(first ?? 0) + 1} ("${head.header[first ?? 0]}"); rename one of them.`,
        );
      }
    }
  }
  return { problems, fatal: false };
}

async function cmdValidate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { domain: { type: 'string' }, dataset: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
  });
  if (positionals.length !== 1) usage('validate takes one CSV file.');
  const file = resolve(positionals[0]);
  if (values.dataset !== undefined || values.domain !== undefined) {
    if (values.dataset === undefined || values.domain === undefined) usage('validate against a dataset needs both --domain and --dataset.');
    check4x4(values.dataset);
  }
  const structure = await structuralProblems(file);
  const report = async (): Promise<{ rows: number; problemCount: number; problems: string[]; unknownColumns: string[]; missingColumns: string[] }> => {
    if (structure.fatal) return { rows: 0, problemCount: structure.problems.length, problems: structure.problems, unknownColumns: [], missingColumns: [] };
    let schema: DatasetSchema;
    if (values.dataset !== undefined && values.domain !== undefined) {
      const client = makeClient(values.domain, io.env);
      try {
        const view = await client.view(values.dataset);
        schema = schemaFromView(view.raw);
      } finally {
        await client.close();
      }
    } else {
      const head = await readHead(file, { rows: 0 });
      schema = { columns: head.header.map((h, i) => ({ fieldName: head.fieldNames[i] ?? h, name: h, dataTypeName: head.columns[i]?.type ?? 'text' })) };
    }
    const r = await validateFile(file, schema);
    const problems = [
      ...structure.problems,
      ...r.columns.flatMap((c) => c.invalid.examples.map((e) => e.text)),
      ...r.ragged.examples.map((e) => e.text),
      ...(r.rowIdentifier ? [...r.rowIdentifier.empty.examples, ...r.rowIdentifier.duplicates.examples].map((e) => e.text) : []),
      ...(r.rowIdentifier && !r.rowIdentifier.inCsv ? [`${file}: the row identifier column ${r.rowIdentifier.fieldName} is missing`] : []),
      ...r.typeDisagreements.map((d) => `${file}: ${d.message}`),
    ];
    return {
      rows: r.rows,
      problemCount: r.problemCount + structure.problems.length + r.typeDisagreements.length,
      problems,
      unknownColumns: r.unknownColumns,
      missingColumns: r.missingColumns,
    };
  };
  const r = await report();
  const ok = r.problemCount === 0;
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ ok, file, rows: r.rows, problemCount: r.problemCount, problems: r.problems, unknownColumns: r.unknownColumns, missingColumns: r.missingColumns }, null, 2)}\n`,
    );
  } else {
    io.stdout.write(`${file}: ${r.rows} rows, ${r.problemCount} problem(s).\n`);
    for (const p of r.problems) io.stdout.write(`${p}\n`);
    if (r.unknownColumns.length) io.stdout.write(`Columns not in the dataset: ${r.unknownColumns.join(', ')}\n`);
  }
  if (!ok && !values.quiet) io.stderr.write(`socrata-publish: ${file} has ${r.problemCount} problem(s).\n`);
  return ok ? 0 : 1;
}

async function cmdQuery(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      domain: { type: 'string' },
      dataset: { type: 'string' },
      soql: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (positionals.length > 0) usage(`query takes no positional arguments (got ${positionals.join(' ')}).`);
  if (values.domain === undefined || values.dataset === undefined) usage('query needs --domain and --dataset.');
  check4x4(values.dataset);
  const client = makeClient(values.domain, io.env);
  try {
    const statement = values.soql ?? 'SELECT * LIMIT 100';
    const res = await runQuery(client, values.dataset, statement, {
      ...(io.signal ? { signal: io.signal } : {}),
      onNotice: (m) => io.stderr.write(`socrata-publish: ${m}\n`),
    });
    if (values.json) io.stdout.write(`${JSON.stringify(res.rows, null, 2)}\n`);
    else for (const row of res.rows) io.stdout.write(`${JSON.stringify(row)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/** The error as `--json` prints it on stdout. */
function errorJson(e: unknown, message: string, exitCode: number): string {
  const error: Record<string, unknown> = { message, exitCode };
  if (exitCode === 2) error.kind = 'usage';
  else if (isSodaError(e)) {
    error.kind = e.kind;
    if (e.status !== undefined) error.status = e.status;
    if (e.code !== undefined) error.code = e.code;
    if (e.requestId !== undefined) error.requestId = e.requestId;
    if (e.field !== undefined) error.field = e.field;
  } else error.kind = 'error';
  return `${JSON.stringify({ ok: false, error }, null, 2)}\n`;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json');
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      (command === undefined ? io.stderr : io.stdout).write(HELP);
      return command === undefined ? 2 : 0;
    }
    if (rest.includes('-h') || rest.includes('--help')) {
      io.stdout.write(HELP);
      return 0;
    }
    switch (command) {
      case 'publish':
        return await cmdPublish(rest, io);
      case 'validate':
        return await cmdValidate(rest, io);
      case 'query':
        return await cmdQuery(rest, io);
      case 'metadata':
        return await cmdMetadata(rest, {
          makeClient: (d) => makeClient(d, io.env),
          usage,
          check4x4,
          stdout: io.stdout,
          stderr: io.stderr,
          ...(io.signal ? { signal: io.signal } : {}),
        });
      default:
        usage(`unknown command "${command}" (publish, validate, query, metadata).`);
    }
  } catch (e) {
    const isUsage = e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'));
    const message = e instanceof Error ? e.message : String(e);
    const code = isUsage ? 2 : 1;
    if (isUsage) io.stderr.write(`socrata-publish: ${message}\nRun socrata-publish --help for usage.\n`);
    else if (isSodaError(e)) io.stderr.write(`socrata-publish: ${message}${e.requestId ? ` (request id ${e.requestId})` : ''}\n`);
    else io.stderr.write(`socrata-publish: ${message}\n`);
    if (json) io.stdout.write(errorJson(e, message, code));
    return code;
  }
}

if (require.main === module) {
  const ac = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nCancelling after the requests in flight (Ctrl+C again to quit at once)…\n');
    ac.abort();
  });
  void main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: ac.signal }).then((code) => {
    process.exitCode = code;
  });
}
