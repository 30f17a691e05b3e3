// `npm start`: the extension in VS Code (code-server, in your browser) connected to a local Socrata
// emulator with the sample datasets. Builds the extension, starts the emulator on 127.0.0.1:8787 (its data
// kept in .test-cache/demo-emulator, so edits survive a restart), generates a sample CSV workspace in
// .test-cache/demo-workspace and starts code-server on 127.0.0.1:8080. Ctrl-C stops everything.
// Ports: DEMO_EMULATOR_PORT and DEMO_PORT (a free port is used when the default is taken).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, repoRoot } from './lib/paths';
import { startCodeServer } from './lib/codeServer';
import { startSampleEmulator } from './lib/emulator';
import { installUnpacked, readManifest } from './lib/extensions';
import { cleanupAll, freePort, onCleanup, run } from './lib/proc';
import { emulatorSettings } from './lib/stack';
import { createSampleWorkspace } from './lib/workspace';

interface SampleSeed {
  users: Record<string, { email: string; password: string; displayName: string; roleName: string }>;
  apiKey: { keyId: string; keySecret: string };
  appToken: string;
  oauthClient: { clientId: string; clientSecret: string };
  datasets: Record<string, { id: string; name: string; isPublic: boolean }>;
}

async function loadSample(): Promise<SampleSeed | undefined> {
  const file = join(repoRoot, 'test', 'emulator', 'seed.ts');
  if (!existsSync(file)) return undefined;
  const mod = (await import(file)) as { SAMPLE?: SampleSeed; default?: { SAMPLE?: SampleSeed } };
  return mod.SAMPLE ?? mod.default?.SAMPLE;
}

async function main(): Promise<void> {
  console.log('Building the extension…');
  await run(process.execPath, [join(repoRoot, 'esbuild.js')], { cwd: repoRoot, echo: '  build: ' });

  console.log('Preparing the sample workspace (the large CSV is generated once)…');
  const workspace = await createSampleWorkspace(cacheDir('demo-workspace'), { goodRows: 200, largeRows: 100_000 });

  // A fixed port keeps the emulator's URL (and so the signed-in account's domain) the same between runs.
  const emulatorPort = await freePort(Number(process.env.DEMO_EMULATOR_PORT ?? 8787));
  const emulator = await startSampleEmulator({ port: emulatorPort, data: cacheDir('demo-emulator') });
  if (emulator) onCleanup(() => emulator.stop());
  else console.log('note: test/emulator/index.ts does not exist yet; starting without the emulator');

  // VS Code's state (sign-ins, layout) is kept between demo runs; the extension is reinstalled each time.
  const userDataDir = cacheDir('demo-vscode', 'user-data');
  const extensionsDir = cacheDir('demo-vscode', 'extensions');
  const m = readManifest();
  rmSync(join(extensionsDir, `${m.publisher}.${m.name}-${m.version}`), { recursive: true, force: true });
  await installUnpacked(repoRoot, extensionsDir);

  const codeServer = await startCodeServer({
    userDataDir,
    extensionsDir,
    folder: workspace,
    port: Number(process.env.DEMO_PORT ?? 8080),
    settings: emulatorSettings(emulator),
    env: emulator ? { SOCRATA_EMULATOR_URL: emulator.url } : {},
  });
  onCleanup(() => codeServer.stop());

  const sample = await loadSample();
  const lines = ['', '━━ Socrata Publisher demo ━━', '', `Open VS Code:   ${codeServer.workbenchUrl}`];
  if (emulator) lines.push(`Local Socrata:  ${emulator.url}  (domain ${emulator.domain}; data in ${cacheDir('demo-emulator')})`);
  if (sample) {
    lines.push('', 'Sign in with (Accounts menu or "Socrata: Sign In…" commands):');
    for (const user of Object.values(sample.users)) lines.push(`  ${user.email.padEnd(22)} ${user.password.padEnd(12)} ${user.displayName} (${user.roleName})`);
    lines.push(`  API key:   key id ${sample.apiKey.keyId}, secret ${sample.apiKey.keySecret}`);
    lines.push(`  App token: ${sample.appToken}; OAuth client secret ${sample.oauthClient.clientSecret}`);
    lines.push('', 'Datasets:');
    for (const d of Object.values(sample.datasets)) lines.push(`  ${d.id}  ${d.name}${d.isPublic ? '' : ' (private)'}`);
  }
  lines.push('', `Workspace: ${workspace} (permits-good.csv, permits-bad.csv, permits-large.csv)`, '', 'Press Ctrl-C to stop.', '');
  console.log(lines.join('\n'));

  // Stay up until Ctrl-C (the clean-up handlers stop code-server and the emulator) or code-server exits.
  await new Promise<void>((resolve) => codeServer.process.child.once('exit', () => resolve()));
  console.log('code-server stopped.');
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
