// The manifest is localisable: every string people read in package.json (titles, categories, labels, view names,
// welcome texts, setting descriptions, walkthrough texts) is a %key% whose English text is in package.nls.json, and
// package.nls.json holds no key the manifest does not use.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
const nls = JSON.parse(readFileSync(join(root, 'package.nls.json'), 'utf8')) as Record<string, string>;

/** Fields under `contributes` whose values people read. */
const TEXT_FIELDS = new Set([
  'title',
  'shortTitle',
  'category',
  'label',
  'name',
  'contextualTitle',
  'contents',
  'description',
  'markdownDescription',
  'enumDescriptions',
  'markdownEnumDescriptions',
  'deprecationMessage',
  'markdownDeprecationMessage',
  'altText',
]);
/** Places where those field names hold something else (ids, paths, schema names). */
const NOT_TEXT = [/^jsonValidation\./, /^configuration\.\d+\.properties\.[^.]+\.items\./];

function texts(value: unknown, path: string, out: { path: string; value: string }[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => texts(v, `${path}.${i}`, out));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const here = path === '' ? k : `${path}.${k}`;
    if (TEXT_FIELDS.has(k) && !NOT_TEXT.some((re) => re.test(here))) {
      if (typeof v === 'string') out.push({ path: here, value: v });
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) v.forEach((x, i) => out.push({ path: `${here}.${i}`, value: x }));
      else texts(v, here, out);
    } else texts(v, here, out);
  }
}

describe('manifest localisation (package.nls.json)', () => {
  const found: { path: string; value: string }[] = [];
  texts(manifest.contributes, '', found);
  for (const top of ['displayName', 'description']) found.push({ path: top, value: String(manifest[top]) });

  it('finds the manifest strings it checks', () => {
    assert.ok(found.filter((f) => f.path.startsWith('commands.')).length >= 20, 'command titles and categories');
    assert.ok(
      found.some((f) => /^configuration\.\d+\.properties\..+\.markdownDescription$/.test(f.path)),
      'setting descriptions',
    );
    assert.ok(
      found.some((f) => f.path.startsWith('walkthroughs.')),
      'walkthrough texts',
    );
  });

  it('no manifest title or other text is hard-coded: each is a %key% with its text in package.nls.json', () => {
    const hardCoded = found.filter((f) => !/^%[^%\s]+%$/.test(f.value)).map((f) => `${f.path}: ${f.value}`);
    assert.deepEqual(hardCoded, []);
    const missing = found.map((f) => f.value.slice(1, -1)).filter((key) => typeof nls[key] !== 'string' || nls[key].trim() === '');
    assert.deepEqual(missing, [], 'keys without English text in package.nls.json');
  });

  it('package.nls.json holds only keys the manifest uses', () => {
    const used = new Set(found.map((f) => f.value.slice(1, -1)));
    assert.deepEqual(
      Object.keys(nls).filter((k) => !used.has(k)),
      [],
    );
  });
});
