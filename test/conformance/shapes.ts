/**
 * Response shapes Socrata's own clients rely on (see README.md for each source). Each shape is a request, the status,
 * the content type, the keys the clients read with their value types, and the headers that matter. The shapes run
 * in order against one emulator: `capture` keeps values of an answer for the paths of later requests (`{name}`).
 *
 * Key paths are dotted, with `[n]` for array elements (`resource.schemas[0].id`). A type is one of `string`,
 * `number`, `boolean`, `null`, `object`, `array`, or several joined by `|`. `exactKeys` lists, for an object path
 * (`''` = the whole body), every key it must have and no other: a flat answer stays flat.
 */

export type TypeName = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array';

export interface Shape {
  name: string;
  /** Keys of README.md's source list. */
  sources: string[];
  request: {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    path: string;
    /** Default `publisher` (HTTP Basic); `bad-password` sends the publisher's email with a wrong password. */
    auth?: 'publisher' | 'none' | 'bad-password';
    headers?: Record<string, string>;
    json?: unknown;
    /** Raw body (sent as bytes, so no Content-Type is added unless `headers` has one). */
    body?: string;
  };
  /** Emulator state for this request only. */
  emulator?: { faults?: string; authFailures?: 'login'; approvalRequired?: string };
  status: number;
  /** Media type of the answer (parameters such as charset are ignored). */
  contentType: 'application/json' | 'text/csv';
  keys?: Record<string, string>;
  exactKeys?: Record<string, string[]>;
  /** Response headers: `present`, or a regular expression the value must match. */
  headers?: Record<string, string>;
  capture?: Record<string, string>;
}

const DSMAPI = '/api/publishing/v1';
const CSV = 'permit_id,address\nCF-0001,1 Conformance Way\nCF-0002,2 Conformance Way\n';

export const SHAPES: Shape[] = [
  // ------------------------------------------------------------------ DSMAPI (revisions, sources, schemas, apply)
  {
    name: 'create an update revision (permission null)',
    sources: ['socrata-py:revisions', 'dotnet:revision'],
    request: { method: 'POST', path: `${DSMAPI}/revision/bldg-prmt`, json: { metadata: {}, action: { type: 'update', permission: null } } },
    status: 201,
    contentType: 'application/json',
    keys: {
      'resource.id': 'number',
      'resource.fourfour': 'string',
      'resource.revision_seq': 'number',
      'resource.action': 'object',
      'resource.action.type': 'string',
      'resource.metadata': 'object|null',
      'resource.created_by': 'object',
      'resource.closed_at': 'null',
      'resource.task_sets': 'array',
      'links.show': 'string',
      'links.update': 'string',
      'links.apply': 'string',
      'links.discard': 'string',
      'links.create_source': 'string',
      'links.list_sources': 'string',
    },
    exactKeys: { '': ['links', 'resource'] },
    headers: { 'x-socrata-requestid': 'present' },
    capture: { seq: 'resource.revision_seq' },
  },
  {
    name: 'create an upload source',
    sources: ['socrata-py:sources', 'dotnet:source'],
    request: {
      method: 'POST',
      path: `${DSMAPI}/revision/bldg-prmt/{seq}/source`,
      json: { source_type: { type: 'upload', filename: 'conformance.csv' }, parse_options: { parse_source: true } },
    },
    status: 201,
    contentType: 'application/json',
    keys: {
      'resource.id': 'number',
      'resource.source_type': 'object',
      'resource.parse_options': 'object',
      'resource.schemas': 'array',
      'resource.finished_at': 'string|null',
      'resource.failed_at': 'string|null',
      'links.show': 'string',
      'links.bytes': 'string',
      'links.initiate': 'string',
      'links.chunk': 'string',
      'links.commit': 'string',
      'links.add_to_revision': 'string',
      'links.input_schema_links.transform': 'string',
      'links.input_schema_links.output_schema_links.validate_row_id': 'string',
      'links.input_schema_links.output_schema_links.schema_errors': 'string',
    },
    capture: { source: 'resource.id' },
  },
  {
    name: 'initiate a chunked upload: flat preferred_chunk_size and preferred_upload_parallelism',
    sources: ['socrata-py:sources', 'dotnet:initiate'],
    request: { method: 'POST', path: `${DSMAPI}/source/{source}/initiate`, json: { content_type: 'text/csv' } },
    status: 200,
    contentType: 'application/json',
    keys: { preferred_chunk_size: 'number', preferred_upload_parallelism: 'number' },
    exactKeys: { '': ['preferred_chunk_size', 'preferred_upload_parallelism'] },
  },
  {
    name: 'upload one chunk',
    sources: ['socrata-py:sources', 'dotnet:chunk'],
    request: { method: 'POST', path: `${DSMAPI}/source/{source}/chunk/0/0`, headers: { 'content-type': 'application/octet-stream' }, body: CSV },
    status: 200,
    contentType: 'application/json',
    keys: { 'resource.seq_num': 'number', 'resource.byte_offset': 'number', 'resource.end_byte_offset': 'number', links: 'object' },
    capture: { end: 'resource.end_byte_offset' },
  },
  {
    name: 'commit the chunks: the source with its input and output schemas',
    sources: ['socrata-py:sources', 'dotnet:chunk', 'dotnet:source'],
    request: { method: 'POST', path: `${DSMAPI}/source/{source}/chunk/0/{end}/commit` },
    status: 200,
    contentType: 'application/json',
    keys: {
      'resource.id': 'number',
      'resource.filesize': 'number',
      'resource.schemas[0].id': 'number',
      'resource.schemas[0].input_columns': 'array',
      'resource.schemas[0].output_schemas[0].id': 'number',
      'resource.schemas[0].output_schemas[0].input_schema_id': 'number',
      'resource.schemas[0].output_schemas[0].completed_at': 'string|null',
      'resource.schemas[0].output_schemas[0].error_count': 'number|null',
      'resource.schemas[0].output_schemas[0].output_columns': 'array',
    },
    capture: {
      input: 'resource.schemas[0].id',
      output: 'resource.schemas[0].output_schemas[0].id',
      transform: 'resource.schemas[0].output_schemas[0].output_columns[0].transform.id',
    },
  },
  {
    name: 'show an output schema',
    sources: ['socrata-py:output-schema', 'dotnet:output-schema'],
    request: { method: 'GET', path: `${DSMAPI}/source/{source}/schema/{input}/output/{output}` },
    status: 200,
    contentType: 'application/json',
    keys: {
      'resource.id': 'number',
      'resource.input_schema_id': 'number',
      'resource.output_columns[0].field_name': 'string',
      'resource.output_columns[0].display_name': 'string',
      'resource.output_columns[0].is_primary_key': 'boolean',
      'resource.output_columns[0].transform.id': 'number',
      'resource.output_columns[0].transform.transform_expr': 'string',
      'resource.output_columns[0].transform.failed_at': 'string|null',
      'resource.completed_at': 'string|null',
      'resource.finished_at': 'string|null',
      'resource.error_count': 'number|null',
      'resource.total_rows': 'number|null',
      'links.validate_row_id': 'string',
      'links.schema_errors': 'string',
      'links.rows': 'string',
    },
    capture: { columns: 'resource.output_columns' },
  },
  {
    name: 'transform an input schema: the new output schema',
    sources: ['socrata-py:input-schema', 'dotnet:source'],
    request: { method: 'POST', path: `${DSMAPI}/source/{source}/schema/{input}`, json: { output_columns: '{columns}' } },
    status: 201,
    contentType: 'application/json',
    keys: { 'resource.id': 'number', 'resource.input_schema_id': 'number', 'resource.output_columns': 'array', 'links.show': 'string' },
    capture: { output: 'resource.id' },
  },
  {
    name: 'show an input schema: links in the input-schema shape',
    sources: ['dotnet:output-schema'],
    request: { method: 'GET', path: `${DSMAPI}/source/{source}/schema/{input}` },
    status: 200,
    contentType: 'application/json',
    keys: {
      'resource.id': 'number',
      'resource.output_schemas': 'array',
      'links.transform': 'string',
      'links.latest_output': 'string',
      'links.output_schema_links.validate_row_id': 'string',
    },
  },
  {
    name: 'validate a row identifier: flat {valid}',
    sources: ['socrata-py:output-schema', 'dotnet:validate'],
    request: { method: 'GET', path: `${DSMAPI}/source/{source}/schema/{input}/output/{output}/validate_row_id/{transform}` },
    status: 200,
    contentType: 'application/json',
    keys: { valid: 'boolean' },
    exactKeys: { '': ['valid'] },
  },
  {
    name: 'rows of an output schema: a metadata element, then rows',
    sources: ['socrata-py:output-schema'],
    request: { method: 'GET', path: `${DSMAPI}/source/{source}/schema/{input}/rows/{output}?offset=0&limit=10` },
    status: 200,
    contentType: 'application/json',
    keys: { '[0]': 'object', '[1].row': 'array' },
  },
  {
    name: 'schema errors as CSV',
    sources: ['socrata-py:output-schema', 'dotnet:source'],
    request: { method: 'GET', path: `${DSMAPI}/source/{source}/schema/{input}/errors/{output}`, headers: { accept: 'text/csv' } },
    status: 200,
    contentType: 'text/csv',
  },
  {
    name: 'list the revisions of a dataset',
    sources: ['socrata-py:revisions'],
    request: { method: 'GET', path: `${DSMAPI}/revision/bldg-prmt` },
    status: 200,
    contentType: 'application/json',
    keys: { '[0].resource.revision_seq': 'number', '[0].resource.fourfour': 'string', '[0].links.show': 'string' },
  },
  {
    name: 'update the metadata of an open revision',
    sources: ['socrata-py:revisions', 'dotnet:revision'],
    request: { method: 'PUT', path: `${DSMAPI}/revision/bldg-prmt/{seq}`, json: { metadata: { description: 'conformance run' } } },
    status: 200,
    contentType: 'application/json',
    keys: { 'resource.metadata.description': 'string', 'resource.revision_seq': 'number', 'links.apply': 'string' },
  },
  {
    name: 'a second upload source in the revision',
    sources: ['dotnet:source'],
    request: {
      method: 'POST',
      path: `${DSMAPI}/revision/bldg-prmt/{seq}/source`,
      json: { source_type: { type: 'upload', filename: 'bytes.csv' }, parse_options: { parse_source: true } },
    },
    status: 201,
    contentType: 'application/json',
    keys: { 'resource.id': 'number', 'links.bytes': 'string' },
    capture: { bytesSource: 'resource.id' },
  },
  {
    name: 'upload the bytes in one request without Content-Type',
    sources: ['dotnet:source'],
    request: { method: 'POST', path: `${DSMAPI}/source/{bytesSource}`, body: CSV },
    status: 200,
    contentType: 'application/json',
    keys: { 'resource.id': 'number', 'resource.content_type': 'string', 'resource.schemas[0].output_schemas[0].id': 'number' },
  },
  {
    name: 'apply: the job',
    sources: ['socrata-py:revisions', 'socrata-py:job', 'dotnet:revision'],
    request: { method: 'PUT', path: `${DSMAPI}/revision/bldg-prmt/{seq}/apply`, json: { output_schema_id: '{output}' } },
    status: 200,
    contentType: 'application/json',
    keys: { 'resource.id': 'number', 'resource.status': 'string', 'resource.finished_at': 'string|null', 'resource.log': 'array', 'links.show': 'string' },
  },
  {
    name: 'show the revision: its task sets',
    sources: ['dotnet:revision'],
    request: { method: 'GET', path: `${DSMAPI}/revision/bldg-prmt/{seq}` },
    status: 200,
    contentType: 'application/json',
    keys: { 'resource.task_sets[0].status': 'string', 'resource.revision_seq': 'number' },
  },
  {
    name: 'open another revision to discard',
    sources: ['socrata-py:revisions'],
    request: { method: 'POST', path: `${DSMAPI}/revision/bldg-prmt`, json: { metadata: {}, action: { type: 'replace', permission: null } } },
    status: 201,
    contentType: 'application/json',
    keys: { 'resource.revision_seq': 'number' },
    capture: { discardSeq: 'resource.revision_seq' },
  },
  {
    name: 'discard a revision: the closed revision',
    sources: ['socrata-py:revisions', 'dotnet:revision'],
    request: { method: 'DELETE', path: `${DSMAPI}/revision/bldg-prmt/{discardSeq}` },
    status: 200,
    contentType: 'application/json',
    keys: { 'resource.closed_at': 'string', 'resource.revision_seq': 'number' },
  },
  {
    name: 'a metadata-only revision on a dataset that needs approval',
    sources: ['socrata-py:revisions'],
    request: {
      method: 'POST',
      path: `${DSMAPI}/revision/crsh-larg`,
      json: { metadata: { description: 'conformance' }, action: { type: 'update', permission: null } },
    },
    status: 201,
    contentType: 'application/json',
    keys: { 'resource.revision_seq': 'number' },
    capture: { approvalSeq: 'resource.revision_seq' },
  },
  {
    name: 'apply when approval is needed: flat {key: "approval_submitted"}',
    sources: ['socrata-py:job', 'dotnet:revision'],
    emulator: { approvalRequired: 'crsh-larg' },
    request: { method: 'PUT', path: `${DSMAPI}/revision/crsh-larg/{approvalSeq}/apply`, json: {} },
    status: 200,
    contentType: 'application/json',
    keys: { key: 'string' },
  },

  // ------------------------------------------------------------------ SODA 2 (/resource)
  {
    name: 'read rows as JSON, with the field and type headers',
    sources: ['rsocrata'],
    request: { method: 'GET', path: '/resource/bldg-prmt.json?$limit=2' },
    status: 200,
    contentType: 'application/json',
    keys: { '[0]': 'object', '[0].permit_id': 'string' },
    headers: { 'x-soda2-fields': '^\\[".*"\\]$', 'x-soda2-types': '^\\[".*"\\]$', 'x-socrata-requestid': 'present' },
  },
  {
    name: 'read rows as CSV, with the field and type headers',
    sources: ['rsocrata'],
    request: { method: 'GET', path: '/resource/bldg-prmt.csv?$limit=2' },
    status: 200,
    contentType: 'text/csv',
    headers: { 'x-soda2-fields': '^\\[".*"\\]$', 'x-soda2-types': '^\\[".*"\\]$' },
  },
  {
    name: 'upsert: the six-key report',
    sources: ['soda-java:upsert', 'dotnet-archive:upsert'],
    request: { method: 'POST', path: '/resource/bldg-prmt.json', json: [{ permit_id: 'CF-0003', address: '3 Conformance Way' }] },
    status: 200,
    contentType: 'application/json',
    keys: { 'By RowIdentifier': 'number', 'By SID': 'number', Errors: 'number', 'Rows Created': 'number', 'Rows Deleted': 'number', 'Rows Updated': 'number' },
    exactKeys: { '': ['By RowIdentifier', 'By SID', 'Errors', 'Rows Created', 'Rows Deleted', 'Rows Updated'] },
  },
  {
    name: 'upsert a JSON body sent without Content-Type',
    sources: ['sodapy:update', 'soda-java:upsert'],
    request: { method: 'POST', path: '/resource/bldg-prmt.json', body: '[{"permit_id": "CF-0004", "address": "4 Conformance Way"}]' },
    status: 200,
    contentType: 'application/json',
    keys: { 'Rows Created': 'number', Errors: 'number' },
  },
  {
    name: 'a dataset that does not exist: the core error envelope',
    sources: ['soda-java:error', 'rsocrata'],
    request: { method: 'GET', path: '/resource/nope-nope.json' },
    status: 404,
    contentType: 'application/json',
    keys: { code: 'string', error: 'boolean', message: 'string' },
  },
  {
    name: 'a slow read: 202 Accepted with Retry-After',
    sources: ['dev:response-codes', 'exsoda:http'],
    emulator: { faults: 'accepted=1,acceptedRetryAfter=2' },
    request: { method: 'GET', path: '/resource/tree-cnsu.csv' },
    status: 202,
    contentType: 'application/json',
    headers: { 'retry-after': '^\\d+$' },
  },

  // ------------------------------------------------------------------ authentication
  {
    name: 'bad credentials: 401 with a code',
    sources: ['soda-java:error'],
    request: { method: 'GET', path: '/api/users/current.json', auth: 'bad-password' },
    status: 401,
    contentType: 'application/json',
    keys: { code: 'string', error: 'boolean', message: 'string' },
  },
  {
    name: 'bad credentials on a portal that answers "You must be logged in": 403 without a code',
    sources: ['recorded:login-403'],
    emulator: { authFailures: 'login' },
    request: { method: 'GET', path: '/api/users/current.json', auth: 'bad-password' },
    status: 403,
    contentType: 'application/json',
    keys: { error: 'boolean', message: 'string' },
    exactKeys: { '': ['error', 'message'] },
  },

  // ------------------------------------------------------------------ metadata and catalog
  {
    name: 'dataset metadata',
    sources: ['dotnet:metadata'],
    request: { method: 'GET', path: '/api/views/bldg-prmt.json' },
    status: 200,
    contentType: 'application/json',
    keys: {
      id: 'string',
      name: 'string',
      columns: 'array',
      'columns[0].id': 'number',
      'columns[0].name': 'string',
      'columns[0].fieldName': 'string',
      'columns[0].dataTypeName': 'string',
      'columns[0].position': 'number',
      'columns[0].renderTypeName': 'string',
    },
  },
  {
    name: 'catalog for an authenticated owner naming the domain: results, resultSetSize, and a draft',
    sources: ['dev:discovery', 'exsoda:http', 'exsoda:approvals'],
    request: { method: 'GET', path: '/api/catalog/v1?for_user=pub1-usr1&ids=tree-cnsu:1&ids=tree-cnsu', headers: { 'x-socrata-host': '{domain}' } },
    status: 200,
    contentType: 'application/json',
    keys: {
      results: 'array',
      resultSetSize: 'number',
      'results[0].resource.id': 'string',
      'results[0].resource.name': 'string',
      'results[0].resource.type': 'string',
      'results[0].resource.updatedAt': 'string',
      'results[0].resource.columns_field_name': 'array',
      'results[0].classification': 'object',
      'results[0].metadata.domain': 'string',
      'results[0].permalink': 'string',
      'results[0].link': 'string',
      'results[0].owner.id': 'string',
      'results[1].resource.id': 'string',
      'results[1].published_copy.uid': 'string',
    },
  },
];
