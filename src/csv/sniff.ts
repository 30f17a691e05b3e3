// Delimiter sniffing: count each candidate outside quoted fields on the first records of the head and keep the one
// that splits the most records into the same (largest) number of fields. Order of preference on a tie:
// comma, tab, semicolon, pipe. A file with a single column (no candidate found) is read as comma-separated.

export const DELIMITERS = [',', '\t', ';', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

export function sniffDelimiter(head: string, maxRecords = 50): Delimiter {
  const counts: number[][] = DELIMITERS.map(() => []);
  const current = DELIMITERS.map(() => 0);
  let inQuotes = false;
  let records = 0;
  let lineHasContent = false;
  for (let i = 0; i < head.length && records < maxRecords; i++) {
    const ch = head[i];
    if (ch === '"') {
      inQuotes = !inQuotes;
      lineHasContent = true;
      continue;
    }
    if (inQuotes) continue;
    if (ch === '\n' || ch === '\r') {
      if (lineHasContent) {
        for (let d = 0; d < DELIMITERS.length; d++) {
          counts[d].push(current[d]);
          current[d] = 0;
        }
        records++;
      }
      lineHasContent = false;
      continue;
    }
    lineHasContent = true;
    const d = DELIMITERS.indexOf(ch as Delimiter);
    if (d >= 0) current[d]++;
  }
  // A last record without a newline only counts when the head is the whole file (the caller passes complete text).
  if (lineHasContent && !inQuotes && records === 0) {
    for (let d = 0; d < DELIMITERS.length; d++) counts[d].push(current[d]);
  }
  let best: Delimiter = ',';
  let bestScore = 0;
  for (let d = 0; d < DELIMITERS.length; d++) {
    const list = counts[d];
    if (list.length === 0) continue;
    const freq = new Map<number, number>();
    for (const c of list) freq.set(c, (freq.get(c) ?? 0) + 1);
    let mode = 0;
    let modeCount = 0;
    for (const [c, n] of freq) {
      if (c > 0 && (n > modeCount || (n === modeCount && c > mode))) {
        mode = c;
        modeCount = n;
      }
    }
    if (mode === 0) continue;
    // Consistency first (share of records with the modal count), then the number of fields.
    const score = (modeCount / list.length) * 1000 + Math.min(mode, 999);
    if (score > bestScore) {
      bestScore = score;
      best = DELIMITERS[d];
    }
  }
  return best;
}
