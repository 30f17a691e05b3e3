// Starts everything a host or end-to-end run needs, in order, and stops it all again:
// the emulator (sample seed), code-server with the extension installed, and (optionally) Chromium.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWorkbench, type Workbench } from './browser';
import { startCodeServer, type CodeServer } from './codeServer';
import { startSampleEmulator, type EmulatorOptions, type RunningEmulator } from './emulator';
import { ensureBuilt, installUnpacked } from './extensions';
import { repoRoot } from './paths';
import { cleanupAll, onCleanup } from './proc';

export interface StackOptions {
  /** Folder the workbench opens. */
  workspace: string;
  /** Start the emulator (default true); options pass a fixed port or a data folder. */
  emulator?: boolean | EmulatorOptions;
  /** Extra user settings (merged over the base settings and the emulator's). */
  settings?: Record<string, unknown>;
  /** Environment for code-server and its extension host. */
  env?: NodeJS.ProcessEnv;
  /** Install more extensions into the fresh extensions dir (e.g. the test runner). */
  addExtensions?: (extensionsDir: string) => Promise<void>;
  /** Open the workbench in headless Chromium (default true). */
  browser?: boolean;
  /** Runs after the emulator and code-server are up, before the browser opens (the extension host starts then). */
  beforeBrowser?: (running: { emulator: RunningEmulator | undefined; codeServer: CodeServer }) => Promise<void> | void;
  codeServerPort?: number;
  /** Keep the throwaway user-data dir after stop (for debugging). */
  keep?: boolean;
  /** Echo code-server's output with this prefix. */
  echo?: string;
}

export interface Stack {
  emulator: RunningEmulator | undefined;
  codeServer: CodeServer;
  workbench: Workbench | undefined;
  /** Throwaway folder holding user-data and extensions dirs. */
  tmp: string;
  userDataDir: string;
  stop(): Promise<void>;
}

/** Settings that point the extension at the emulator. */
export function emulatorSettings(emulator: RunningEmulator | undefined): Record<string, unknown> {
  return emulator ? { 'socrata.defaultDomain': emulator.domain } : {};
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const tmp = mkdtempSync(join(tmpdir(), 'socrata-vscode-'));
  const userDataDir = join(tmp, 'user-data');
  const extensionsDir = join(tmp, 'extensions');
  let emulator: RunningEmulator | undefined;
  let codeServer: CodeServer | undefined;
  let workbench: Workbench | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await workbench?.close().catch(() => undefined);
    await codeServer?.stop().catch(() => undefined);
    await emulator?.stop().catch(() => undefined);
    if (!options.keep) rmSync(tmp, { recursive: true, force: true });
  };
  onCleanup(stop);
  try {
    // SOCRATA_TEST_EXTENSION_DIR tests another copy of the extension (e.g. an unpacked production .vsix).
    const extensionDir = process.env.SOCRATA_TEST_EXTENSION_DIR ?? repoRoot;
    if (extensionDir === repoRoot) await ensureBuilt();
    await installUnpacked(extensionDir, extensionsDir);
    await options.addExtensions?.(extensionsDir);
    if (options.emulator !== false) {
      emulator = await startSampleEmulator(typeof options.emulator === 'object' ? options.emulator : {});
      if (!emulator) console.log('note: test/emulator/index.ts does not exist yet; running without the emulator');
    }
    codeServer = await startCodeServer({
      userDataDir,
      extensionsDir,
      folder: options.workspace,
      settings: { ...emulatorSettings(emulator), ...options.settings },
      env: {
        ...options.env,
        ...(emulator ? { SOCRATA_EMULATOR_URL: emulator.url } : {}),
      },
      ...(options.codeServerPort !== undefined ? { port: options.codeServerPort } : {}),
      ...(options.echo !== undefined ? { echo: options.echo } : {}),
    });
    await options.beforeBrowser?.({ emulator, codeServer });
    if (options.browser !== false) workbench = await openWorkbench(codeServer.workbenchUrl);
    return { emulator, codeServer, workbench, tmp, userDataDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export { cleanupAll };
