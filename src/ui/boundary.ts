// The one command and error boundary every command goes through (accounts, datasets, publishing): a cancel is
// silent, an expected failure (a SodaError, bad input, a feature's own expected errors) gets a message with
// "Show Log", and everything is written to the Socrata log.
import * as vscode from 'vscode';
import { isSodaError } from '../soda/errors';

/** Thrown (or detected by name) when a person dismisses an input: ends a command without a message. */
export class UserCancelledError extends Error {
  constructor() {
    super('Cancelled.');
    this.name = 'UserCancelledError';
  }
}

/** A dismissed input (`UserCancelledError`), VS Code's CancellationError, an abort, or a SODA request cancelled. */
export function isCancellation(error: unknown): boolean {
  if (isSodaError(error, 'cancelled')) return true;
  if (error instanceof vscode.CancellationError) return true;
  return error instanceof Error && (error.name === 'UserCancelledError' || error.name === 'AbortError');
}

/** An error whose message is written for people (the rest are bugs: shown with a generic prefix). */
function isExpected(error: unknown): boolean {
  return isSodaError(error) || (error instanceof Error && error.name === 'ExpectedError');
}

/** A failure that is not a bug: its message is shown as is. */
export class ExpectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpectedError';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface CommandBoundary {
  /** Registers `id` with its handler wrapped in the boundary. */
  register(id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable;
  /** Runs `work` inside the boundary (for actions started from a webview). */
  run<T>(id: string, work: () => Promise<T> | T): Promise<T | undefined>;
}

export interface BoundaryOptions {
  /** A feature's own errors whose message is written for people (besides SodaError and ExpectedError). */
  readonly expected?: (error: unknown) => boolean;
  /** A feature's own errors that mean the person cancelled (besides those `isCancellation` knows). */
  readonly cancelled?: (error: unknown) => boolean;
}

export function commandBoundary(log: vscode.LogOutputChannel, options: BoundaryOptions = {}): CommandBoundary {
  const report = (id: string, error: unknown): void => {
    if (isCancellation(error) || options.cancelled?.(error) === true) {
      log.debug(`${id}: cancelled`);
      return;
    }
    const expected = isExpected(error) || options.expected?.(error) === true;
    if (expected) log.warn(`${id}: ${errorMessage(error)}`);
    else log.error(`${id} failed:`, error instanceof Error ? (error.stack ?? error.message) : String(error));
    const text = expected ? errorMessage(error) : vscode.l10n.t('{0} failed unexpectedly: {1}', id, errorMessage(error));
    const showLog = vscode.l10n.t('Show Log');
    void vscode.window.showErrorMessage(vscode.l10n.t('Socrata: {0}', text), showLog).then((choice) => {
      if (choice === showLog) log.show(true);
    });
  };
  const run = async <T>(id: string, work: () => Promise<T> | T): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      report(id, error);
      return undefined;
    }
  };
  return {
    register: (id, handler) => vscode.commands.registerCommand(id, (...args: unknown[]) => run(id, () => handler(...args))),
    run,
  };
}
