// The corporate network from the real extension host: the emulator behind TLS with a certificate from a CA made by
// openssl, reached through tinyproxy that requires Basic credentials, configured the way a user does it: VS Code's
// `http.proxy` (credentials in the URL) and `socrata.http.caCertificates`. Without the CA, sign-in fails with a
// message that names the certificate problem and the setting; the proxy password never reaches the Socrata log.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { lanAddress, makePki, missingTools, type Pki, type Proxy, startTinyproxy, startTlsFront, type TlsFront } from '../../lib/netlab';
import { emulator, runner, signOutAll } from './lib/host';

const USER = 'proxyuser';
const PASSWORD = 'hostpr0xy-s3cret';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

function filesUnder(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) filesUnder(full, out);
    else out.push(full);
  }
  return out;
}

function socrataLog(): string {
  const userData = join(runner().context.globalStorageUri.fsPath, '..', '..', '..');
  return filesUnder(join(userData, 'logs'))
    .filter((f) => /Socrata\.log$/.test(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

async function logWhen(what: string, ready: (text: string) => boolean): Promise<string> {
  const end = Date.now() + 10_000;
  for (;;) {
    const text = socrataLog();
    if (ready(text)) return text;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what} in the Socrata log`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface SignInResult {
  accountId: string;
  displayName: string;
}

describe('corporate network: TLS with a private CA through an authenticating proxy (settings)', () => {
  let dir = '';
  let pki: Pki;
  let front: TlsFront | undefined;
  let proxy: Proxy | undefined;
  let domain = '';
  let ip = '';
  const tunnels = (): number => proxy?.tunnels(front?.port ?? 0, ip) ?? 0;
  const http = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('http');
  const socrataHttp = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('socrata.http');

  before(async function () {
    const emu = emulator();
    // The extension reaches a loopback host without a scheme over plain http (a local emulator), so the portal
    // is served over https on this machine's network address instead.
    const lan = lanAddress();
    if (!emu || missingTools() || lan === undefined) this.skip();
    ip = lan;
    dir = mkdtempSync(join(tmpdir(), 'host-network-'));
    pki = makePki(dir, [ip]);
    front = await startTlsFront(Number(new URL(emu.url).port), pki, ip);
    proxy = await startTinyproxy(dir, { user: USER, password: PASSWORD });
    domain = `${ip}:${front.port}`;
    await signOutAll();
    await http().update('proxy', `http://${USER}:${PASSWORD}@127.0.0.1:${proxy.port}`, vscode.ConfigurationTarget.Global);
    await http().update('noProxy', [], vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    if (!dir) return;
    await http().update('proxy', undefined, vscode.ConfigurationTarget.Global);
    await http().update('noProxy', undefined, vscode.ConfigurationTarget.Global);
    await socrataHttp().update('caCertificates', undefined, vscode.ConfigurationTarget.Global);
    await signOutAll();
    proxy?.close();
    await front?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in through the proxy with the CA from socrata.http.caCertificates', async () => {
    await socrataHttp().update('caCertificates', [pki.caFile], vscode.ConfigurationTarget.Global);
    const before = tunnels();
    const result = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    assert.ok(result, 'signed in');
    assert.equal(result.displayName, 'Pat Publisher');
    assert.ok(tunnels() > before, 'tinyproxy logged the tunnel to the TLS front');
  });

  it('without the CA: the message names the certificate problem and socrata.http.caCertificates', async () => {
    await socrataHttp().update('caCertificates', [], vscode.ConfigurationTarget.Global);
    await signOutAll();
    const result = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    assert.equal(result, undefined, 'the sign-in failed');
    const text = await logWhen('the certificate error', (t) => t.includes('Certificate problem'));
    const line = text.split('\n').find((l) => l.includes('Certificate problem')) ?? '';
    assert.match(line, /not trust \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    assert.match(line, /"socrata\.http\.caCertificates"/);
  });

  it('the proxy credentials appear nowhere in the Socrata log', async () => {
    // A request that is logged after everything above (the requests of both sign-ins are in the log by now).
    await logWhen('the requests through the proxy', (t) => t.includes('/api/users/current.json'));
    const text = socrataLog();
    assert.ok(!text.includes(PASSWORD), 'the proxy password is not in the log');
    assert.ok(!text.includes(BASIC), 'the proxy credentials (base64) are not in the log');
  });
});
