// src/publish — plan and execute a publish (plain Node; never imports vscode). Used by the extension and the CLI.
//
//   const plan = await planPublish(client, { file, dataset: 'abcd-1234', mode: 'upsert' });   // checks + numbers
//   const result = await executePublish(client, plan, { journalDir, signal, onProgress });
//   // or both at once: await publish(client, request, { dryRun, journalDir, signal, onProgress })
//   loadSpec(path) → { request, domain, specDir }   the socrata.publish.json file (JSON Schema in schemas/)
export * from './types';
export { PublishError, isPublishError, type PublishErrorKind } from './errors';
export {
  planPublish,
  disposePlan,
  checkRequest,
  checkWritable,
  headHash,
  DEFAULT_BATCH_BYTES,
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  type PlanOptions,
} from './plan';
export { emptyResult, executePublish, publish, type ExecuteOptions } from './execute';
export { Journal, journalKey, addRange, inRanges, formatRanges, type JournalFile } from './journal';
export { ErrorRowsWriter, csvCell, csvLine } from './errorRows';
export { RowEncoder, type EncodeResult } from './encode';
export { loadSpec, parseSpec, type PublishSpec, type LoadedSpec } from './spec';
