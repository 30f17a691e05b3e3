// Public surface of the SODA client core (plain Node; never imports vscode).
export { assert4x4, draftRef, isLoopbackHost, isValid4x4, parseDomain, type SodaDomain } from './domain';
export { isSodaError, SodaError, type SodaErrorKind, type SodaOutcome } from './errors';
export { errorFromResponse, parseErrorBody, type ParsedErrorBody } from './errorResponse';
export {
  authorizationHeader,
  newOperationId,
  redactHeaders,
  redactUrl,
  SodaHttp,
  type BodySource,
  type GatewayOptions,
  type HttpLogEvent,
  type HttpMethod,
  type RequestBody,
  type RequestOptions,
  type SodaAuth,
  type SodaResponse,
  type Timeouts,
} from './http';
export { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, systemClock, type Clock, type RetryPolicy } from './retry';
export { normaliseUpsertResult, rowIdentifierField } from './results';
export { canWrite, type WriteKind } from './view';
export {
  CsvRecordCounter,
  csvHeaderCells,
  exportCsv,
  forgetQueryApis,
  saveQueryCsv,
  type SaveCsvOptions,
  pagedStatement,
  queryApiOf,
  runQuery,
  statementShape,
  type QueryAnswer,
  type QueryApi,
  type QueryOptions,
  type StatementShape,
} from './query';
export { SodaClient, type CallOptions, type CsvBody, type RowsBody, type SodaClientOptions, type WriteOptions } from './client';
export * from './types';
export {
  describeRisks,
  diffDocuments,
  documentFromView,
  formatDocument,
  isRisky,
  applyPatch,
  MetadataClient,
  patchBody,
  patchProblems,
  type MetadataPatch,
  MetadataConflictError,
  MetadataDocumentError,
  parseDocument,
  sameDocument,
  validateDocument,
  type ApplyMetadataOptions,
  type ApplyMetadataResult,
  type ColumnMetadata,
  type DomainMetadataLists,
  type MetadataChange,
  type MetadataDocument,
  type MetadataProblem,
  type MetadataRoute,
} from './metadata';
