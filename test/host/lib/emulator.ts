// Starts the local Socrata emulator (test/emulator) with the sample seed, when it is present.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths';

export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:43123`. */
  url: string;
  /** The domain the extension connects to: `127.0.0.1:<port>`. */
  domain: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  port?: number;
  /** Folder where the emulator keeps its data between starts (the demo uses one; tests start fresh). */
  data?: string;
}

interface EmulatorModule {
  startEmulator(options: { port?: number; seed: 'sample'; data?: string }): Promise<{ url: string; domain: string; stop(): Promise<void> | void }>;
}

const entry = join(repoRoot, 'test', 'emulator', 'index.ts');

export function emulatorAvailable(): boolean {
  return existsSync(entry);
}

/** Starts the emulator with the sample seed, or returns undefined when test/emulator/index.ts does not exist yet. */
export async function startSampleEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator | undefined> {
  if (!emulatorAvailable()) return undefined;
  const mod = (await import(entry)) as EmulatorModule | { default: EmulatorModule };
  const api = 'startEmulator' in mod ? mod : mod.default;
  const started = await api.startEmulator({
    seed: 'sample',
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.data ? { data: options.data } : {}),
  });
  return {
    url: started.url,
    domain: started.domain,
    stop: async () => {
      await started.stop();
    },
  };
}
