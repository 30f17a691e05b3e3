// Sends each request of shapes.ts to the emulator and compares the answer with the shape Socrata's own clients rely
// on: status, content type, key types, exact key sets and headers (sources in README.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SAMPLE, startEmulator, type RunningEmulator } from '../emulator/index';
import { basic, PUBLISHER_AUTH } from '../emulator/testing';
import { SHAPES, type Shape } from './shapes';

/** The value at a key path such as `resource.schemas[0].id` (`[0]` alone indexes the body). */
export function at(body: unknown, path: string): { found: boolean; value: unknown } {
  let cur: unknown = body;
  for (const part of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (part.startsWith('[')) {
      const i = Number(part.slice(1, -1));
      if (!Array.isArray(cur) || i >= cur.length) return { found: false, value: undefined };
      cur = cur[i];
    } else {
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !(part in cur)) return { found: false, value: undefined };
      cur = (cur as Record<string, unknown>)[part];
    }
  }
  return { found: true, value: cur };
}

export function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Every way the answer differs from the shape (empty when it conforms). */
export function differences(shape: Shape, status: number, contentType: string, headers: Headers, body: unknown): string[] {
  const out: string[] = [];
  if (status !== shape.status) out.push(`status ${status}, expected ${shape.status}`);
  const media = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (media !== shape.contentType) out.push(`content type "${contentType}", expected ${shape.contentType}`);
  for (const [path, want] of Object.entries(shape.keys ?? {})) {
    const { found, value } = at(body, path);
    if (!found) out.push(`${path}: missing (expected ${want})`);
    else if (!want.split('|').includes(typeOf(value))) out.push(`${path}: ${typeOf(value)}, expected ${want}`);
  }
  for (const [path, keys] of Object.entries(shape.exactKeys ?? {})) {
    const { value } = path === '' ? { value: body } : at(body, path);
    const got = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.keys(value).sort() : [];
    const want = [...keys].sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`${path || 'body'} has keys [${got.join(', ')}], expected exactly [${want.join(', ')}]`);
  }
  for (const [name, want] of Object.entries(shape.headers ?? {})) {
    const v = headers.get(name);
    if (v === null) out.push(`header ${name}: missing`);
    else if (want !== 'present' && !new RegExp(want).test(v)) out.push(`header ${name}: "${v}" does not match /${want}/`);
  }
  return out;
}

/** `{name}` in a string → the captured value (a string that is only `{name}` keeps the value's type). */
function fill(value: unknown, vars: Map<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{(\w+)\}$/.exec(value);
    if (whole?.[1] && vars.has(whole[1])) return vars.get(whole[1]);
    return value.replace(/\{(\w+)\}/g, (m, k: string) => (vars.has(k) ? String(vars.get(k)) : m));
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  return value;
}

describe('conformance: the emulator answers with the shapes Socrata’s clients read', () => {
  let emu: RunningEmulator;
  const vars = new Map<string, unknown>();

  before(async () => {
    emu = await startEmulator({ seed: 'sample' });
    vars.set('domain', emu.domain);
  });
  after(async () => {
    await emu.stop();
  });

  for (const shape of SHAPES) {
    it(`${shape.request.method} ${shape.request.path} → ${shape.status}: ${shape.name}`, async () => {
      const req = shape.request;
      const headers = new Headers(fill(req.headers ?? {}, vars) as Record<string, string>);
      const auth = req.auth ?? 'publisher';
      if (auth === 'publisher') headers.set('authorization', PUBLISHER_AUTH);
      if (auth === 'bad-password') headers.set('authorization', basic(SAMPLE.users.publisher.email, 'not-the-password'));
      let body: Uint8Array | undefined;
      if (req.json !== undefined) {
        body = Buffer.from(JSON.stringify(fill(req.json, vars)));
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      } else if (req.body !== undefined) {
        body = Buffer.from(req.body);
      }
      const path = fill(req.path, vars) as string;
      if (shape.emulator?.faults) emu.setFaults(shape.emulator.faults);
      if (shape.emulator?.authFailures) emu.setAuthFailures(shape.emulator.authFailures);
      if (shape.emulator?.approvalRequired) emu.store.setApprovalRequired(shape.emulator.approvalRequired, true);
      let res: Response;
      let text: string;
      try {
        res = await fetch(new URL(path, emu.url), { method: req.method, headers, body: body ?? null });
        text = await res.text();
      } finally {
        if (shape.emulator?.faults) emu.setFaults(undefined);
        if (shape.emulator?.authFailures) emu.setAuthFailures('code');
        if (shape.emulator?.approvalRequired) emu.store.setApprovalRequired(shape.emulator.approvalRequired, false);
      }
      let parsed: unknown;
      if (shape.contentType === 'application/json') {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
      }
      const diff = differences(shape, res.status, res.headers.get('content-type') ?? '', res.headers, parsed);
      assert.deepEqual(diff, [], `${shape.name} (sources: ${shape.sources.join(', ')}); answer: ${text.slice(0, 400)}`);
      for (const [name, path2] of Object.entries(shape.capture ?? {})) {
        const { found, value } = at(parsed, path2);
        assert.ok(found, `capture ${name} from ${path2}`);
        vars.set(name, value);
      }
      // An apply starts a job: wait for it, so that the next shape sees its task set.
      if (/\/apply$/.test(path) && res.status === 200 && at(parsed, 'resource.id').found) {
        const show = path.replace(/\/apply$/, '');
        for (let i = 0; i < 200; i++) {
          const r = await fetch(new URL(show, emu.url), { headers: { authorization: PUBLISHER_AUTH } });
          const status = at(await r.json(), 'resource.task_sets[0].status').value;
          if (status === 'successful' || status === 'failure') break;
          await new Promise((done) => setTimeout(done, 10));
        }
      }
    });
  }

  it('checks every source named by a shape against README.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('./README.md', `file://${__filename}`), 'utf8');
    const listed = new Set([...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]));
    const missing = [...new Set(SHAPES.flatMap((s) => s.sources))].filter((s) => !listed.has(s));
    assert.deepEqual(missing, [], 'every source a shape names is described in README.md');
  });
});
