// Requests through a real proxy: Debian's tinyproxy, started here with a generated configuration on a free
// loopback port. The proof that a request went through it is tinyproxy's own log line for the tunnel it
// opened to our server (undici tunnels with CONNECT, so no Via header is added).
import { strict as assert } from 'node:assert';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SodaHttp } from '../../src/soda/http';

const TINYPROXY = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy'].find((p) => existsSync(p));
const skip = TINYPROXY === undefined ? 'tinyproxy is not installed (apt-get install tinyproxy); proxy tests skipped' : false;
if (skip) console.log(`# ${skip}`);

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('soda gateway through an HTTP proxy (tinyproxy)', { skip }, () => {
  let dir = '';
  let log = '';
  let proxyPort = 0;
  let proxy: ChildProcess | undefined;
  let server: Server | undefined;
  let target = 0;
  const seen: { url: string; auth: string | undefined }[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'soda-proxy-'));
    log = join(dir, 'tinyproxy.log');
    proxyPort = await freePort();
    // No ConnectPort lines: CONNECT is allowed to any port (our server's is random). No upstream.
    writeFileSync(
      join(dir, 'tinyproxy.conf'),
      [`Port ${proxyPort}`, 'Listen 127.0.0.1', 'Timeout 30', 'Allow 127.0.0.1', `LogFile "${log}"`, 'LogLevel Info', 'MaxClients 20', ''].join('\n'),
    );
    proxy = spawn(TINYPROXY as string, ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('Accepting connections'), 'tinyproxy to start');

    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'pub1-usr1' }));
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    target = (server.address() as AddressInfo).port;
  });

  after(async () => {
    if (proxy?.pid !== undefined) proxy.kill('SIGTERM');
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server?.close(() => r()));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tunnels = (): number =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`CONNECT 127.0.0.1:${target}`)).length;

  it('goes through an explicitly configured proxy (the VS Code http.proxy path)', async () => {
    const before = tunnels();
    const http = new SodaHttp({
      domain: `127.0.0.1:${target}`,
      auth: { type: 'apiKey', keyId: 'demo_key_id', keySecret: 'demo_key_secret' },
      proxy: { url: `http://127.0.0.1:${proxyPort}` },
    });
    const res = await http.request<{ id: string }>({ method: 'GET', path: '/api/users/current.json' });
    await http.close();
    assert.equal(res.body.id, 'pub1-usr1');
    assert.equal(seen.at(-1)?.auth, `Basic ${Buffer.from('demo_key_id:demo_key_secret').toString('base64')}`);
    await waitFor(() => tunnels() > before, 'tinyproxy to log the tunnel');
  });

  it('does not use the proxy for a host listed in noProxy', async () => {
    const before = tunnels();
    const count = seen.length;
    const http = new SodaHttp({ domain: `127.0.0.1:${target}`, proxy: { url: `http://127.0.0.1:${proxyPort}`, noProxy: 'localhost,127.0.0.1' } });
    await http.request({ method: 'GET', path: '/direct' });
    await http.close();
    assert.equal(seen.length, count + 1);
    // Give tinyproxy the same chance to log as above; nothing must appear.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(tunnels(), before);
  });

  // The environment variables are read in a child process so that this process's own NO_PROXY (which
  // normally lists localhost) cannot interfere and nothing leaks into other tests.
  // (Asynchronous: the target server lives in this process and must keep answering.)
  function viaEnv(env: Record<string, string>): Promise<{ status: number | null; out: string }> {
    const script = [
      `const { SodaHttp } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'soda', 'http.ts'))});`,
      `const http = new SodaHttp({ domain: '127.0.0.1:${target}' });`,
      `http.request({ method: 'GET', path: '/env' }).then((r) => { console.log(JSON.stringify(r.body)); return http.close(); }, (e) => { console.error(e.message); process.exitCode = 1; });`,
    ].join('\n');
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(https?|no)_proxy$/i.test(k)) clean[k] = v;
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '-e', script],
        { env: { ...clean, ...env }, encoding: 'utf8', timeout: 30_000 },
        (error, stdout, stderr) => {
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out: stdout + stderr });
        },
      );
    });
  }

  for (const [name, variable] of [
    ['upper-case', 'HTTP_PROXY'],
    ['lower-case', 'http_proxy'],
  ] as const) {
    it(`honours ${name} ${variable} from the environment`, async () => {
      const before = tunnels();
      const r = await viaEnv({ [variable]: `http://127.0.0.1:${proxyPort}`, NO_PROXY: '' });
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /pub1-usr1/);
      await waitFor(() => tunnels() > before, 'tinyproxy to log the tunnel');
    });
  }

  it('honours NO_PROXY from the environment', async () => {
    const before = tunnels();
    const r = await viaEnv({ HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: 'example.org,127.0.0.1' });
    assert.equal(r.status, 0, r.out);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(tunnels(), before);
  });
});
