// Executing a plan, and `publish` (plan, then execute). The routes are in their own modules:
//   resourceRoute.ts — /resource batches (upsert, append, delete, sync), one pass from the plan's spool;
//   revisionRoute.ts — a revision (create, replace, or any mode with route 'revision'): the bytes uploaded as they
//                      are, the rows checked by the server;
//   outcome.ts       — the options, the result and the progress every execution shares.
import { isSodaError, type SodaClient, SodaError } from '../soda';
import { ErrorRowsWriter } from './errorRows';
import { isPublishError, PublishError } from './errors';
import { collectBadRows, defaultErrorRowsFile, emptyResult, type ExecuteOptions } from './outcome';
import { disposePlan, planPublish } from './plan';
import { executeResource } from './resourceRoute';
import { executeRevision } from './revisionRoute';
import type { PublishPlan, PublishRequest, PublishResult } from './types';

export { emptyResult, type ExecuteOptions } from './outcome';

/** Executes a plan (made by `planPublish`). Never throws for server failures: they are in the result. */
export async function executePublish(client: SodaClient, plan: PublishPlan, options: ExecuteOptions = {}): Promise<PublishResult> {
  try {
    return await executePlan(client, plan, options);
  } finally {
    await disposePlan(plan);
  }
}

async function executePlan(client: SodaClient, plan: PublishPlan, options: ExecuteOptions): Promise<PublishResult> {
  const started = Date.now();
  if (plan.blocked) {
    const result = emptyResult(plan, started);
    const writer = new ErrorRowsWriter(options.errorRowsFile ?? defaultErrorRowsFile(plan.file.path), plan.file.header);
    result.rowErrors = await collectBadRows(plan, writer, options.signal);
    result.errorRowsFile = await writer.close();
    result.status = 'refused';
    result.errors = plan.badRows ?? plan.problemCount;
    result.message = `Nothing was sent: validation found ${plan.problemCount} problem(s), e.g. ${plan.problems
      .slice(0, 3)
      .map((p) => p.message)
      .join('; ')}. Fix the file${result.errorRowsFile ? ` (the rows are in ${result.errorRowsFile})` : ''}, or choose to skip bad rows.`;
    return result;
  }
  if (plan.route === 'revision') return executeRevision(client, plan, options, started);
  return executeResource(client, plan, options, started);
}

/** Plans, then executes (or only plans with `dryRun`). Refusals come back as a result with status `refused`. */
export async function publish(client: SodaClient, request: PublishRequest, options: ExecuteOptions & { dryRun?: boolean } = {}): Promise<PublishResult> {
  const started = Date.now();
  let plan: PublishPlan;
  try {
    options.onProgress?.({
      stage: 'planning',
      rowsDone: 0,
      rowsTotal: undefined,
      bytesDone: 0,
      bytesTotal: 0,
      rowsPerSecond: 0,
      etaSeconds: undefined,
      lastRequestId: undefined,
    });
    // One pass: the plan's scan spools the request bodies it builds, sent below without reading the CSV again.
    plan = await planPublish(client, request, { signal: options.signal, spool: !options.dryRun });
  } catch (e) {
    if (isPublishError(e) || (isSodaError(e) && (e.kind === 'auth' || e.kind === 'not-found' || e.kind === 'invalid-input'))) {
      const r = emptyResult(undefined, started);
      r.status = 'refused';
      r.message = e.message;
      return r;
    }
    if (isSodaError(e, 'cancelled') || (e instanceof Error && e.name === 'CsvError' && (e as { code?: string }).code === 'ABORTED')) {
      const r = emptyResult(undefined, started);
      r.status = 'cancelled';
      r.message = 'Cancelled while planning; nothing was sent.';
      return r;
    }
    throw e;
  }
  if (options.dryRun) {
    await disposePlan(plan);
    const r = emptyResult(plan, started);
    r.status = 'dry-run';
    r.message = `Dry run: nothing was sent. ${plan.explanation}`;
    return r;
  }
  return executePublish(client, plan, options);
}

export { PublishError, SodaError };
