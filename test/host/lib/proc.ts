// Child processes for the test harness: every process starts in its own process group so that stopping it
// also stops what it spawned (code-server forks its extension host, Chromium its renderers). Everything
// started here is stopped on exit, on Ctrl-C and on an uncaught error.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';

const live = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void> | void> = [];
let handlersInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** Stops a process group: SIGTERM, then SIGKILL after `graceMs`. Resolves when the leader has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    live.delete(child);
    // The leader may be gone while members of its group are still running.
    killGroup(child, 'SIGKILL');
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  // Children that ignored SIGTERM while the leader exited.
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Nothing left.
  }
  live.delete(child);
}

/** Registers work to do when the process exits or is interrupted (run in reverse order). */
export function onCleanup(fn: () => Promise<void> | void): void {
  installHandlers();
  cleanups.push(fn);
}

/** Runs all registered clean-ups once, then stops every process still running. */
export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn?.();
    } catch (error) {
      console.error('clean-up failed:', error);
    }
  }
  await Promise.all([...live].map((child) => stopProcess(child)));
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping…`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  // Last resort when the process exits without running the clean-ups (synchronous only).
  process.once('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

export interface Started {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far (kept for error messages). */
  output: () => string;
}

/** Starts a command in its own process group; output is kept and optionally echoed with a prefix. */
export function start(command: string, args: string[], options: SpawnOptions & { echo?: string } = {}): Started {
  installHandlers();
  const { echo, ...spawnOptions } = options;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions, detached: true });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let text = '';
  const collect = (chunk: Buffer) => {
    const s = chunk.toString('utf8');
    text = (text + s).slice(-200_000);
    if (echo !== undefined) {
      for (const line of s.split('\n')) if (line.trim() !== '') process.stdout.write(`${echo}${line}\n`);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return { child, output: () => text };
}

/** Runs a command to completion; rejects with its output on a non-zero exit. */
export async function run(command: string, args: string[], options: SpawnOptions & { echo?: string } = {}): Promise<string> {
  const started = start(command, args, options);
  const code = await new Promise<number | null>((resolve, reject) => {
    started.child.once('error', reject);
    started.child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${code}\n${started.output().slice(-8000)}`);
  }
  return started.output();
}

/** A free TCP port on 127.0.0.1 (or `preferred` when it is free). */
export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : port;
        server.close(() => resolve(chosen));
      });
    });
  if (preferred !== 0) {
    try {
      return await tryPort(preferred);
    } catch {
      // Taken: fall back to any free port.
    }
  }
  return tryPort(0);
}

/** Thrown from a `waitFor` check to stop waiting at once (other errors are retried until the time-out). */
export class StopWaiting extends Error {}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
