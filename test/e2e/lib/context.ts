// What an end-to-end spec gets: the running stack (emulator, code-server, workbench page) and the Ui
// helpers. test/e2e/run.ts starts everything once and every spec shares it.
import type { Page } from 'playwright-core';
import type { RunningEmulator } from '../../host/lib/emulator';
import type { Stack } from '../../host/lib/stack';
import type { Ui } from './ui';

export interface E2eContext {
  stack: Stack;
  page: Page;
  ui: Ui;
  /** The emulator (sample seed), or undefined while test/emulator is not there yet. */
  emulator: RunningEmulator | undefined;
  /** The folder the workbench opened (the sample CSV workspace). */
  workspace: string;
}

// Kept on globalThis: specs may be loaded through a different module loader than the runner.
const holder = globalThis as { __socrataE2e?: E2eContext };

export function setE2eContext(context: E2eContext | undefined): void {
  holder.__socrataE2e = context;
}

/** The shared workbench; call it inside `before`/`it`, not at module load. */
export function e2e(): E2eContext {
  if (!holder.__socrataE2e) throw new Error('the end-to-end specs must run through test/e2e/run.ts');
  return holder.__socrataE2e;
}
