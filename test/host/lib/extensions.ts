// Installs extensions into a fresh extensions dir the way VS Code lays them out: one unpacked folder
// named `<publisher>.<name>-<version>`, holding exactly the files `vsce package` would ship.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { repoRoot } from './paths';
import { run } from './proc';

interface Manifest {
  publisher: string;
  name: string;
  version: string;
  activationEvents?: string[];
  contributes?: { commands?: Array<{ command: string; title: string }> };
}

export function readManifest(dir = repoRoot): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** `<publisher>.<name>`, as `vscode.extensions.getExtension` expects it. */
export function extensionId(dir = repoRoot): string {
  const m = readManifest(dir);
  return `${m.publisher}.${m.name}`;
}

interface Vsce {
  PackageManager: { None: unknown };
  listFiles(options: { cwd: string; packageManager: unknown; prepublish: boolean }): Promise<string[]>;
}

/** The files `vsce package --no-dependencies` would put in the .vsix (honours .vscodeignore). */
export async function packagedFiles(dir: string): Promise<string[]> {
  const vsce = createRequire(join(repoRoot, 'package.json'))('@vscode/vsce') as Vsce;
  // The bundle carries its dependencies, as in `vsce package --no-dependencies`.
  return vsce.listFiles({ cwd: dir, packageManager: vsce.PackageManager.None, prepublish: false });
}

/** Builds the extension when its bundle is missing (the test scripts build first; this covers direct runs). */
export async function ensureBuilt(): Promise<void> {
  const main = join(repoRoot, 'dist', 'extension.js');
  const source = join(repoRoot, 'src', 'extension.ts');
  if (existsSync(main) && statSync(main).mtimeMs >= statSync(source).mtimeMs) return;
  console.log('Building the extension (node esbuild.js)…');
  await run(process.execPath, [join(repoRoot, 'esbuild.js')], { cwd: repoRoot, echo: '  build: ' });
}

/** Copies an extension's packaged files into `<extensionsDir>/<publisher>.<name>-<version>`. */
export async function installUnpacked(extensionDir: string, extensionsDir: string): Promise<string> {
  const m = readManifest(extensionDir);
  const target = join(extensionsDir, `${m.publisher}.${m.name}-${m.version}`);
  for (const file of await packagedFiles(extensionDir)) {
    const to = join(target, file);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(extensionDir, file), to);
  }
  return target;
}
