// Helpers for host tests (they run inside the extension host, with the real `vscode` API).
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
