// code-server 4.99.4 (VS Code 1.99.3 on Node 20): installed once into `.test-cache/code-server`, then
// started per test run with a throwaway user-data dir and extensions dir, bound to 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from './paths';
import { freePort, run, start, stopProcess, waitFor, type Started } from './proc';

export const CODE_SERVER_VERSION = '4.99.4';
/** The @vscode/ripgrep version pinned by code-server 4.99.4's lib/vscode/npm-shrinkwrap.json. */
const RIPGREP_PACKAGE_VERSION = '1.15.11';
/** The ripgrep release that @vscode/ripgrep 1.15.11 downloads (its postinstall looks in its cache first). */
const RIPGREP_TARBALL = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
// chromium opens the workbench; libkrb5-dev and the build tools build the native modules; ripgrep seeds rg.
const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'ripgrep', 'g++', 'make', 'python3'];

/**
 * Packages whose install scripts must run (npm 11 blocks dependency install scripts by default):
 * code-server's postinstall installs lib/vscode's dependencies, which build native modules.
 * The Windows-only modules and the extensions folder's dev tools are left out on purpose.
 */
const TOP_LEVEL_SCRIPTS = ['code-server', 'argon2'];
const NESTED_SCRIPTS = ['@parcel/watcher', '@vscode/deviceid', '@vscode/ripgrep', '@vscode/spdlog', 'kerberos', 'native-watchdog', 'node-pty'];

function installDir(): string {
  return cacheDir('code-server');
}

export function codeServerBin(): string {
  return join(installDir(), 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

function markerFile(): string {
  return join(installDir(), 'installed-version');
}

function missingAptPackages(): string[] {
  return APT_PACKAGES.filter((pkg) => {
    try {
      execFileSync('dpkg', ['-s', pkg], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

async function ensureAptPackages(): Promise<void> {
  let missing: string[];
  try {
    missing = missingAptPackages();
  } catch {
    return; // Not a Debian-like system: rely on what is on PATH.
  }
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`code-server needs these system packages: ${missing.join(', ')}. Install them with:\n  sudo ${command}`);
  }
  console.log(`Installing system packages: ${missing.join(', ')}`);
  await run('apt-get', ['update', '-q'], { echo: '  apt: ' });
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    echo: '  apt: ',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * Seeds @vscode/ripgrep's download cache with the system's rg, so its postinstall finds the tarball
 * there and downloads nothing.
 */
async function seedRipgrepCache(): Promise<void> {
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((p) => existsSync(p));
  if (!rg) throw new Error('ripgrep (rg) is not installed; install the "ripgrep" package');
  const dir = join(tmpdir(), `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const tarball = join(dir, RIPGREP_TARBALL);
  if (existsSync(tarball)) return;
  mkdirSync(dir, { recursive: true });
  const staging = join(dir, 'staging');
  mkdirSync(staging, { recursive: true });
  copyFileSync(rg, join(staging, 'rg'));
  await run('tar', ['-czf', tarball, '-C', staging, 'rg']);
  rmSync(staging, { recursive: true, force: true });
}

function allowScriptsIn(packageJson: string, names: string[]): void {
  const manifest = JSON.parse(readFileSync(packageJson, 'utf8')) as Record<string, unknown>;
  manifest.allowScripts = Object.fromEntries(names.map((name) => [name, true]));
  writeFileSync(packageJson, JSON.stringify(manifest, null, 2) + '\n');
}

function installed(): boolean {
  return existsSync(markerFile()) && readFileSync(markerFile(), 'utf8').trim() === CODE_SERVER_VERSION && existsSync(codeServerBin());
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Several test runs may start at once (e.g. `npm test` and a focused `npm run test:host`): only one may
 * install. The lock is a directory (created atomically) holding the installer's pid; a lock whose
 * process is gone is taken over.
 */
async function withInstallLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(cacheDir(), 'code-server.lock');
  const owner = join(lock, 'pid');
  let waited = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(owner, String(process.pid));
      break;
    } catch {
      const pid = Number(existsSync(owner) ? readFileSync(owner, 'utf8') : NaN);
      if (Number.isInteger(pid) && !processAlive(pid)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!waited) console.log('Another test run is installing code-server; waiting for it…');
      waited = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Installs code-server into the cache once; later calls return immediately. Returns the entry script. */
export async function ensureCodeServer(): Promise<string> {
  if (installed()) return codeServerBin();
  return withInstallLock(async () => (installed() ? codeServerBin() : install()));
}

async function install(): Promise<string> {
  const dir = installDir();
  const started = Date.now();
  console.log(`Installing code-server ${CODE_SERVER_VERSION} into ${dir} (once; takes a minute or two)…`);
  await ensureAptPackages();
  await seedRipgrepCache();
  rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
  rmSync(markerFile(), { force: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'socrata-test-code-server',
        private: true,
        description: 'code-server for the Socrata Publisher host and end-to-end tests (generated; safe to delete)',
        dependencies: { 'code-server': CODE_SERVER_VERSION },
        // code-server's own postinstall is run below, after its nested projects are given their allow-lists.
        allowScripts: { 'code-server': false, ...Object.fromEntries(TOP_LEVEL_SCRIPTS.map((name) => [name, true])) },
      },
      null,
      2,
    ) + '\n',
  );
  const env = {
    ...process.env,
    // node-pty's build runs `npx node-gyp`; code-server's postinstall refuses to run as root without unsafe-perm.
    npm_config_yes: 'true',
    npm_config_unsafe_perm: 'true',
  };
  await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: dir, echo: '  npm: ', env });
  // code-server's postinstall runs `npm install` in lib/vscode and lib/vscode/extensions, projects without
  // an allowScripts field, so npm would skip every native build there. Give them their allow-lists
  // (their versions are pinned by the npm-shrinkwrap.json files code-server ships), then run it.
  const pkgDir = join(dir, 'node_modules', 'code-server');
  allowScriptsIn(join(pkgDir, 'lib', 'vscode', 'package.json'), NESTED_SCRIPTS);
  allowScriptsIn(join(pkgDir, 'lib', 'vscode', 'extensions', 'package.json'), []);
  const npmVersion = (await run('npm', ['--version'])).trim();
  await run('sh', ['./postinstall.sh'], {
    cwd: pkgDir,
    echo: '  postinstall: ',
    env: { ...env, npm_config_user_agent: `npm/${npmVersion} node/${process.version} ${process.platform} ${process.arch} workspaces/false` },
  });
  verifyInstall(dir);
  writeFileSync(markerFile(), `${CODE_SERVER_VERSION}\n`);
  console.log(`code-server installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return codeServerBin();
}

function verifyInstall(dir: string): void {
  const vscode = join(dir, 'node_modules', 'code-server', 'lib', 'vscode');
  const required = [
    codeServerBin(),
    join(vscode, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'),
    join(vscode, 'node_modules', 'kerberos', 'build', 'Release', 'kerberos.node'),
    join(vscode, 'node_modules', '@vscode', 'spdlog', 'build', 'Release', 'spdlog.node'),
    join(vscode, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg'),
  ];
  const missing = required.filter((p) => !existsSync(p));
  if (missing.length > 0) throw new Error(`code-server install is incomplete; missing:\n  ${missing.join('\n  ')}`);
}

export interface CodeServerOptions {
  userDataDir: string;
  extensionsDir: string;
  /** Folder to open; also passed in the URL. */
  folder: string;
  /** User settings written to `<userDataDir>/User/settings.json`. */
  settings?: Record<string, unknown>;
  /** Extra environment for the server and its extension host. */
  env?: NodeJS.ProcessEnv;
  port?: number;
  /** Prefix for echoing the server's output, or undefined to keep it quiet. */
  echo?: string;
}

export interface CodeServer {
  url: string;
  /** The workbench URL with the folder open. */
  workbenchUrl: string;
  process: Started;
  stop(): Promise<void>;
}

export const BASE_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'git.enabled': false,
  'window.restoreWindows': 'none',
  'chat.commandCenter.enabled': false,
};

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const entry = await ensureCodeServer();
  mkdirSync(join(options.userDataDir, 'User'), { recursive: true });
  mkdirSync(options.extensionsDir, { recursive: true });
  writeFileSync(join(options.userDataDir, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 2));
  const port = await freePort(options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  const proc = start(
    process.execPath,
    [
      entry,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      options.userDataDir,
      '--extensions-dir',
      options.extensionsDir,
      options.folder,
    ],
    { env: { ...process.env, ...options.env }, echo: options.echo },
  );
  proc.child.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`code-server exited with ${code}\n${proc.output().slice(-4000)}`);
  });
  await waitFor('code-server to listen', 60_000, async () => {
    if (proc.child.exitCode !== null) throw new Error(`code-server exited early:\n${proc.output().slice(-4000)}`);
    const response = await fetch(`${url}/healthz`).catch(() => undefined);
    return response?.ok ? true : undefined;
  });
  return {
    url,
    workbenchUrl: `${url}/?folder=${encodeURIComponent(options.folder)}`,
    process: proc,
    stop: () => stopProcess(proc.child),
  };
}
