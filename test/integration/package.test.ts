// `npm run package` on a fresh copy of the repository (only the files git tracks, plus node_modules): it must
// build the .vsix without help, ship exactly the runtime files, and carry the README written for the Extensions
// view (docs/EXTENSION_README.md: no relative links, every setting described).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inflateRawSync } from 'node:zlib';

const root = join(__dirname, '..', '..');

/** The tracked files of the working tree, or undefined outside a git checkout. */
function trackedFiles(): string[] | undefined {
  try {
    return execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\0')
      .filter((f) => f !== '' && existsSync(join(root, f)));
  } catch {
    return undefined;
  }
}

interface ZipEntry {
  name: string;
  data: () => Buffer;
}

/** Reads a zip's central directory (enough for a .vsix: stored or deflated entries, no zip64). */
function readZip(file: string): ZipEntry[] {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, 'a zip end-of-central-directory record');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'a central directory header');
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    entries.push({
      name,
      data: () => {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + size);
        return method === 0 ? raw : inflateRawSync(raw);
      },
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

const files = trackedFiles();

describe('npm run package on a fresh copy of the repository', { skip: files === undefined ? 'not a git checkout' : false }, () => {
  let dir = '';
  let entries: ZipEntry[] = [];
  let output = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'socrata-package-'));
    for (const f of files ?? []) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(root, f), join(dir, f));
    }
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    output = await new Promise<string>((resolve, reject) => {
      execFile(npm, ['run', 'package'], { cwd: dir, encoding: 'utf8', timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`npm run package failed (${String(err.code)}):\n${stdout}\n${stderr}`));
        else resolve(stdout + stderr);
      });
    });
    entries = readZip(join(dir, 'dist-vsix', 'socrata-publisher.vsix'));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds the .vsix', () => {
    assert.match(output, /DONE {2}Packaged: dist-vsix[/\\]socrata-publisher\.vsix/);
  });

  it('ships the runtime files and nothing else', () => {
    const names = entries.map((e) => e.name).sort();
    for (const required of [
      'extension.vsixmanifest',
      '[Content_Types].xml',
      'extension/package.json',
      'extension/package.nls.json',
      'extension/l10n/bundle.l10n.json',
      'extension/readme.md',
      'extension/changelog.md',
      'extension/LICENSE.txt',
      'extension/dist/extension.js',
      'extension/dist/cli.js',
      'extension/dist/worker-entry.js',
      'extension/dist/webview/preview.js',
      'extension/dist/webview/grid.js',
      'extension/schemas/publish-spec.schema.json',
      'extension/media/socrata.svg',
    ]) {
      assert.ok(names.includes(required), `${required} is in the package`);
    }
    const allowed =
      /^(extension\.vsixmanifest|\[Content_Types\]\.xml|extension\/(package\.json|package\.nls(\.[\w-]+)?\.json|l10n\/bundle(\.[\w-]+)?\.l10n\.json|readme\.md|changelog\.md|LICENSE\.txt|dist\/(extension|cli|worker-entry)\.js|dist\/webview\/.+|media\/.+|schemas\/.+\.json))$/;
    assert.deepEqual(
      names.filter((n) => !allowed.test(n)),
      [],
      'no other files (sources, tests, maps, docs, node_modules)',
    );
    assert.deepEqual(
      names.filter((n) => n.endsWith('.map')),
      [],
    );
    const manifest = JSON.parse(
      entries
        .find((e) => e.name === 'extension/package.json')
        ?.data()
        .toString('utf8') ?? '{}',
    ) as { main: string; bin: Record<string, string> };
    assert.ok(names.includes(`extension/${manifest.main.replace(/^\.\//, '')}`), 'main is in the package');
    for (const bin of Object.values(manifest.bin)) assert.ok(names.includes(`extension/${bin.replace(/^\.\//, '')}`), `${bin} is in the package`);
  });

  it('carries the README written for the Extensions view: no relative links, every setting described', () => {
    const readme =
      entries
        .find((e) => e.name === 'extension/readme.md')
        ?.data()
        .toString('utf8') ?? '';
    assert.equal(readme.trim(), readFileSync(join(root, 'docs', 'EXTENSION_README.md'), 'utf8').trim());
    const links = [...readme.matchAll(/\]\(([^)\s]+)[^)]*\)|<(?:a|img)\s[^>]*(?:href|src)="([^"]+)"/g)].map((m) => m[1] ?? m[2] ?? '');
    assert.deepEqual(
      links.filter((l) => !/^(https:|http:|#|mailto:)/.test(l)),
      [],
      'relative links break in the Extensions view',
    );
    assert.doesNotMatch(readme, /npm (start|test|run)/, 'no developer instructions');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, unknown> }[] } };
    for (const key of pkg.contributes.configuration.flatMap((c) => Object.keys(c.properties))) {
      assert.ok(readme.includes(`\`${key}\``), `the README describes ${key}`);
    }
  });
});
