// The emulator answers as the platform does where Socrata's own clients rely on it (flat DSMAPI answers, permission
// null, writes without Content-Type, 202 Accepted, catalog visibility and drafts, the 403 "You must be logged in"
// answer), and the client copes with each.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { SodaClient } from '../../src/soda/client';
import { SodaError } from '../../src/soda/errors';
import type { HttpLogEvent, SodaAuth } from '../../src/soda/http';
import type { Clock } from '../../src/soda/retry';
import { checkRequest } from '../../src/publish/plan';
import { exportQueryCsv } from '../../src/datasets/query';
import { SAMPLE, startEmulator, type RunningEmulator } from '../emulator/index';
import { OTHER_AUTH, PUBLISHER_AUTH, basic, call } from '../emulator/testing';

type Body = Record<string, unknown>;
const BASE = '/api/publishing/v1';
const publisher: SodaAuth = { type: 'basic', email: SAMPLE.users.publisher.email, password: SAMPLE.users.publisher.password };

/** A clock that records every wait and does not really wait. */
function recordingClock(): Clock & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    now: () => Date.now(),
    sleep: (ms, signal) => {
      waits.push(ms);
      if (signal?.aborted) return Promise.reject(new Error('aborted'));
      return new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('emulator: answers as the platform does', () => {
  let emu: RunningEmulator;
  const clients: SodaClient[] = [];
  const client = (opts: Partial<ConstructorParameters<typeof SodaClient>[0]> = {}): SodaClient => {
    const c = new SodaClient({ domain: emu.domain, auth: publisher, retry: { baseDelayMs: 1 }, ...opts });
    clients.push(c);
    return c;
  };
  const dsm = (path: string, init: RequestInit & { json?: unknown } = {}) =>
    call<Body>(emu.url, `${BASE}${path}`, { ...init, headers: { authorization: PUBLISHER_AUTH, ...(init.headers as Record<string, string> | undefined) } });

  before(async () => {
    emu = await startEmulator({ seed: 'sample' });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await emu.stop();
  });

  describe('1. flat DSMAPI answers', () => {
    /** An open update revision of `id` with one uploaded CSV: its source id, input schema id and output schema. */
    async function uploaded(id: string, csv: string): Promise<{ rev: Body; source: Body; output: Body }> {
      const rev = await dsm(`/revision/${id}`, { method: 'POST', json: { action: { type: 'update' } } });
      assert.equal(rev.status, 201, rev.text);
      const r = rev.body.resource as Body;
      const src = await dsm(`/revision/${id}/${String(r.revision_seq)}/source`, {
        method: 'POST',
        json: { source_type: { type: 'upload', filename: 'x.csv' } },
      });
      assert.equal(src.status, 201, src.text);
      const sid = (src.body.resource as Body).id as number;
      const up = await dsm(`/source/${sid}`, { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } });
      assert.equal(up.status, 200, up.text);
      const schema = ((up.body.resource as Body).schemas as Body[])[0];
      const output = (schema.output_schemas as Body[])[0];
      return { rev: r, source: up.body.resource as Body, output };
    }

    it('initiate answers top-level preferred_chunk_size and preferred_upload_parallelism (no resource wrapper)', async () => {
      const rev = await dsm('/revision/bldg-prmt', { method: 'POST', json: { action: { type: 'update' } } });
      const seq = (rev.body.resource as Body).revision_seq as number;
      const src = await dsm(`/revision/bldg-prmt/${seq}/source`, { method: 'POST', json: { source_type: { type: 'upload', filename: 'big.csv' } } });
      const sid = (src.body.resource as Body).id as number;
      const init = await dsm(`/source/${sid}/initiate`, { method: 'POST', json: { content_type: 'text/csv' } });
      assert.equal(init.status, 200, init.text);
      assert.deepEqual(init.body, { preferred_chunk_size: 4194304, preferred_upload_parallelism: 4 });
      await dsm(`/revision/bldg-prmt/${seq}`, { method: 'DELETE' });
    });

    it('validate_row_id answers {"valid": …} at the top level', async () => {
      const { rev, source, output } = await uploaded('bldg-prmt', 'permit_id,address\nA-1,x\nA-2,y\nA-2,z\n');
      const is = (source.schemas as Body[])[0].id as number;
      const cols = output.output_columns as { field_name: string; transform: { id: number } }[];
      const tid = (f: string) => cols.find((c) => c.field_name === f)?.transform.id;
      const unique = await dsm(`/source/${String(source.id)}/schema/${is}/output/${String(output.id)}/validate_row_id/${String(tid('address'))}`);
      assert.equal(unique.status, 200, unique.text);
      assert.deepEqual(unique.body, { valid: true });
      const dup = await dsm(`/source/${String(source.id)}/schema/${is}/output/${String(output.id)}/validate_row_id/${String(tid('permit_id'))}`);
      assert.deepEqual(dup.body, { valid: false });
      await dsm(`/revision/bldg-prmt/${String(rev.revision_seq)}`, { method: 'DELETE' });
    });

    it('apply on a dataset that needs approval answers a flat {key: "approval_submitted"} and leaves no job', async () => {
      emu.store.setApprovalRequired('crsh-larg', true);
      try {
        const { rev, output } = await uploaded('crsh-larg', 'crash_id,severity\n999999,minor\n');
        const apply = await dsm(`/revision/crsh-larg/${String(rev.revision_seq)}/apply`, { method: 'PUT', json: { output_schema_id: output.id } });
        assert.equal(apply.status, 200, apply.text);
        assert.equal(apply.body.key, 'approval_submitted');
        assert.equal(apply.body.resource, undefined);
        const show = await dsm(`/revision/crsh-larg/${String(rev.revision_seq)}`);
        assert.deepEqual((show.body.resource as Body).task_sets, [], 'the .NET client reads "no task set" as waiting for approval');
      } finally {
        emu.store.setApprovalRequired('crsh-larg', false);
      }
    });
  });

  describe('2. action.permission null', () => {
    it('is accepted (socrata-py sends it by default) and keeps the dataset’s permission; bad values still fail', async () => {
      const rev = await dsm('/revision/bdgt-priv', { method: 'POST', json: { metadata: {}, action: { type: 'update', permission: null } } });
      assert.equal(rev.status, 201, rev.text);
      const r = rev.body.resource as Body;
      assert.deepEqual(r.action, { type: 'update' });
      const apply = await dsm(`/revision/bdgt-priv/${String(r.revision_seq)}/apply`, { method: 'PUT', json: {} });
      assert.equal(apply.status, 200, apply.text);
      let status: unknown;
      for (let i = 0; i < 500 && status !== 'successful' && status !== 'failure'; i++) {
        await new Promise((done) => setTimeout(done, 10));
        const show = await dsm(`/revision/bdgt-priv/${String(r.revision_seq)}`);
        status = ((show.body.resource as Body).task_sets as Body[])[0]?.status;
      }
      assert.equal(status, 'successful');
      assert.equal(emu.store.getDataset('bdgt-priv')?.isPublic, false, 'still private');
      const bad = await dsm('/revision/bdgt-priv', { method: 'POST', json: { action: { type: 'update', permission: 'everyone' } } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid_permission');
    });
  });

  describe('3. /resource writes without Content-Type', () => {
    // Bytes, not a string: fetch would add `text/plain` to a string body.
    const raw = (id: string, body: string | Uint8Array, headers: Record<string, string> = {}, method = 'POST') =>
      call<Body>(emu.url, `/resource/${id}.json`, {
        method,
        body: typeof body === 'string' ? Buffer.from(body) : body,
        headers: { authorization: PUBLISHER_AUTH, ...headers },
      });

    it('reads a body starting with [ or { (after BOM and whitespace) as JSON', async () => {
      const arr = await raw('bldg-prmt', '  \n[{"permit_id":"NOCT-1","address":"1 Sniff St"}]');
      assert.equal(arr.status, 200, arr.text);
      assert.equal(arr.body['Rows Created'], 1);
      const withBom = await raw('bldg-prmt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\t{"permit_id":"NOCT-2","address":"2 Sniff St"}')]));
      assert.equal(withBom.status, 200, withBom.text);
      assert.equal(withBom.body.permit_id, 'NOCT-2', 'a single object answers with the row');
      assert.equal(emu.store.findRow('bldg-prmt', 'NOCT-1')?.v.address, '1 Sniff St');
    });

    it('reads any other body as CSV', async () => {
      const csv = await raw('bldg-prmt', 'permit_id,address\nNOCT-3,3 Sniff St\n');
      assert.equal(csv.status, 200, csv.text);
      assert.equal(csv.body['Rows Created'], 1);
      assert.equal(emu.store.findRow('bldg-prmt', 'NOCT-3')?.v.address, '3 Sniff St');
    });

    it('still refuses an explicit wrong type with 415, and bad sniffed JSON with the JSON error', async () => {
      const wrong = await raw('bldg-prmt', '[{"permit_id":"NOCT-4"}]', { 'content-type': 'text/plain' });
      assert.equal(wrong.status, 415);
      assert.equal(wrong.body.errorCode, 'req.content-type.not-json');
      const broken = await raw('bldg-prmt', '[{"permit_id": }]');
      assert.equal(broken.status, 400);
      assert.equal(broken.body.errorCode, 'req.body.malformed-json');
      assert.match(String(broken.body.message), /line 1, column 16/);
      assert.equal(emu.store.findRow('bldg-prmt', 'NOCT-4'), undefined);
    });
  });

  describe('4. 202 Accepted on reads', () => {
    it('the accepted fault answers reads 202 with Retry-After and leaves writes alone', async () => {
      emu.setFaults('accepted=1,acceptedRetryAfter=3');
      try {
        const r = await call<Body>(emu.url, '/resource/tree-cnsu.csv');
        assert.equal(r.status, 202);
        assert.equal(r.headers.get('retry-after'), '3');
        assert.match(r.headers.get('content-type') ?? '', /application\/json/);
        const w = await call<Body>(emu.url, '/resource/tree-cnsu.json', { method: 'POST', headers: { authorization: PUBLISHER_AUTH }, json: [] });
        assert.equal(w.status, 200, 'a write is never answered 202');
        assert.equal(emu.store.faultCounters.accepted, 1);
      } finally {
        emu.setFaults(undefined);
      }
    });

    it('the client waits as Retry-After says and exports the real CSV, never the 202 body', async () => {
      const expected = await (await client().exportCsv('tree-cnsu')).toArray();
      // seed 3: the first two reads of the export are answered 202, then 200.
      emu.setFaults('seed=3,accepted=0.6,acceptedRetryAfter=2,only=/resource/tree-cnsu.csv');
      try {
        const clock = recordingClock();
        const stream = await client({ clock }).exportCsv('tree-cnsu');
        const text = Buffer.concat(await stream.toArray()).toString('utf8');
        assert.equal(text, Buffer.concat(expected).toString('utf8'));
        const n = emu.store.faultCounters.accepted;
        assert.ok(n >= 1, `at least one 202 (${n})`);
        assert.deepEqual(clock.waits, Array<number>(n).fill(2000), 'one wait of Retry-After per 202');
      } finally {
        emu.setFaults(undefined);
      }
    });

    it('Save as CSV writes the rows, not a 202 body, when reads are answered 202 first', async () => {
      const save = async (c: SodaClient): Promise<string> => {
        const chunks: string[] = [];
        const out = new Writable({
          write: (chunk: Buffer, _enc, done) => {
            chunks.push(chunk.toString('utf8'));
            done();
          },
        });
        await exportQueryCsv(c, 'tree-cnsu', 'SELECT species, diameter_in ORDER BY :id', out);
        return chunks.join('');
      };
      const expected = await save(client());
      // Save as CSV is one SODA3 export: a POST that is a read, so it too may be answered 202 first.
      emu.setFaults('seed=5,accepted=0.9,acceptedRetryAfter=0,only=/api/v3/views/tree-cnsu/export.csv');
      try {
        const got = await save(client({ clock: recordingClock() }));
        assert.ok(emu.store.faultCounters.accepted >= 1, 'some reads were answered 202');
        assert.equal(got, expected);
        assert.doesNotMatch(got, /processing/i);
      } finally {
        emu.setFaults(undefined);
      }
    });

    it('gives up after a bounded number of 202s, and a cancel stops the wait', async () => {
      emu.setFaults('accepted=1,acceptedRetryAfter=0,only=/resource/tree-cnsu.json');
      try {
        const events: HttpLogEvent[] = [];
        const err = await client({ onLog: (e) => events.push(e) })
          .rows('tree-cnsu', { limit: 1 })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(err instanceof SodaError, String(err));
        assert.match(err.message, /still preparing the answer \(202 Accepted\)/);
        assert.equal(events.filter((e) => e.phase === 'response' && e.status === 202).length, 31);
        const ac = new AbortController();
        // The user cancels while the client waits out the first 202.
        const clock: Clock = {
          now: () => Date.now(),
          sleep: (_ms, signal) =>
            new Promise((_r, reject) => {
              signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
              ac.abort();
            }),
        };
        const cancelled = await client({ clock })
          .rows('tree-cnsu', { limit: 1 }, { signal: ac.signal })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(cancelled instanceof SodaError && cancelled.kind === 'cancelled', String(cancelled));
      } finally {
        emu.setFaults(undefined);
      }
    });
  });

  describe('5. drafts and working copies', () => {
    it('are listed to the dataset’s owner as <4x4>:<revision> after the dataset, pointing back at it', async () => {
      const headers = { authorization: PUBLISHER_AUTH, 'x-socrata-host': emu.domain };
      const r = await call<{ results: Body[] }>(emu.url, '/api/catalog/v1?for_user=pub1-usr1', { headers });
      const ids = r.body.results.map((x) => (x.resource as Body).id);
      assert.equal(ids.indexOf('tree-cnsu:1'), ids.indexOf('tree-cnsu') + 1, ids.join());
      const draft = r.body.results.find((x) => (x.resource as Body).id === 'tree-cnsu:1');
      assert.deepEqual(draft?.published_copy, { uid: 'tree-cnsu', permalink: `${emu.url}/d/tree-cnsu` });
      assert.equal(draft?.permalink, `${emu.url}/d/tree-cnsu/revisions/1`);
      // A second open revision is listed too; once discarded it is gone.
      const rev = await dsm('/revision/bldg-prmt', { method: 'POST', json: { action: { type: 'update' }, metadata: { name: 'Permits, renamed' } } });
      const seq = (rev.body.resource as Body).revision_seq as number;
      const withNew = await call<{ results: Body[] }>(emu.url, `/api/catalog/v1?ids=bldg-prmt:${seq}`, { headers });
      assert.deepEqual(
        withNew.body.results.map((x) => [(x.resource as Body).id, (x.resource as Body).name]),
        [[`bldg-prmt:${seq}`, 'Permits, renamed']],
      );
      await dsm(`/revision/bldg-prmt/${seq}`, { method: 'DELETE' });
      const gone = await call<{ results: Body[] }>(emu.url, `/api/catalog/v1?ids=bldg-prmt:${seq}`, { headers });
      assert.equal(gone.body.results.length, 0);
      // Not to other users, even authenticated with the header.
      const other = await call<{ results: Body[] }>(emu.url, '/api/catalog/v1?ids=tree-cnsu:1', {
        headers: { authorization: OTHER_AUTH, 'x-socrata-host': emu.domain },
      });
      assert.equal(other.body.results.length, 0);
    });

    it('the client marks them draftOf their dataset, and commands needing a 4x4 name the base id', async () => {
      const found = [];
      for await (const page of client().catalog({ q: 'tree' })) found.push(...page.results);
      assert.deepEqual(
        found.map((e) => [e.id, e.draftOf]),
        [
          ['tree-cnsu', undefined],
          ['tree-cnsu:1', { id: 'tree-cnsu', revision: 1 }],
        ],
      );
      const err = await client()
        .rows('tree-cnsu:1')
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof SodaError && err.kind === 'invalid-input', String(err));
      assert.match(err.message, /"tree-cnsu:1" is a draft \(revision 1\) of tree-cnsu, not a dataset: .* use tree-cnsu/);
      assert.throws(() => checkRequest({ file: 'x.csv', mode: 'upsert', dataset: 'tree-cnsu:1' }), /draft \(revision 1\) of tree-cnsu; publish to tree-cnsu/);
    });
  });

  describe('6. catalog visibility', () => {
    it('lists hidden and unpublished assets only to an authenticated caller naming the domain in X-Socrata-Host', async () => {
      emu.store.setDatasetFlag('park-othr', 'hidden', true);
      const draftId = emu.store.createDataset({
        name: 'Unpublished Parks',
        owner: SAMPLE.users.other.id,
        columns: [],
        isPublic: true,
        publicationStage: 'unpublished',
      });
      try {
        const ids = async (headers: Record<string, string>) =>
          (await call<{ results: { resource: { id: string } }[] }>(emu.url, `/api/catalog/v1?for_user=${SAMPLE.users.other.id}`, { headers })).body.results
            .map((r) => r.resource.id)
            .sort();
        assert.deepEqual(await ids({}), []);
        assert.deepEqual(await ids({ authorization: OTHER_AUTH }), []);
        assert.deepEqual(await ids({ authorization: OTHER_AUTH, 'x-socrata-host': 'data.example.gov' }), [], 'another authenticating domain');
        assert.deepEqual(await ids({ 'x-socrata-host': emu.domain }), [], 'the header alone is not authentication');
        // (other@example.org also owns the private sample datasets it shares, libr-shrd and insp-shrd.)
        assert.deepEqual(await ids({ authorization: OTHER_AUTH, 'x-socrata-host': emu.domain }), [draftId, 'insp-shrd', 'libr-shrd', 'park-othr'].sort());
      } finally {
        emu.store.setDatasetFlag('park-othr', 'hidden', false);
        emu.store.deleteDataset(draftId);
      }
    });
  });

  describe('7. auth failures answered 403 "You must be logged in"', () => {
    it('the switch answers bad credentials 403 without a code; the client marks them rejected, other 403s not', async () => {
      emu.setAuthFailures('login');
      try {
        const r = await call<Body>(emu.url, '/api/users/current.json', { headers: { authorization: basic(SAMPLE.users.publisher.email, 'wrong') } });
        assert.equal(r.status, 403);
        assert.deepEqual(r.body, { error: true, message: 'You must be logged in to access this resource' });
        const events: HttpLogEvent[] = [];
        const bad = client({ auth: { type: 'basic', email: SAMPLE.users.publisher.email, password: 'wrong' }, onLog: (e) => events.push(e) });
        const err = await bad.currentUser().then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof SodaError, String(err));
        assert.equal(err.kind, 'auth');
        assert.equal(err.credentialsRejected, true);
        assert.match(err.message, /did not accept the credentials \(403\)/);
        assert.equal(events.filter((e) => e.phase === 'request').length, 1, 'not retried');
        assert.equal(events.find((e) => e.phase === 'error')?.credentialsRejected, true);
        // The same answer to a caller that sent no credentials is not about credentials.
        const anon = await client({ auth: { type: 'none' } })
          .currentUser()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(anon instanceof SodaError && anon.kind === 'auth' && !anon.credentialsRejected, String(anon));
        // A 403 for lack of rights (with a code) with good credentials is not either.
        const viewer = client({ auth: { type: 'basic', email: SAMPLE.users.viewer.email, password: SAMPLE.users.viewer.password } });
        const denied = await viewer.upsert('bldg-prmt', [{ permit_id: 'X' }]).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(denied instanceof SodaError && denied.status === 403 && !denied.credentialsRejected, String(denied));
      } finally {
        emu.setAuthFailures('code');
      }
      const back = await call<Body>(emu.url, '/api/users/current.json', { headers: { authorization: basic(SAMPLE.users.publisher.email, 'wrong') } });
      assert.equal(back.status, 401);
      assert.equal(back.body.code, 'invalid_credentials');
    });

    it('the test-control endpoint switches the style for another process', async () => {
      const ctl = new URL('/__emulator/rejected-credentials', emu.url);
      const set = await fetch(ctl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo_key_id', authFailures: 'login' }),
      });
      assert.equal(set.status, 200);
      const r = await call<Body>(emu.url, '/api/users/current.json', { headers: { authorization: basic('demo_key_id', 'demo_key_secret') } });
      assert.equal(r.status, 403);
      assert.equal(r.body.code, undefined);
      assert.equal((await fetch(ctl, { method: 'DELETE' })).status, 200);
      const ok = await call<Body>(emu.url, '/api/users/current.json', { headers: { authorization: basic('demo_key_id', 'demo_key_secret') } });
      assert.equal(ok.status, 200);
      const bad = await fetch(ctl, { method: 'POST', body: JSON.stringify({ username: 'x', authFailures: 'teapot' }) });
      assert.equal(bad.status, 400);
    });
  });
});
