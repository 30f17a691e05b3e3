// CSV header → Socrata API field name, and matching CSV headers to an existing dataset's columns.
//
// Normalisation rule (the SODA reference: API field names use only [A-Za-z0-9_], derived from a display name by
// replacing every non-alphanumeric character with `_` and lower-casing; published names are lower snake case).
// Exactly, in this order:
//   1. Unicode NFKD, then drop combining marks (`Café` → `Cafe`);
//   2. lower case;
//   3. every run of characters outside [a-z0-9] becomes one `_`;
//   4. leading and trailing `_` are removed;
//   5. a name starting with a digit gets a `_` prefix (`2020 total` → `_2020_total`);
//   6. an empty result stays empty (reported as an empty header).

export function normaliseFieldName(header: string): string {
  let s = header
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  s = s.replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (/^[0-9]/.test(s)) s = `_${s}`;
  return s;
}

export interface HeaderProblem {
  kind: 'empty' | 'duplicate';
  /** 0-based CSV column indexes involved. */
  columns: number[];
  message: string;
}

/** Reports empty headers and headers whose normalised field names collide. */
export function checkHeader(header: readonly string[]): HeaderProblem[] {
  const problems: HeaderProblem[] = [];
  const seen = new Map<string, number[]>();
  header.forEach((h, i) => {
    const name = normaliseFieldName(h);
    if (!name) {
      problems.push({
        kind: 'empty',
        columns: [i],
        message: h.trim() ? `column ${i + 1} ("${h}") has no letters or digits to make a field name` : `column ${i + 1} has an empty header`,
      });
      return;
    }
    const list = seen.get(name);
    if (list) list.push(i);
    else seen.set(name, [i]);
  });
  for (const [name, cols] of seen) {
    if (cols.length > 1) {
      problems.push({
        kind: 'duplicate',
        columns: cols,
        message: `columns ${cols.map((c) => `${c + 1} ("${header[c]}")`).join(', ')} all become the field name "${name}"`,
      });
    }
  }
  return problems;
}

export interface DatasetColumnRef {
  fieldName: string;
  name: string;
}

export interface HeaderMatch {
  /** 0-based CSV column. */
  csvIndex: number;
  csvHeader: string;
  /** Matched dataset field name, or undefined when nothing is close enough. */
  fieldName: string | undefined;
  /** 0..1: 1 exact field name, 0.95 normalised field name, 0.9 exact display name, 0.85 normalised display name,
   *  below that 0.8 × edit-distance similarity. */
  confidence: number;
  reason: 'field name' | 'normalised field name' | 'display name' | 'normalised display name' | 'similar name' | 'no match';
}

/** Levenshtein distance (two rows, O(a·b) time, O(b) memory). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  let cur = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

function similarity(a: string, b: string): number {
  const max = Math.max(a.length, b.length);
  return max === 0 ? 0 : 1 - editDistance(a, b) / max;
}

/** A header or a dataset column with its normalised names computed once (not once per pair). */
interface Prepared {
  readonly raw: string;
  readonly trimmed: string;
  readonly norm: string;
}

function prepare(text: string): Prepared {
  return { raw: text, trimmed: text.trim(), norm: normaliseFieldName(text) };
}

/** Upper bound of `similarity(a, b)` from the lengths alone: the distance is at least the length difference. */
function similarityBound(a: string, b: string): number {
  const max = Math.max(a.length, b.length);
  return max === 0 ? 0 : 1 - Math.abs(a.length - b.length) / max;
}

function score(header: Prepared, field: Prepared, display: Prepared, minConfidence: number): { confidence: number; reason: HeaderMatch['reason'] } {
  if (header.raw === field.raw) return { confidence: 1, reason: 'field name' };
  const norm = header.norm;
  if (norm && norm === field.raw) return { confidence: 0.95, reason: 'normalised field name' };
  if (header.trimmed === display.raw) return { confidence: 0.9, reason: 'display name' };
  if (norm && norm === display.norm) return { confidence: 0.85, reason: 'normalised display name' };
  // The edit distance is the costly part: skip a comparison that cannot reach the threshold.
  const simField = 0.8 * similarityBound(norm, field.raw) >= minConfidence ? similarity(norm, field.raw) : 0;
  const simDisplay = 0.8 * similarityBound(norm, display.norm) >= minConfidence ? similarity(norm, display.norm) : 0;
  return { confidence: Math.round(0.8 * Math.max(simField, simDisplay) * 100) / 100, reason: 'similar name' };
}

/**
 * Suggests a one-to-one mapping from CSV headers to dataset columns: every pair is scored, then pairs are taken
 * greedily from the highest confidence. Pairs below `minConfidence` (default 0.5) are not suggested.
 */
export function matchHeaders(header: readonly string[], columns: readonly DatasetColumnRef[], minConfidence = 0.5): HeaderMatch[] {
  const pairs: { i: number; j: number; confidence: number; reason: HeaderMatch['reason'] }[] = [];
  const headers = header.map(prepare);
  const fields = columns.map((col) => prepare(col.fieldName));
  const displays = columns.map((col) => prepare(col.name));
  headers.forEach((h, i) =>
    columns.forEach((_col, j) => {
      const match = score(h, fields[j], displays[j], minConfidence);
      if (match.confidence >= minConfidence) pairs.push({ i, j, ...match });
    }),
  );
  pairs.sort((x, y) => y.confidence - x.confidence || x.i - y.i || x.j - y.j);
  const result: HeaderMatch[] = header.map((h, i) => ({ csvIndex: i, csvHeader: h, fieldName: undefined, confidence: 0, reason: 'no match' }));
  const usedCol = new Set<number>();
  const usedCsv = new Set<number>();
  for (const p of pairs) {
    if (p.confidence < minConfidence) break;
    if (usedCol.has(p.j) || usedCsv.has(p.i)) continue;
    usedCol.add(p.j);
    usedCsv.add(p.i);
    result[p.i] = { csvIndex: p.i, csvHeader: header[p.i], fieldName: columns[p.j].fieldName, confidence: p.confidence, reason: p.reason };
  }
  return result;
}
