// How the gateway reaches a portal on networks that are not the open internet: proxies (with credentials) and
// extra certificate authorities (TLS-inspecting proxies re-sign every site with their own CA).
//
// - Proxy: an explicit one (VS Code's `http.proxy`, credentials allowed in the URL, `http.proxyAuthorization`
//   as the Proxy-Authorization header, `http.noProxy`, `http.proxyStrictSSL`), or else HTTPS_PROXY /
//   HTTP_PROXY / NO_PROXY from the environment (credentials allowed in the URL).
// - Trusted CAs: Node's bundled roots, plus NODE_EXTRA_CA_CERTS, the operating system's store (VS Code's
//   `http.systemCertificates`; on Linux the system bundle file, on macOS the system keychains) and PEM files
//   the user names (`socrata.http.caCertificates`, or SOCRATA_CA_FILE for the CLI). One secure context is
//   built once per gateway and shared by every connection.
// - Certificate and proxy failures get a message that names the problem and the setting that fixes it.
// - Proxy credentials are returned as secrets for the gateway to scrub from every message; they are never logged.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import * as nodeTls from 'node:tls';
import { type Dispatcher, EnvHttpProxyAgent } from 'undici';
import { SodaError, snippet } from './errors';

export interface ProxySettings {
  /** `http://[user:password@]host:port` (or https://). */
  url: string;
  /** Hosts that bypass the proxy (comma separated, NO_PROXY syntax). */
  noProxy?: string;
  /** Sent as the Proxy-Authorization header (VS Code's `http.proxyAuthorization`); wins over URL credentials. */
  authorization?: string;
  /**
   * VS Code's `http.proxyStrictSSL`. `false` stops verifying certificates on connections made through the proxy
   * (the proxy's own, and the portal's as the proxy presents it). Default true.
   */
  strictSSL?: boolean;
}

export interface TlsSettings {
  /** PEM files of extra certificate authorities to trust. */
  caFiles?: readonly string[];
  /** Also trust the operating system's certificate store. Default true. */
  systemCertificates?: boolean;
}

export interface NetworkOptions {
  proxy?: ProxySettings;
  tls?: TlsSettings;
  connectTimeoutMs: number;
  /** Default `process.env` (NODE_EXTRA_CA_CERTS; the proxy variables are read by undici from process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface Network {
  dispatcher: Dispatcher;
  /** Proxy credentials (and their encodings), for the gateway to scrub from messages. */
  secrets: string[];
}

/** Where the user can fix a network problem, by product. */
const WHERE = {
  'vscode-extension': {
    ca: 'add the certificate authority\'s PEM file to the setting "socrata.http.caCertificates" (or install it in the operating system\'s store and keep "http.systemCertificates" on)',
    proxyAuth: 'put the credentials in the setting "http.proxy" (http://user:password@proxy:port) or "http.proxyAuthorization"',
  },
  cli: {
    ca: "name the certificate authority's PEM file in SOCRATA_CA_FILE (or NODE_EXTRA_CA_CERTS, or install it in the operating system's store)",
    proxyAuth: 'put the credentials in HTTPS_PROXY (http://user:password@proxy:port)',
  },
} as const;

export type Product = keyof typeof WHERE;

/** Certificate error codes from OpenSSL/Node and what they mean in plain words. */
const CERT_PROBLEMS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is signed by a certificate authority this computer does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is signed by a certificate authority this computer does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'its certificate is signed by a certificate authority this computer does not trust',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain ends in a self-signed certificate authority this computer does not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it presents a self-signed certificate',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: "its certificate is not valid yet (check this computer's clock)",
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is for another host name',
  CERT_UNTRUSTED: 'its certificate is not trusted',
  CERT_SIGNATURE_FAILURE: 'its certificate signature is invalid',
};

function codeOf(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && typeof cur === 'object' && cur !== null; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string' && c !== 'UND_ERR_ABORTED') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function messagesOf(e: unknown): string {
  const out: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    out.push(cur.message);
    cur = cur.cause;
  }
  return out.join(' / ');
}

/**
 * Rewrites a network failure about certificates or proxy authentication into a message that names the problem
 * and the setting (extension) or variable (CLI) that fixes it. Other errors are returned unchanged.
 */
export function explainNetworkError(error: SodaError, product: Product, host: string): SodaError {
  if (error.kind !== 'network') return error;
  const code = error.code ?? codeOf(error.cause);
  const where = WHERE[product];
  const problem = code !== undefined ? CERT_PROBLEMS[code] : undefined;
  if (problem !== undefined && code !== undefined) {
    const fix =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? 'check the domain and the network (a proxy may be presenting its own certificate)'
        : `if your network inspects TLS with its own certificate authority, ${where.ca}`;
    return error.with({ message: `Certificate problem: the secure connection to ${host} was refused because ${problem} (${code}). To fix it, ${fix}.` });
  }
  const text = messagesOf(error.cause);
  const status = /Proxy response \((\d+)\)/.exec(text)?.[1] ?? (/Proxy Authentication Required \(407\)/.test(text) ? '407' : undefined);
  if (status === '407' || status === '401') {
    // 407 asks for credentials; some proxies (tinyproxy) answer 401 to wrong ones.
    const what = status === '407' ? '407 (Proxy Authentication Required)' : '401 (the credentials were refused)';
    return error.with({ message: `Proxy authentication failed: the proxy answered ${what} on the way to ${host}. To fix it, ${where.proxyAuth}.` });
  }
  if (status !== undefined) {
    return error.with({ message: `Network error: the proxy refused to connect to ${host} (it answered ${status}). Check the proxy settings.` });
  }
  return error;
}

/**
 * Failures that trying again cannot fix (an untrusted or wrong certificate, proxy credentials refused): the
 * gateway does not retry them.
 */
export function isPermanentNetworkError(e: unknown): boolean {
  const code = codeOf(e);
  if (code !== undefined && code in CERT_PROBLEMS) return true;
  return /Proxy response \((401|407)\)|Proxy Authentication Required/.test(messagesOf(e));
}

/** A proxy URL without its credentials, for messages. */
export function showProxy(url: string): string {
  try {
    const u = new URL(url);
    const withCredentials = u.username !== '' || u.password !== '';
    return `${u.protocol}//${u.host}${withCredentials ? ' (with credentials)' : ''}`;
  } catch {
    return snippet(url.replace(/\/\/[^@/]*@/, '//[credentials]@'), 60);
  }
}

function checkProxyUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SodaError({
      kind: 'invalid-input',
      message: `The proxy address "${showProxy(url)}" is not a URL (expected e.g. http://proxy.example:3128).`,
      field: 'proxy',
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new SodaError({ kind: 'invalid-input', message: `The proxy address must start with http:// or https:// (got ${u.protocol}).`, field: 'proxy' });
  }
  return u;
}

function proxySecrets(url: string | undefined, authorization: string | undefined): string[] {
  const out: string[] = [];
  if (url) {
    try {
      const u = new URL(url);
      if (u.password) {
        const user = decodeURIComponent(u.username);
        const password = decodeURIComponent(u.password);
        out.push(password, u.password, Buffer.from(`${user}:${password}`).toString('base64'));
      }
    } catch {
      // Not a URL: refused elsewhere.
    }
  }
  if (authorization) out.push(authorization, authorization.slice(authorization.indexOf(' ') + 1));
  return out.filter((s) => s.length >= 4);
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates in a PEM file; throws a SodaError naming the file and `setting` when unusable. */
export function readPemFile(file: string, setting: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SodaError({
      kind: 'invalid-input',
      message: `Cannot read the certificate file ${file} named in ${setting}: ${code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : (e as Error).message}.`,
      field: setting,
    });
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new SodaError({
      kind: 'invalid-input',
      message: `The certificate file ${file} named in ${setting} contains no PEM certificate (-----BEGIN CERTIFICATE-----).`,
      field: setting,
    });
  }
  blocks.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (e) {
      throw new SodaError({
        kind: 'invalid-input',
        message: `Certificate ${i + 1} in ${file} (named in ${setting}) is not valid: ${(e as Error).message}.`,
        field: setting,
      });
    }
  });
  return blocks;
}

/** The Linux system bundle locations, first existing wins (the list Go's crypto/x509 root_linux.go uses). */
export const LINUX_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Gentoo, Arch
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL 6
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/pki/tls/cacert.pem', // OpenELEC
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // CentOS, RHEL 7
  '/etc/ssl/cert.pem', // Alpine
];

let systemCache: string[] | undefined;

/** The operating system's trusted certificates (read once per process); empty where they cannot be read. */
export function systemCertificates(): string[] {
  if (systemCache) return systemCache;
  let pems: string[] = [];
  try {
    // Node 22.15+ / 23.5+ reads the OS store itself (also on Windows).
    const get = (nodeTls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
    if (typeof get === 'function') pems = get('system');
    else if (process.platform === 'linux') {
      const bundle = LINUX_BUNDLES.find((f) => existsSync(f));
      if (bundle) pems = readFileSync(bundle, 'utf8').match(PEM_BLOCK) ?? [];
    } else if (process.platform === 'darwin') {
      for (const keychain of ['/System/Library/Keychains/SystemRootCertificates.keychain', '/Library/Keychains/System.keychain']) {
        const out = execFileSync('/usr/bin/security', ['find-certificate', '-a', '-p', keychain], {
          encoding: 'utf8',
          timeout: 10_000,
          maxBuffer: 32 * 1024 * 1024,
        });
        pems.push(...(out.match(PEM_BLOCK) ?? []));
      }
    }
  } catch {
    pems = [];
  }
  systemCache = pems;
  return pems;
}

/** The extra trusted certificates: NODE_EXTRA_CA_CERTS, the OS store (unless off) and the named files. */
export function extraCertificates(tls: TlsSettings | undefined, env: NodeJS.ProcessEnv, caSetting: string): string[] {
  const out: string[] = [];
  const extra = env.NODE_EXTRA_CA_CERTS;
  if (extra) out.push(...readPemFile(extra, 'NODE_EXTRA_CA_CERTS'));
  if (tls?.systemCertificates !== false) out.push(...systemCertificates());
  for (const f of tls?.caFiles ?? []) if (f.trim() !== '') out.push(...readPemFile(f.trim(), caSetting));
  return out;
}

/** SOCRATA_CA_FILE: one PEM file, or several separated by the platform's path delimiter (":" or ";"). */
export function caFilesFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env.SOCRATA_CA_FILE ?? '')
    .split(delimiter)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function secureContext(extra: readonly string[]): nodeTls.SecureContext | undefined {
  if (extra.length === 0) return undefined;
  // `ca` replaces Node's roots, so they go in first; duplicates (the OS store repeats most of them) dropped.
  const ca = [...new Set([...nodeTls.rootCertificates, ...extra].map((p) => p.trim()))];
  return nodeTls.createSecureContext({ ca });
}

/** Builds the dispatcher for a gateway. Throws a SodaError (invalid-input) for a bad proxy URL or CA file. */
export function createNetwork(options: NetworkOptions, product: Product): Network {
  const env = options.env ?? process.env;
  const caSetting = product === 'cli' ? 'SOCRATA_CA_FILE' : 'socrata.http.caCertificates';
  const context = secureContext(extraCertificates(options.tls, env, caSetting));
  const tls = context ? { secureContext: context } : {};
  const common = { keepAliveTimeout: 30_000, connect: { timeout: options.connectTimeoutMs, ...tls } };
  const p = options.proxy;
  if (p) {
    const url = checkProxyUrl(p.url);
    const authorization = p.authorization?.trim() || undefined;
    if (authorization && /[\r\n\0]/.test(authorization)) {
      throw new SodaError({
        kind: 'invalid-input',
        message: 'The proxy authorization contains a line break or NUL character.',
        field: 'http.proxyAuthorization',
      });
    }
    const through = { timeout: options.connectTimeoutMs, ...tls, ...(p.strictSSL === false ? { rejectUnauthorized: false } : {}) };
    const dispatcher = new EnvHttpProxyAgent({
      ...common,
      httpProxy: url.toString(),
      httpsProxy: url.toString(),
      noProxy: p.noProxy ?? '',
      requestTls: through,
      proxyTls: through,
      ...(authorization ? { token: authorization } : {}),
    });
    return { dispatcher, secrets: proxySecrets(p.url, authorization) };
  }
  // HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment (either case); a plain keep-alive agent when unset.
  const envProxies = [env.https_proxy ?? env.HTTPS_PROXY, env.http_proxy ?? env.HTTP_PROXY].filter((v): v is string => typeof v === 'string' && v !== '');
  for (const u of envProxies) checkProxyUrl(u);
  const through = { timeout: options.connectTimeoutMs, ...tls };
  const dispatcher = new EnvHttpProxyAgent({ ...common, requestTls: through, proxyTls: through });
  return { dispatcher, secrets: envProxies.flatMap((u) => proxySecrets(u, undefined)) };
}
