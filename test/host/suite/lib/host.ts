// Helpers for host tests (they run inside the extension host, with the real `vscode` API).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { HostTestConfig } from '../../lib/protocol';
import type { RunnerApi } from '../../runner-extension/src/extension';

const RUNNER_ID = 'socrata-test.host-test-runner';

/** The test runner extension's API: its ExtensionContext (SecretStorage, storage) and the harness config. */
export function runner(): RunnerApi {
  const ext = vscode.extensions.getExtension<RunnerApi | undefined>(RUNNER_ID);
  if (!ext?.exports) throw new Error(`${RUNNER_ID} is not active; the host suite must run through test/host/run.ts`);
  return ext.exports;
}

export function config(): HostTestConfig {
  return runner().config;
}

/** The emulator (sample seed) the harness started, or undefined when test/emulator is not there yet. */
export function emulator(): HostTestConfig['emulator'] {
  return config().emulator;
}

/** The extension under test, as installed in this VS Code. */
export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(config().extensionId);
  if (!ext) throw new Error(`extension ${config().extensionId} is not installed`);
  return ext;
}

export interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

export interface Manifest {
  activationEvents?: string[];
  contributes?: { commands?: ContributedCommand[]; views?: Record<string, Array<{ id: string }>> };
}

/** The installed extension's manifest (package.json). */
export function manifest(): Manifest {
  return extension().packageJSON as Manifest;
}

/** Commands the workbench itself registers for every contributed view (`<viewId>.focus` and the like). */
export function workbenchViewCommands(m: Manifest = manifest()): Set<string> {
  const out = new Set<string>();
  for (const views of Object.values(m.contributes?.views ?? {})) {
    for (const view of views) for (const suffix of ['focus', 'resetViewLocation', 'toggleVisibility', 'removeView', 'open']) out.add(`${view.id}.${suffix}`);
  }
  return out;
}

interface AccountsApi {
  accounts: { list(): Promise<readonly { id: string }[]>; signOut(id: string): Promise<unknown> };
}

/**
 * Signs out of every Socrata account. All test files share one extension host (and run in alphabetical order),
 * so a file that signs in starts from this and ends with it: no file sees the accounts another one left.
 */
export async function signOutAll(): Promise<void> {
  const api = (await extension().activate()) as AccountsApi;
  for (const a of await api.accounts.list()) await api.accounts.signOut(a.id);
  const left = await api.accounts.list();
  if (left.length > 0) throw new Error(`accounts left after signing out of all: ${left.map((a) => a.id).join(', ')}`);
}

/** Prints a line in the harness's output after the results (e.g. a measured time). */
export function note(line: string): void {
  const g = globalThis as { __socrataHostTestNotes?: string[] };
  (g.__socrataHostTestNotes ??= []).push(line);
}

/** Every file under `dir` (recursively), skipping files of 50 MiB or more. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) out.push(...filesUnder(full));
    else if (st.size < 50 * 1024 * 1024) out.push(full);
  }
  return out;
}

/** What the Socrata output channel has written to its log file(s) so far (<user data>/logs/…/Socrata.log). */
export function socrataLog(): string {
  const userData = join(runner().context.globalStorageUri.fsPath, '..', '..', '..');
  return filesUnder(join(userData, 'logs'))
    .filter((f) => /Socrata\.log$/.test(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

/** Polls every 100 ms (at most `timeoutMs`) until the Socrata log holds what `ready` looks for; VS Code writes logs asynchronously. */
export async function socrataLogWhen(what: string, ready: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = socrataLog();
    if (ready(text)) return text;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} in the Socrata log after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
