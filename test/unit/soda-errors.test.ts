import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { errorFromResponse, parseErrorBody } from '../../src/soda/errorResponse';
import { failedBeforeSending, networkError, SodaError } from '../../src/soda/errors';
import { authorizationHeader, redactHeaders, redactUrl } from '../../src/soda/http';
import { normaliseUpsertResult, parseView, rowIdentifierField } from '../../src/soda/results';
import { backoffDelay, parseRetryAfter, resolvePolicy } from '../../src/soda/retry';

describe('soda error envelopes (reference §4.1)', () => {
  it('A: core envelope {code, error:true, message, data}', () => {
    const p = parseErrorBody('{"code":"query.compiler.malformed","error":true,"message":"Could not parse SoQL query","data":{"query":"select *"}}');
    assert.deepEqual(p, { code: 'query.compiler.malformed', message: 'Could not parse SoQL query', data: { query: 'select *' } });
  });

  it("A': short core envelope without a code", () => {
    assert.deepEqual(parseErrorBody('{"error":true,"message":"You must be logged in to access this resource"}'), {
      code: undefined,
      message: 'You must be logged in to access this resource',
      data: undefined,
    });
  });

  it('B: soda-fountain envelope with errorCode (errorCode wins over code) and the query-coordinator prefix dropped', () => {
    const p = parseErrorBody(
      '{"message":"Query coordinator error: query.soql.no-such-column; No such column: nosuchcolumn","errorCode":"query.soql.no-such-column","data":{"column":"nosuchcolumn","position":{"row":1,"column":8}}}',
    );
    assert.equal(p.code, 'query.soql.no-such-column');
    assert.equal(p.message, 'No such column: nosuchcolumn');
    assert.deepEqual(p.data, { column: 'nosuchcolumn', position: { row: 1, column: 8 } });
    assert.equal(parseErrorBody('{"errorCode":"a","code":"b","message":"m"}').code, 'a');
  });

  it('C: discovery envelope {error: "<message>"}', () => {
    assert.deepEqual(parseErrorBody('{"error":"offset + limit must be <= 10000"}'), {
      code: undefined,
      message: 'offset + limit must be <= 10000',
      data: undefined,
    });
  });

  it('D: API-key envelope', () => {
    const p = parseErrorBody('{"error":true,"message":"Key not found","code":"API_KEY.NOT_FOUND"}');
    assert.equal(p.code, 'API_KEY.NOT_FOUND');
    assert.equal(p.message, 'Key not found');
  });

  it('other shapes: nested error object, errors list, plain text, HTML, empty', () => {
    assert.deepEqual(parseErrorBody('{"error":{"code":"x.y","message":"inner"}}').message, 'inner');
    assert.equal(parseErrorBody('{"error":{"code":"x.y","message":"inner"}}').code, 'x.y');
    assert.equal(parseErrorBody('{"errors":["first","second"]}').message, 'first');
    assert.equal(parseErrorBody('[{"message":"in a list"}]').message, 'in a list');
    assert.equal(parseErrorBody('upstream connect error').message, 'upstream connect error');
    assert.equal(parseErrorBody('<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>').message, '502 Bad Gateway');
    assert.equal(parseErrorBody('x'.repeat(1000)).message?.length, 201);
    assert.deepEqual(parseErrorBody('  '), { code: undefined, message: undefined, data: undefined });
    assert.equal(parseErrorBody('"just a string"').message, 'just a string');
  });
});

describe('soda errorFromResponse', () => {
  it('writes messages for people, with status and code', () => {
    const e = errorFromResponse({ status: 400, bodyText: '{"message":"No such column: foo","errorCode":"query.soql.no-such-column"}' });
    assert.equal(e.kind, 'client');
    assert.equal(e.message, 'Socrata rejected the request (400 query.soql.no-such-column): No such column: foo.');
    assert.equal(e.code, 'query.soql.no-such-column');
    assert.equal(e.serverMessage, 'No such column: foo');
  });

  it('maps statuses to kinds', () => {
    const kinds = [401, 403, 404, 409, 413, 429, 500, 503].map((status) => errorFromResponse({ status, bodyText: '' }).kind);
    assert.deepEqual(kinds, ['auth', 'auth', 'not-found', 'client', 'client', 'rate-limited', 'server', 'server']);
  });

  it('a non-JSON error body still gives a readable message', () => {
    const e = errorFromResponse({ status: 502, bodyText: '<html><title>Bad gateway</title></html>', requestId: 'r1' });
    assert.equal(e.message, 'The Socrata server failed (502): Bad gateway. Request id: r1.');
    const empty = errorFromResponse({ status: 503, bodyText: '' });
    assert.equal(empty.message, 'The Socrata server failed (503): Service Unavailable.');
  });

  it('adds retry-after, error tags and the outcome of writes', () => {
    assert.match(
      errorFromResponse({ status: 429, bodyText: '{"errorCode":"too-many-requests","message":"Too many requests"}', retryAfterMs: 3000 }).message,
      /Retry after 3 s\.$/,
    );
    assert.match(
      errorFromResponse({ status: 500, bodyText: '{"errorCode":"internal-error","message":"boom","data":{"tag":"abc-123"}}' }).message,
      /\(error tag abc-123\)/,
    );
    const unknown = errorFromResponse({ status: 500, bodyText: '', outcome: 'unknown' });
    assert.equal(unknown.outcome, 'unknown');
    assert.match(unknown.message, /may or may not have been applied/);
    assert.match(errorFromResponse({ status: 400, bodyText: '', outcome: 'not-applied' }).message, /was not applied/);
  });

  it('network errors name the host and say what happened', () => {
    const refused = networkError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'data.city.gov');
    assert.equal(refused.kind, 'network');
    assert.match(refused.message, /connection to data\.city\.gov was refused/);
    assert.match(networkError({ code: 'ENOTFOUND' }, 'nope.example').message, /nope\.example could not be found/);
    assert.match(networkError(Object.assign(new Error('x'), { cause: { code: 'ECONNRESET' } }), 'h').message, /connection to h was reset/);
    assert.match(networkError({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: 'bad cert' }, 'h').message, /TLS/);
    assert.match(networkError({ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'h').message, /connecting to h timed out/);
    assert.ok(failedBeforeSending({ code: 'ECONNREFUSED' }));
    assert.ok(failedBeforeSending({ cause: { code: 'ENOTFOUND' } }));
    assert.ok(!failedBeforeSending({ code: 'ECONNRESET' }));
    assert.ok(!failedBeforeSending({ code: 'UND_ERR_SOCKET' }));
  });

  it('SodaError.with keeps the fields it does not change', () => {
    const e = new SodaError({ kind: 'server', message: 'm', status: 503, code: 'c', requestId: 'r' }).with({ attempts: 3 });
    assert.deepEqual([e.kind, e.status, e.code, e.requestId, e.attempts], ['server', 503, 'c', 'r', 3]);
  });
});

describe('soda backoff and Retry-After', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
  it('full jitter: uniform below min(cap, base·2^(n-1))', () => {
    assert.equal(
      backoffDelay(1, policy, () => 0.999999),
      99,
    );
    assert.equal(
      backoffDelay(2, policy, () => 0.5),
      100,
    );
    assert.equal(
      backoffDelay(3, policy, () => 0.5),
      200,
    );
    assert.equal(
      backoffDelay(5, policy, () => 0.5),
      500,
    ); // 1600 capped to 1000
    assert.equal(
      backoffDelay(30, policy, () => 1),
      1000,
    );
    assert.equal(
      backoffDelay(4, policy, () => 0),
      0,
    );
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-27T10:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 10:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-3', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('resolves policies over the defaults', () => {
    assert.deepEqual(resolvePolicy({ maxAttempts: 2 }, { baseDelayMs: 1 }), { maxAttempts: 2, maxElapsedMs: 120_000, baseDelayMs: 1, maxDelayMs: 30_000 });
    assert.equal(resolvePolicy({ maxAttempts: 0 }).maxAttempts, 1);
  });
});

describe('soda auth headers and redaction', () => {
  it('builds Basic for email/password and API keys, OAuth for tokens', () => {
    assert.equal(
      authorizationHeader({ type: 'basic', email: 'publisher@example.org', password: 'publish-me' }),
      `Basic ${Buffer.from('publisher@example.org:publish-me').toString('base64')}`,
    );
    assert.equal(
      authorizationHeader({ type: 'apiKey', keyId: 'demo_key_id', keySecret: 'demo_key_secret' }),
      `Basic ${Buffer.from('demo_key_id:demo_key_secret').toString('base64')}`,
    );
    assert.equal(authorizationHeader({ type: 'oauth', accessToken: 'tok' }), 'OAuth tok');
    assert.equal(authorizationHeader({ type: 'none' }), undefined);
    assert.throws(() => authorizationHeader({ type: 'basic', email: 'a:b', password: 'x' }), /must not contain ":"/);
    assert.throws(() => authorizationHeader({ type: 'apiKey', keyId: 'k', keySecret: '' }), /API key secret is empty/);
    assert.throws(() => authorizationHeader({ type: 'oauth', accessToken: 'a\r\nX-Evil: 1' }), /line break/);
  });

  it('redacts secrets from headers and URLs', () => {
    assert.deepEqual(redactHeaders({ Authorization: 'Basic abc', 'x-app-token': 'demo', accept: 'x' }), {
      Authorization: 'Basic [redacted]',
      'x-app-token': '[redacted]',
      accept: 'x',
    });
    const u = redactUrl('https://u:p@h.example/resource/abcd-1234.json?$$app_token=demo&$where=a%3D1');
    assert.ok(!u.includes('demo') && !u.includes('u:p'), u);
    assert.equal(new URL(u).searchParams.get('$where'), 'a=1');
    assert.equal(new URL(u).searchParams.get('$$app_token'), '[redacted]');
  });
});

describe('soda result parsing', () => {
  it('normalises the documented upsert object (any subset of keys)', () => {
    const r = normaliseUpsertResult({ 'By RowIdentifier': 1, 'Rows Updated': 1, 'Rows Deleted': 0, 'By SID': 0, 'Rows Created': 2, Errors: 0 });
    assert.deepEqual([r.shape, r.created, r.updated, r.deleted, r.errors, r.byRowIdentifier, r.bySid], ['counts', 2, 1, 0, 0, 1, 0]);
    const s = normaliseUpsertResult({ 'Rows Updated': 0, 'Rows Created': 2 });
    assert.deepEqual([s.created, s.updated, s.errors, s.byRowIdentifier], [2, 0, 0, undefined]);
  });

  it('normalises the report-item array, also double-wrapped', () => {
    const items = [
      { typ: 'insert', id: 'row-a' },
      { typ: 'update', id: 'k1' },
      { typ: 'delete', id: 'k2' },
      { typ: 'error', err: 'no_such_row_to_delete', id: 'k3' },
    ];
    for (const body of [items, [items]]) {
      const r = normaliseUpsertResult(body);
      assert.deepEqual([r.shape, r.created, r.updated, r.deleted, r.errors], ['report', 1, 1, 1, 1]);
      assert.deepEqual(r.rowErrors, [{ error: 'no_such_row_to_delete', inputIndex: 3, primaryKey: 'k3' }]);
    }
  });

  it('normalises the snake-case object and the single-row answer', () => {
    const r = normaliseUpsertResult({ rows_created: 1, rows_updated: 2, rows_deleted: 0, errors: [{ error: 'bad', input_index: 4, primary_key: 'x' }] });
    assert.deepEqual([r.shape, r.created, r.updated, r.errors, r.rowErrors[0]?.inputIndex], ['snake', 1, 2, 1, 4]);
    const row = normaliseUpsertResult({ ':id': 'row-1', ':created_at': 't1', ':updated_at': 't2', name: 'x' });
    assert.deepEqual([row.shape, row.created, row.updated], ['row', 0, 1]);
    assert.throws(
      () => normaliseUpsertResult({ what: 1 }),
      (e: unknown) => e instanceof SodaError && e.kind === 'protocol',
    );
    assert.throws(() => normaliseUpsertResult([{ typ: 'weird' }]), /unknown type/);
  });

  it('finds the row identifier field by column id, or from metadata.rowIdentifier', () => {
    const columns = [
      { id: 11, fieldName: 'b', position: 2, dataTypeName: 'text' },
      { id: 10, fieldName: 'a', position: 1, dataTypeName: 'number' },
    ];
    const v = parseView({ id: 'abcd-1234', columns, rowIdentifierColumnId: 11, createdAt: 1700000000 });
    assert.deepEqual(
      v.columns.map((c) => c.fieldName),
      ['a', 'b'],
    );
    assert.equal(rowIdentifierField(v), 'b');
    assert.equal(v.createdAt?.toISOString(), '2023-11-14T22:13:20.000Z');
    assert.equal(rowIdentifierField(parseView({ id: 'abcd-1234', columns, metadata: { rowIdentifier: 10 } })), 'a');
    assert.equal(rowIdentifierField(parseView({ id: 'abcd-1234', columns, metadata: { rowIdentifier: 'b' } })), 'b');
    assert.equal(rowIdentifierField(parseView({ id: 'abcd-1234', columns })), undefined);
  });
});
