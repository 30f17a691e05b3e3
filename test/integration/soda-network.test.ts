// The corporate network: the emulator behind TLS with a certificate from a CA made by openssl (as a
// TLS-inspecting proxy re-signs sites), reached through tinyproxy that requires Basic credentials. From the
// gateway (the settings the extension passes) and from the CLI as a separate process (HTTPS_PROXY, NO_PROXY,
// SOCRATA_CA_FILE, NODE_EXTRA_CA_CERTS). Proxy credentials must never show up in messages or logs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SAMPLE, startEmulator } from '../emulator/index';
import { type HttpLogEvent, SodaHttp } from '../../src/soda/http';
import { LINUX_BUNDLES, systemCertificates } from '../../src/soda/network';
import { bundleCli, rejectsWithSodaError } from '../lib/helpers';
import { makePki, missingTools, type Pki, type Proxy, startTinyproxy, startTlsFront, type TlsFront } from '../lib/netlab';

const skip = missingTools() ?? false;
if (skip) console.log(`# ${skip}; network tests skipped`);

const USER = 'proxyuser';
const PASSWORD = 'pr0xy-s3cret-word';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const KEY = { type: 'apiKey' as const, keyId: SAMPLE.apiKey.keyId, keySecret: SAMPLE.apiKey.keySecret };

describe('corporate network: TLS with a private CA, through an authenticating proxy', { skip }, () => {
  let dir = '';
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let pki: Pki;
  let front: TlsFront;
  let proxy: Proxy;
  let domain = '';
  let proxyUrl = '';
  let bundle = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'soda-network-'));
    pki = makePki(dir);
    emu = await startEmulator({ port: 0, seed: 'sample' });
    front = await startTlsFront(emu.port, pki);
    proxy = await startTinyproxy(dir, { user: USER, password: PASSWORD });
    domain = `https://127.0.0.1:${front.port}`;
    proxyUrl = `http://${USER}:${PASSWORD}@127.0.0.1:${proxy.port}`;
    bundle = await bundleCli(dir);
  });

  after(async () => {
    proxy?.close();
    await front?.close();
    await emu?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Every text a user could see from a gateway: its log events and the error, if any. */
  function gateway(options: Partial<ConstructorParameters<typeof SodaHttp>[0]>): { http: SodaHttp; logs: HttpLogEvent[] } {
    const logs: HttpLogEvent[] = [];
    const http = new SodaHttp({ domain, auth: KEY, retry: { maxAttempts: 1 }, onLog: (e) => logs.push(e), ...options });
    return { http, logs };
  }

  function assertNoProxySecret(text: string): void {
    assert.ok(!text.includes(PASSWORD), `the proxy password leaked: ${text}`);
    assert.ok(!text.includes(BASIC), `the proxy credentials (base64) leaked: ${text}`);
  }

  it('reaches the portal through the proxy with credentials in http.proxy and the CA from caCertificates', async () => {
    const tunnels = proxy.tunnels(front.port);
    const { http, logs } = gateway({ product: 'vscode-extension', proxy: { url: proxyUrl, noProxy: '' }, tls: { caFiles: [pki.caFile] } });
    const res = await http.request<{ id: string }>({ method: 'GET', path: '/api/users/current.json' });
    await http.close();
    assert.equal(res.body.id, SAMPLE.users.publisher.id);
    assert.equal(proxy.tunnels(front.port), tunnels + 1, 'tinyproxy logged the tunnel');
    assertNoProxySecret(JSON.stringify(logs));
  });

  it('sends http.proxyAuthorization as the Proxy-Authorization header', async () => {
    const tunnels = proxy.tunnels(front.port);
    const { http, logs } = gateway({
      product: 'vscode-extension',
      proxy: { url: `http://127.0.0.1:${proxy.port}`, authorization: `Basic ${BASIC}` },
      tls: { caFiles: [pki.caFile] },
    });
    const res = await http.request<{ id: string }>({ method: 'GET', path: '/api/users/current.json' });
    await http.close();
    assert.equal(res.body.id, SAMPLE.users.publisher.id);
    assert.equal(proxy.tunnels(front.port), tunnels + 1);
    assertNoProxySecret(JSON.stringify(logs));
  });

  it('without the CA: names the certificate problem and the setting that fixes it', async () => {
    for (const [product, setting] of [
      ['vscode-extension', 'socrata.http.caCertificates'],
      ['cli', 'SOCRATA_CA_FILE'],
    ] as const) {
      const { http, logs } = gateway({ product, proxy: { url: proxyUrl } });
      const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/api/users/current.json' }));
      await http.close();
      assert.equal(e.kind, 'network');
      assert.match(e.message, /Certificate problem/);
      assert.match(e.message, /certificate authority this computer does not trust \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
      assert.ok(e.message.includes(setting), e.message);
      assertNoProxySecret(`${e.message} ${JSON.stringify(logs)}`);
    }
  });

  it('a certificate failure is not retried (trying again cannot fix it)', async () => {
    const { http } = gateway({ proxy: { url: proxyUrl }, retry: { maxAttempts: 4, baseDelayMs: 1 } });
    const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/api/users/current.json' }));
    await http.close();
    assert.match(e.message, /Certificate problem/);
    assert.equal(e.attempts, 1);
  });

  it('with wrong or missing proxy credentials: says the proxy wants them and where they go, without echoing them', async () => {
    for (const [url, status] of [
      [`http://127.0.0.1:${proxy.port}`, '407'],
      [`http://${USER}:wrong-${PASSWORD}@127.0.0.1:${proxy.port}`, '401'],
    ]) {
      const { http, logs } = gateway({ product: 'vscode-extension', proxy: { url }, tls: { caFiles: [pki.caFile] } });
      const e = await rejectsWithSodaError(http.request({ method: 'GET', path: '/api/users/current.json' }));
      await http.close();
      assert.match(e.message, new RegExp(`^Proxy authentication failed: the proxy answered ${status} `));
      assert.match(e.message, /"http\.proxy" \(http:\/\/user:password@proxy:port\) or "http\.proxyAuthorization"/);
      assertNoProxySecret(`${e.message} ${JSON.stringify(logs)}`);
    }
  });

  it('http.proxyStrictSSL false: connections through the proxy are not verified', async () => {
    const { http } = gateway({ proxy: { url: proxyUrl, strictSSL: false } });
    const res = await http.request<{ id: string }>({ method: 'GET', path: '/api/users/current.json' });
    await http.close();
    assert.equal(res.body.id, SAMPLE.users.publisher.id);
  });

  it('http.noProxy: a listed host is reached directly (still with the extra CA)', async () => {
    const tunnels = proxy.tunnels(front.port);
    const { http } = gateway({ proxy: { url: proxyUrl, noProxy: 'example.org,127.0.0.1' }, tls: { caFiles: [pki.caFile] } });
    const res = await http.request<{ id: string }>({ method: 'GET', path: '/api/users/current.json' });
    await http.close();
    assert.equal(res.body.id, SAMPLE.users.publisher.id);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(proxy.tunnels(front.port), tunnels);
  });

  it('a CA file that is missing or not PEM is refused, naming the file and the setting', () => {
    const notPem = join(dir, 'not-a-cert.txt');
    writeFileSync(notPem, 'hello\n');
    assert.throws(
      () => new SodaHttp({ domain, product: 'vscode-extension', tls: { caFiles: [join(dir, 'absent.pem')] } }),
      /Cannot read the certificate file .*absent\.pem named in socrata\.http\.caCertificates: it does not exist/,
    );
    assert.throws(
      () => new SodaHttp({ domain, product: 'cli', tls: { caFiles: [notPem] } }),
      /not-a-cert\.txt named in SOCRATA_CA_FILE contains no PEM certificate/,
    );
  });

  it(
    'reads the operating system store (on Linux, the system bundle)',
    { skip: process.platform !== 'linux' || !LINUX_BUNDLES.some((f) => existsSync(f)) },
    () => {
      const bundleFile = LINUX_BUNDLES.find((f) => existsSync(f)) as string;
      const inFile = readFileSync(bundleFile, 'utf8').split('-----BEGIN CERTIFICATE-----').length - 1;
      assert.ok(inFile > 0);
      assert.equal(systemCertificates().length, inFile);
    },
  );

  interface Run {
    code: number;
    stdout: string;
    stderr: string;
  }

  function cli(args: string[], env: Record<string, string>): Promise<Run> {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('SOCRATA_') && !/^(https?|no)_proxy$/i.test(k) && k !== 'NODE_EXTRA_CA_CERTS'),
    );
    const keys = { SOCRATA_KEY_ID: SAMPLE.apiKey.keyId, SOCRATA_KEY_SECRET: SAMPLE.apiKey.keySecret };
    return new Promise((resolve) => {
      execFile(process.execPath, [bundle, ...args], { env: { ...clean, ...keys, ...env } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  const query = (): string[] => ['query', '--domain', domain, '--dataset', 'bldg-prmt', '--soql', 'SELECT count(*) AS n'];

  it('CLI: HTTPS_PROXY with credentials and SOCRATA_CA_FILE', async () => {
    const tunnels = proxy.tunnels(front.port);
    const r = await cli(query(), { HTTPS_PROXY: proxyUrl, SOCRATA_CA_FILE: pki.caFile });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"n":/);
    assert.equal(proxy.tunnels(front.port), tunnels + 1);
    assertNoProxySecret(r.stdout + r.stderr);
  });

  it('CLI: NODE_EXTRA_CA_CERTS is trusted too', async () => {
    const r = await cli(query(), { https_proxy: proxyUrl, NODE_EXTRA_CA_CERTS: pki.caFile });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"n":/);
  });

  it('CLI: NO_PROXY sends a listed host directly', async () => {
    const tunnels = proxy.tunnels(front.port);
    const r = await cli(query(), { HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1', SOCRATA_CA_FILE: pki.caFile });
    assert.equal(r.code, 0, r.stderr);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(proxy.tunnels(front.port), tunnels);
  });

  it('CLI: without the CA, exit 1 and an error on stderr naming the problem and SOCRATA_CA_FILE', async () => {
    const r = await cli(query(), { HTTPS_PROXY: proxyUrl });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Certificate problem: .*not trust \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)\. To fix it, .*SOCRATA_CA_FILE/);
    assertNoProxySecret(r.stderr);
  });

  it('CLI: without proxy credentials, exit 1 and the 407 explained', async () => {
    const r = await cli(query(), { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, SOCRATA_CA_FILE: pki.caFile });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Proxy authentication failed: the proxy answered 407 .* HTTPS_PROXY/);
  });
});
