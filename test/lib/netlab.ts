// A corporate network in a box, for tests: a certificate authority made by openssl, a TLS front (like an
// inspecting proxy or a load balancer) that serves a loopback HTTP server over https with a certificate from
// that CA, and tinyproxy requiring HTTP Basic credentials. Used by the unit tests and the extension-host tests.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';

export const TINYPROXY = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy'].find((p) => existsSync(p));
export const OPENSSL = ['/usr/bin/openssl', '/usr/local/bin/openssl', '/opt/homebrew/bin/openssl'].find((p) => existsSync(p));

/** Why the network tests cannot run here, or undefined when they can. */
export function missingTools(): string | undefined {
  const missing = [TINYPROXY ? undefined : 'tinyproxy', OPENSSL ? undefined : 'openssl'].filter(Boolean);
  return missing.length ? `${missing.join(' and ')} not installed (apt-get install tinyproxy openssl)` : undefined;
}

export interface Pki {
  /** The CA certificate (PEM file) a client must trust. */
  caFile: string;
  keyFile: string;
  certFile: string;
}

/**
 * This machine's first non-loopback IPv4 address, or undefined. The extension treats a loopback host without a
 * scheme as plain http (a local emulator), so a portal over https is served on this address instead.
 */
export function lanAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

/** Makes a CA and a server certificate for 127.0.0.1, localhost and `ips`, signed by it, in `dir`. */
export function makePki(dir: string, ips: readonly string[] = [], name = 'Test Inspecting Proxy CA'): Pki {
  const ssl = OPENSSL as string;
  const p = (f: string): string => join(dir, f);
  const run = (args: string[]): void => {
    execFileSync(ssl, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(
    p('server.ext'),
    `subjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...ips.map((ip) => `IP:${ip}`)].join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  run([
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('server.pem'),
    '-days',
    '2',
    '-extfile',
    p('server.ext'),
  ]);
  return { caFile: p('ca.pem'), keyFile: p('server.key'), certFile: p('server.pem') };
}

export interface TlsFront {
  port: number;
  close(): Promise<void>;
}

/** Serves 127.0.0.1:`targetPort` (plain HTTP) over TLS with `pki`'s server certificate, on a free port of `host`. */
export async function startTlsFront(targetPort: number, pki: Pki, host = '127.0.0.1'): Promise<TlsFront> {
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) }, (client) => {
    const upstream = netConnect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  // A client that refuses our certificate aborts the handshake; that is expected here.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Proxy {
  port: number;
  log: string;
  /** How many CONNECT tunnels tinyproxy logged to `host`:`port` (host default 127.0.0.1). */
  tunnels(port: number, host?: string): number;
  close(): void;
}

/** Starts tinyproxy on a free loopback port; with `auth`, it requires those Basic credentials. */
export async function startTinyproxy(dir: string, auth?: { user: string; password: string }): Promise<Proxy> {
  const log = join(dir, 'tinyproxy.log');
  const port = await freePort();
  const conf = join(dir, 'tinyproxy.conf');
  // No ConnectPort lines: CONNECT is allowed to any port (our servers' are random).
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 30',
      'Allow 127.0.0.1',
      `LogFile "${log}"`,
      'LogLevel Info',
      'MaxClients 20',
      ...(auth ? [`BasicAuth ${auth.user} ${auth.password}`] : []),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(TINYPROXY as string, ['-d', '-c', conf], { stdio: 'ignore' });
  const text = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const end = Date.now() + 10_000;
  while (!text().includes('Accepting connections')) {
    if (Date.now() > end) {
      child.kill('SIGTERM');
      throw new Error('tinyproxy did not start');
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    log,
    tunnels: (target, host = '127.0.0.1') =>
      text()
        .split('\n')
        .filter((l) => l.includes(`CONNECT ${host}:${target}`)).length,
    close: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
