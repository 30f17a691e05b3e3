// Shared output for the runners: one line per test, then the recognised `N passed, N failed` summary,
// and the `{ passed, failed }` file that `npm test` (test/run-all.ts) adds up.
import { writeFileSync } from 'node:fs';
import { cleanupAll } from './proc';

export interface Outcome {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export function printOutcome(o: Outcome): void {
  const mark = o.state === 'passed' ? '✔' : o.state === 'failed' ? '✘' : '-';
  const time = o.durationMs !== undefined && o.durationMs >= 100 ? ` (${o.durationMs} ms)` : '';
  console.log(`  ${mark} ${o.title}${time}`);
  if (o.error) {
    console.log(
      o.error
        .split('\n')
        .map((line) => `      ${line}`)
        .join('\n'),
    );
  }
}

/** Prints the summary, writes SUITE_SUMMARY when set, and returns the exit code. */
export function finish(label: string, passed: number, failed: number, extraFailure?: string): number {
  const failures = failed + (extraFailure ? 1 : 0);
  if (extraFailure) console.log(`\n✘ ${extraFailure}`);
  if (process.env.SUITE_SUMMARY) writeFileSync(process.env.SUITE_SUMMARY, JSON.stringify({ passed, failed: failures }));
  console.log(`\n${label}: ${passed} passed, ${failures} failed`);
  return failures === 0 && passed > 0 ? 0 : 1;
}

/**
 * Runs a runner's `main` and sets the exit code from it; a crash stops every started process and still ends with the
 * recognised summary (one failure).
 */
export function runSuite(label: 'host' | 'e2e', description: string, main: () => Promise<number>): void {
  main()
    .then((code) => {
      process.exitCode = code;
    })
    .catch(async (error: unknown) => {
      await cleanupAll();
      console.error(error);
      finish(label, 0, 0, `the ${description} runner crashed: ${(error as Error).message}`);
      process.exitCode = 1;
    });
}
