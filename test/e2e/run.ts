// End-to-end suite: playwright-core drives VS Code (code-server 4.99.4) in headless Chromium like a
// person, with the extension installed and the emulator (sample seed) running. Starts everything once
// and runs every test/e2e/*.spec.ts (mocha, bdd) against the same workbench.
// `tsx test/e2e/run.ts [words…]` runs only the specs whose file name contains one of the words;
// SOCRATA_E2E_GREP=<text> runs only the tests whose title contains it.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Mocha from 'mocha';
import { cleanupAll } from '../host/lib/proc';
import { finish, printOutcome, runSuite } from '../host/lib/report';
import { startStack } from '../host/lib/stack';
import { createSampleWorkspace } from '../host/lib/workspace';
import { setE2eContext } from './lib/context';
import { Ui } from './lib/ui';

async function main(): Promise<number> {
  const started = Date.now();
  const filter = process.argv.slice(2);
  const specs = readdirSync(__dirname)
    .filter((f) => f.endsWith('.spec.ts') && (filter.length === 0 || filter.some((w) => f.includes(w))))
    .sort()
    .map((f) => join(__dirname, f));
  if (specs.length === 0) return finish('e2e', 0, 0, 'no end-to-end spec matched');

  const tmp = mkdtempSync(join(tmpdir(), 'socrata-e2e-'));
  try {
    const workspace = await createSampleWorkspace(join(tmp, 'workspace'), { goodRows: 200 });
    const stack = await startStack({ workspace, keep: process.env.SOCRATA_TEST_KEEP === '1' });
    const page = stack.workbench?.page;
    if (!page) throw new Error('the workbench did not open');
    const ui = new Ui(page);
    setE2eContext({ stack, page, ui, emulator: stack.emulator, workspace });
    console.log(`workbench ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    let passed = 0;
    let failed = 0;
    const mocha = new Mocha({
      ui: 'bdd',
      timeout: 60_000,
      reporter: class {} as unknown as string,
      rootHooks: {
        async afterEach(this: Mocha.Context) {
          const test = this.currentTest;
          if (test?.state === 'failed') {
            const shot = await ui.screenshot(`FAILED-${test.fullTitle()}`).catch(() => undefined);
            if (shot) console.log(`      screenshot: ${shot}`);
          }
          await ui.reset().catch(() => undefined);
        },
      },
    });
    if (process.env.SOCRATA_E2E_GREP) mocha.grep(process.env.SOCRATA_E2E_GREP);
    for (const spec of specs) mocha.addFile(spec);
    await mocha.loadFilesAsync();
    await new Promise<void>((resolve) => {
      const runner = mocha.run(() => resolve());
      runner.on('suite', (suite) => {
        if (suite.title) console.log(`\n  ${suite.fullTitle()}`);
      });
      runner.on('pass', (test) => {
        passed += 1;
        printOutcome({ title: test.title, state: 'passed', durationMs: test.duration ?? 0 });
      });
      runner.on('fail', (test, error) => {
        failed += 1;
        printOutcome({ title: test.fullTitle(), state: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      });
      runner.on('pending', (test) => printOutcome({ title: test.title, state: 'pending' }));
    });
    console.log(`e2e run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return finish('e2e', passed, failed);
  } finally {
    setE2eContext(undefined);
    await cleanupAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

runSuite('e2e', 'end-to-end', main);
