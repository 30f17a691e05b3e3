// socrata-publish — the headless publisher (same engine as the extension: src/publish).
// Credentials come from the environment only; progress goes to stderr, the result to stdout.
// Exit codes: 0 success, 1 failure (refused, failed, cancelled, rows not published), 2 bad usage.
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readHead, schemaFromView, validateFile, type DatasetSchema } from './csv';
import { loadSpec, PUBLISH_MODES, publish, type PublishMode, type PublishProgress, type PublishRequest, type PublishResult } from './publish';
import { cmdMetadata, METADATA_HELP } from './publish/metadataCli';
import { draftRef, isSodaError, isValid4x4, parseDomain, runQuery, SodaClient, type SodaAuth } from './soda';

const HELP = `socrata-publish — publish CSV files to Socrata

Usage:
  socrata-publish publish <csv> --domain <host[:port]> (--dataset <4x4> | --new-name <name>) --mode <mode> [options]
  socrata-publish publish --spec <socrata.publish.json> [options]
  socrata-publish validate <csv> [--domain <host> --dataset <4x4>] [--json]
  socrata-publish query --domain <host> --dataset <4x4> [--soql "<SoQL>"] [--json]
${METADATA_HELP}

Modes: ${PUBLISH_MODES.join(', ')}

Options:
  --spec <file>          read domain, dataset, csv, mode, mapping… from a publish spec (flags override it)
  --dry-run              plan and validate only; nothing is written
  --json                 print the result as JSON on stdout
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
  return new SodaClient({ domain, auth: authFromEnv(env), ...(env.SOCRATA_APP_TOKEN ? { appToken: env.SOCRATA_APP_TOKEN } : {}), product: 'cli' });
}

function check4x4(value: string): void {
  const ok: boolean = isValid4x4(value);
  const draft = draftRef(value);
  if (!ok && draft) usage(`--dataset: "${value}" is a draft (revision ${draft.revision}) of ${draft.id}; use ${draft.id}: reads and writes go to published datasets.`);
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

function progressPrinter(stderr: NodeJS.WriteStream): { onProgress: (p: PublishProgress) => void; done: () => void } {
  const tty = stderr.isTTY;
  let lastLine = 0;
  let lastStage = '';
  let drawn = false;
  return {
    onProgress: (p) => {
      const now = Date.now();
      const pct = p.rowsTotal ? Math.min(100, Math.floor((p.rowsDone / p.rowsTotal) * 100)) : p.bytesTotal ? Math.min(100, Math.floor((p.bytesDone / p.bytesTotal) * 100)) : 0;
      const text = `${p.stage} ${p.rowsDone}${p.rowsTotal !== undefined ? `/${p.rowsTotal}` : ''} rows, ${p.rowsPerSecond} rows/s, ETA ${formatDuration(p.etaSeconds)}${p.lastRequestId ? `, request ${p.lastRequestId}` : ''}`;
      if (tty) {
        const width = 24;
        const filled = Math.round((pct / 100) * width);
        stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${text}\u001b[K`);
        drawn = true;
      } else if (p.stage !== lastStage || now - lastLine >= 2000 || p.stage === 'done') {
        stderr.write(`${text}\n`);
        lastLine = now;
      }
      lastStage = p.stage;
    },
    done: () => {
      if (tty && drawn) stderr.write('\n');
    },
  };
}

function printResult(result: PublishResult, json: boolean, out: NodeJS.WritableStream): void {
  if (json) {
    const plan = result.plan ? { ...result.plan, syncDeletes: result.plan.syncDeletes?.length, remoteHashes: result.plan.remoteHashes?.size } : undefined;
    out.write(`${JSON.stringify({ ...result, plan }, null, 2)}\n`);
    return;
  }
  const lines = [result.message];
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
  if (result.status !== 'dry-run' && result.status !== 'refused') {
    lines.push(`Created ${result.created}, updated ${result.updated}, deleted ${result.deleted}, errors ${result.errors} (${(result.elapsedMs / 1000).toFixed(1)} s).`);
  }
  if (result.resume) lines.push(result.resume.reason);
  for (const e of result.rowErrors.slice(0, 10)) lines.push(`Line ${e.line}: ${e.message}`);
  if (result.errorRowsFile) lines.push(`Rows not published: ${result.errorRowsFile}`);
  out.write(`${lines.join('\n')}\n`);
}

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

async function cmdPublish(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      domain: { type: 'string' }, dataset: { type: 'string' }, 'new-name': { type: 'string' }, mode: { type: 'string' },
      spec: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, 'batch-size': { type: 'string' },
      concurrency: { type: 'string' }, 'skip-bad-rows': { type: 'boolean' }, 'row-identifier': { type: 'string' }, route: { type: 'string' },
      'journal-dir': { type: 'string' }, 'errors-file': { type: 'string' }, uncertain: { type: 'string' },
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
  const progress = progressPrinter(io.stderr);
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
    printResult(result, values.json ?? false, io.stdout);
    return result.status === 'success' || result.status === 'dry-run' || result.status === 'approval-submitted' ? 0 : 1;
  } finally {
    await client.close();
  }
}

async function cmdValidate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { domain: { type: 'string' }, dataset: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) usage('validate takes one CSV file.');
  const file = resolve(positionals[0]);
  let schema: DatasetSchema;
  if (values.dataset !== undefined || values.domain !== undefined) {
    if (values.dataset === undefined || values.domain === undefined) usage('validate against a dataset needs both --domain and --dataset.');
    check4x4(values.dataset);
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
  const report = await validateFile(file, schema);
  const problems = [
    ...report.headerProblems.map((p) => `${file}: header: ${p.message}`),
    ...report.columns.flatMap((c) => c.invalid.examples.map((e) => e.text)),
    ...report.ragged.examples.map((e) => e.text),
    ...(report.rowIdentifier ? [...report.rowIdentifier.empty.examples, ...report.rowIdentifier.duplicates.examples].map((e) => e.text) : []),
    ...(report.rowIdentifier && !report.rowIdentifier.inCsv ? [`${file}: the row identifier column ${report.rowIdentifier.fieldName} is missing`] : []),
    ...report.typeDisagreements.map((d) => `${file}: ${d.message}`),
  ];
  const ok = report.problemCount === 0 && report.typeDisagreements.length === 0;
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ ok, file, rows: report.rows, problemCount: report.problemCount, problems, unknownColumns: report.unknownColumns, missingColumns: report.missingColumns }, null, 2)}\n`);
  } else {
    io.stdout.write(`${file}: ${report.rows} rows, ${report.problemCount} problem(s).\n`);
    for (const p of problems) io.stdout.write(`${p}\n`);
    if (report.unknownColumns.length) io.stdout.write(`Columns not in the dataset: ${report.unknownColumns.join(', ')}\n`);
  }
  return ok ? 0 : 1;
}

async function cmdQuery(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { domain: { type: 'string' }, dataset: { type: 'string' }, soql: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length > 0) usage(`query takes no positional arguments (got ${positionals.join(' ')}).`);
  if (values.domain === undefined || values.dataset === undefined) usage('query needs --domain and --dataset.');
  check4x4(values.dataset);
  const client = makeClient(values.domain, io.env);
  try {
    const statement = values.soql ?? 'SELECT * LIMIT 100';
    const res = await runQuery(client, values.dataset, statement, { ...(io.signal ? { signal: io.signal } : {}), onNotice: (m) => io.stderr.write(`socrata-publish: ${m}\n`) });
    if (values.json) io.stdout.write(`${JSON.stringify(res.rows, null, 2)}\n`);
    else for (const row of res.rows) io.stdout.write(`${JSON.stringify(row)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
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
        return await cmdMetadata(rest, { makeClient: (d) => makeClient(d, io.env), usage, check4x4, stdout: io.stdout, stderr: io.stderr, ...(io.signal ? { signal: io.signal } : {}) });
      default:
        usage(`unknown command "${command}" (publish, validate, query, metadata).`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`socrata-publish: ${e.message}\nRun socrata-publish --help for usage.\n`);
      return 2;
    }
    if (isSodaError(e)) {
      io.stderr.write(`socrata-publish: ${e.message}${e.requestId ? ` (request id ${e.requestId})` : ''}\n`);
      return 1;
    }
    io.stderr.write(`socrata-publish: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
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
