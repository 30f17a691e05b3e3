// Second lines of defence, at the level of behaviour, for three rules that each had only one test:
// - an append (not safe to repeat) is never retried after a connection reset (a real TCP RST, so the client sees
//   ECONNRESET), while an upsert keyed by a row identifier is;
// - a UTF-8 byte order mark is not part of the first header, of any value or of any column number;
// - a file whose only problems are in its header is refused by the publish API itself, and nothing is sent.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CsvError, openCsv, readHead, validateFile, type DatasetSchema } from '../../src/csv';
import { executePublish, planPublish, publish, type PublishRequest } from '../../src/publish';
import { SodaClient } from '../../src/soda';
import { startEmulator } from '../emulator/index';
import { rejectsWithSodaError } from '../lib/helpers';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

let dir: string;
let emu: Emulator;
let client: SodaClient;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mutation-defence-'));
  emu = await startEmulator({ port: 0, seed: 'sample' });
  client = new SodaClient({ domain: emu.domain, auth: PUBLISHER, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
});
after(async () => {
  await client.close();
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** The same text saved under the same name twice: with a UTF-8 BOM (in bom/) and without (in plain/). */
function bomPair(name: string, text: string | Buffer): { withBom: string; without: string } {
  const withBom = join(dir, 'bom', name);
  const without = join(dir, 'plain', name);
  mkdirSync(join(dir, 'bom'), { recursive: true });
  mkdirSync(join(dir, 'plain'), { recursive: true });
  writeFileSync(withBom, Buffer.concat([BOM, Buffer.from(text)]));
  writeFileSync(without, text);
  return { withBom, without };
}

/** A loopback server; every socket is destroyed on close. */
async function listen(
  handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('defence: an unsafe POST is not retried after a connection reset', () => {
  it('a server that resets the connection (TCP RST) after reading an append: one attempt, outcome unknown; a keyed upsert is retried', async () => {
    const posts: string[] = [];
    const srv = await listen((req, _res, body) => {
      posts.push(body.toString('utf8'));
      req.socket.resetAndDestroy();
    });
    const c = new SodaClient({ domain: `127.0.0.1:${srv.port}`, auth: PUBLISHER, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    try {
      const e = await rejectsWithSodaError(c.upsert('abcd-1234', [{ species: 'Oak' }], { hasRowIdentifier: false }));
      assert.equal(posts.length, 1, 'the append reached the server once and was not sent again');
      assert.equal(posts[0], '[{"species":"Oak"}]');
      assert.equal(e.kind, 'network');
      assert.equal(e.outcome, 'unknown');
      assert.match(e.message, new RegExp(`connection to 127\\.0\\.0\\.1:${srv.port} was reset`), 'a real reset (ECONNRESET)');
      assert.match(e.message, /may or may not have been applied/);

      posts.length = 0;
      const keyed = await rejectsWithSodaError(c.upsert('abcd-1234', [{ species: 'Oak' }], { hasRowIdentifier: true }));
      assert.equal(posts.length, 3, 'an upsert keyed by a row identifier is safe to repeat: every attempt was made');
      assert.deepEqual([keyed.kind, keyed.attempts], ['network', 3]);
    } finally {
      await c.close();
      await srv.close();
    }
  });

  it('publishing an append through a proxy that resets the connection once the emulator applied it: stops, names the lines, no duplicate rows', async () => {
    // The proxy forwards every request to the emulator; for a POST to /resource it then resets the client's connection
    // instead of answering, so the write is applied and its answer lost.
    const proxy = await listen((req, res, body) => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<
        string,
        string
      >;
      void fetch(`${emu.url}${req.url ?? '/'}`, { method: req.method, headers, ...(body.length > 0 ? { body } : {}) }).then(async (r) => {
        const text = Buffer.from(await r.arrayBuffer());
        if (req.method === 'POST' && (req.url ?? '').startsWith('/resource/')) {
          req.socket.resetAndDestroy();
          return;
        }
        const out: Record<string, string> = {};
        r.headers.forEach((v, k) => {
          if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) out[k] = v;
        });
        res.writeHead(r.status, { ...out, 'content-length': String(text.length) });
        res.end(text);
      });
    });
    const c = new SodaClient({ domain: `127.0.0.1:${proxy.port}`, auth: PUBLISHER, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    try {
      const csv = file('append-rst.csv', `species,diameter_in\n${Array.from({ length: 6 }, (_, i) => `Rst${i},${i}`).join('\n')}\n`);
      const before = emu.store.rowCount('tree-cnsu');
      const writes = emu.store.appliedWrites.length;
      const r = await publish(c, { file: csv, dataset: 'tree-cnsu', mode: 'append', batchSize: 3, concurrency: 1 });
      assert.equal(r.status, 'failed', r.message);
      assert.deepEqual(r.uncertainRanges, [[2, 4]]);
      assert.match(r.message, /was reset/);
      assert.match(r.message, /lines 2–4 is unknown/);
      const applied = emu.store.appliedWrites.slice(writes).filter((w) => w.dataset === 'tree-cnsu');
      assert.deepEqual(
        applied.map((w) => w.rowsIn),
        [3],
        'one request, applied once, never repeated',
      );
      assert.equal(emu.store.rowCount('tree-cnsu'), before + 3);
    } finally {
      await c.close();
      await proxy.close();
    }
  });
});

describe('defence: the UTF-8 byte order mark', () => {
  const HEADER = 'line_item,department,amount';

  it('a CSV with a BOM publishes: the first column maps to its field and every row arrives as written', async () => {
    const rows = [
      ['BOM-1', 'Parks', '11'],
      ['BOM-2', 'Fire', '12'],
      ['BOM-3', 'Water', '13'],
    ];
    const csv = file('bom-publish.csv', Buffer.concat([BOM, Buffer.from(`${HEADER}\n${rows.map((r) => r.join(',')).join('\n')}\n`)]));
    const req: PublishRequest = { file: csv, dataset: 'bdgt-priv', mode: 'upsert' };
    const plan = await planPublish(client, req);
    assert.deepEqual(plan.file.header, ['line_item', 'department', 'amount']);
    assert.deepEqual(
      plan.columns.map((c) => [c.csvHeader, c.fieldName]),
      [
        ['line_item', 'line_item'],
        ['department', 'department'],
        ['amount', 'amount'],
      ],
    );
    assert.equal(plan.problemCount, 0, JSON.stringify(plan.problems));
    const r = await executePublish(client, plan);
    assert.equal(r.status, 'success', r.message);
    assert.equal(r.created, 3);
    const { rows: remote } = await client.rows('bdgt-priv', { where: "line_item like 'BOM-%'", order: 'line_item' });
    assert.deepEqual(
      remote.map((x) => [x.line_item, x.department, String(x.amount)]),
      rows,
    );
  });

  it('readHead and openCsv: the same header, rows and lines with and without the BOM', async () => {
    const text = `${HEADER}\nB-1,Parks,1\nB-2,Fire,2\n`;
    const { withBom, without } = bomPair('head.csv', text);
    const a = await readHead(withBom);
    const b = await readHead(without);
    assert.equal(a.format.bom, true);
    assert.equal(b.format.bom, false);
    assert.deepEqual(a.header, ['line_item', 'department', 'amount']);
    assert.deepEqual(
      [a.header, a.fieldNames, a.headerProblems, a.rows, a.estimatedRowCount],
      [b.header, b.fieldNames, b.headerProblems, b.rows, b.estimatedRowCount],
    );
    const all = async (p: string): Promise<unknown[]> => {
      const reader = await openCsv(p);
      const out: unknown[] = [reader.header];
      for await (const batch of reader.batches()) out.push(...batch.map((x) => [x.line, x.fields]));
      return out;
    };
    assert.deepEqual(await all(withBom), await all(without));
  });

  it('validateFile: no header problem, and a bad cell is reported at the same line and column as without the BOM (one and two threads)', async () => {
    const schema: DatasetSchema = {
      rowIdentifier: 'line_item',
      columns: [
        { fieldName: 'line_item', name: 'Line Item', dataTypeName: 'text' },
        { fieldName: 'department', name: 'Department', dataTypeName: 'text' },
        { fieldName: 'amount', name: 'Amount', dataTypeName: 'number' },
      ],
    };
    const text = `${HEADER}\n${Array.from({ length: 400 }, (_, i) => `V-${i},Dept,${i === 250 ? 'twelve' : i}`).join('\n')}\nV-3,Dept,3\n`;
    const { withBom, without } = bomPair('validate.csv', text);
    for (const threads of [1, 2]) {
      const a = await validateFile(withBom, schema, { threads, parallelMinBytes: 0 });
      const b = await validateFile(without, schema, { threads, parallelMinBytes: 0 });
      assert.deepEqual(a.header, ['line_item', 'department', 'amount']);
      assert.deepEqual(a.headerProblems, []);
      assert.deepEqual(a.unknownColumns, []);
      assert.equal(a.rowIdentifier?.inCsv, true);
      assert.deepEqual(
        a.columns[2]?.invalid.examples.map((e) => [e.line, e.column]),
        [[252, 3]],
      );
      assert.deepEqual(
        a.rowIdentifier?.duplicates.examples.map((e) => [e.line, e.column]),
        [[402, 1]],
      );
      assert.equal(a.rows, 401);
      assert.deepEqual(
        { ...a, file: '', format: { ...a.format, path: '', bom: false, fileSize: 0 } },
        { ...b, file: '', format: { ...b.format, path: '', fileSize: 0 } },
      );
    }
  });

  it('an invalid byte on the first line names the same line and column with and without the BOM', async () => {
    const bad = Buffer.concat([Buffer.from('line_item,depa'), Buffer.from([0xff]), Buffer.from('rtment,amount\nE-1,Parks,1\n')]);
    const errorOf = async (p: string): Promise<CsvError> => {
      try {
        await readHead(p);
      } catch (e) {
        assert.ok(e instanceof CsvError, String(e));
        return e;
      }
      assert.fail('expected an encoding error');
    };
    const { withBom, without } = bomPair('invalid.csv', bad);
    const a = await errorOf(withBom);
    const b = await errorOf(without);
    assert.equal(a.code, 'ENCODING');
    assert.deepEqual([a.line, a.column], [1, 15]);
    assert.deepEqual([a.line, a.column], [b.line, b.column]);
  });
});

describe('defence: a plan whose only problems are in the header', () => {
  const cases = [
    {
      name: 'duplicate',
      header: 'line_item,department,Department,amount',
      row: (i: number) => `HDR-D${i},Parks,Parks,${i}`,
      says: /columns 2 \("department"\), 3 \("Department"\) all become the field name "department"/,
    },
    { name: 'empty', header: 'line_item,,amount', row: (i: number) => `HDR-E${i},x,${i}`, says: /column 2 has an empty header/ },
  ];
  for (const c of cases) {
    it(`${c.name} header names: the plan is blocked and publish refuses it; nothing reaches the server`, async () => {
      const csv = file(`header-${c.name}.csv`, `${c.header}\n${[1, 2, 3].map(c.row).join('\n')}\n`);
      const req: PublishRequest = { file: csv, dataset: 'bdgt-priv', mode: 'upsert' };
      const plan = await planPublish(client, req);
      assert.equal(plan.badRows, 0, 'every row is fine');
      assert.equal(plan.problemCount, 1);
      assert.equal(plan.problems.length, 1);
      assert.match(plan.problems[0]?.message ?? '', /header: /);
      assert.match(plan.problems[0]?.message ?? '', c.says);
      assert.equal(plan.blocked, true);

      const writes = emu.store.appliedWrites.length;
      const count = emu.store.rowCount('bdgt-priv');
      const executed = await executePublish(client, plan, { errorRowsFile: join(dir, `header-${c.name}.errors.csv`) });
      assert.equal(executed.status, 'refused', executed.message);
      assert.match(executed.message, /Nothing was sent: validation found 1 problem/);
      assert.match(executed.message, c.says);

      const r = await publish(client, req, { errorRowsFile: join(dir, `header-${c.name}.errors2.csv`) });
      assert.equal(r.status, 'refused', r.message);
      assert.ok(r.message.includes(csv), `the message names the file: ${r.message}`);
      assert.match(r.message, c.says);
      assert.deepEqual([r.created, r.updated, r.requestIds], [0, 0, []]);
      assert.equal(emu.store.appliedWrites.length, writes, 'nothing reached the server');
      assert.equal(emu.store.rowCount('bdgt-priv'), count);
    });
  }
});
