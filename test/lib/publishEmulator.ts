// Shared by the publish integration tests: the sample emulator with a publisher's client, and the journal a run
// leaves on disk (not a test file itself: the runner only picks up *.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalFile } from '../../src/publish';
import { SodaClient } from '../../src/soda';
import { startEmulator } from '../emulator/index';

export type Emulator = Awaited<ReturnType<typeof startEmulator>>;
export const PUBLISHER = { type: 'basic' as const, email: 'publisher@example.org', password: 'publish-me' };

/** Runs `fn` against a fresh sample emulator (with a request body limit when given), then stops both. */
export async function withEmulator(fn: (emu: Emulator, client: SodaClient) => Promise<void>, bodyLimit?: number): Promise<void> {
  const emu = await startEmulator({ port: 0, seed: 'sample', ...(bodyLimit !== undefined ? { bodyLimit } : {}) });
  const client = new SodaClient({ domain: emu.domain, auth: PUBLISHER, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  try {
    await fn(emu, client);
  } finally {
    await client.close();
    await emu.stop();
  }
}

/** The journal in `journalDir`, or undefined when there is none (also when it goes between the listing and the read). */
export function journalOnDisk(journalDir: string): JournalFile | undefined {
  let files: string[];
  try {
    files = readdirSync(journalDir).filter((f) => f.endsWith('.json'));
  } catch {
    return undefined;
  }
  if (files.length === 0) return undefined;
  try {
    return JSON.parse(readFileSync(join(journalDir, files[0] ?? ''), 'utf8')) as JournalFile;
  } catch {
    return undefined;
  }
}
