/**
 * Row ids: a row's `:id` (`row-xxxx~xxxx~xxxx`) is computed from its dataset and its sid, never stored, and decoded
 * back to the sid when a request names it.
 */
import type { StoredValue } from '../types';
import { ID_ALPHABET, type Row } from './model';

export function datasetHash(datasetId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < datasetId.length; i++) h = Math.imul(h ^ datasetId.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const SID_MULTIPLIER = 0x9e3779b1;
/** The inverse of {@link SID_MULTIPLIER} modulo 2^32 (Newton's iteration), to decode an `:id` back to its sid. */
const SID_INVERSE = ((): number => {
  let x = SID_MULTIPLIER;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(SID_MULTIPLIER, x));
  return x >>> 0;
})();

/** `row-xxxx~xxxx~xxxx`: five characters of the dataset hash, then seven of the scrambled sid (5 bits each). */
export function rowIdOf(hash: number, sid: number): string {
  const low = Math.imul(sid, SID_MULTIPLIER) >>> 0; // bijection on 32 bits: unique per sid
  let s = '';
  let hi = hash;
  for (let i = 0; i < 5; i++) {
    s += ID_ALPHABET[hi & 31] ?? 'a';
    hi >>>= 5;
  }
  let lo = low;
  for (let i = 0; i < 7; i++) {
    s += ID_ALPHABET[lo & 31] ?? 'a';
    lo = Math.floor(lo / 32);
  }
  return `row-${s.slice(0, 4)}~${s.slice(4, 8)}~${s.slice(8, 12)}`;
}

/** The sid an `:id` of this dataset stands for, or undefined when it is not one of its ids. */
export function sidOfRowId(hash: number, id: string): number | undefined {
  if (id.length !== 18 || !id.startsWith('row-') || id[8] !== '~' || id[13] !== '~') return undefined;
  const s = id.slice(4, 8) + id.slice(9, 13) + id.slice(14, 18);
  let lo = 0;
  for (let i = 11; i >= 5; i--) {
    const d = ID_ALPHABET.indexOf(s[i] ?? '');
    if (d < 0) return undefined;
    lo = lo * 32 + d;
  }
  if (lo >= 2 ** 32) return undefined;
  const sid = Math.imul(lo, SID_INVERSE) >>> 0;
  return rowIdOf(hash, sid) === id ? sid : undefined;
}

/**
 * A stored row: its `:id` is computed from the dataset hash and the sid when read, not kept (an id string per row
 * cost more memory than the rest of the row's bookkeeping).
 */
export class StoredRow implements Row {
  constructor(
    readonly sid: number,
    public createdAt: number,
    public updatedAt: number,
    public v: Record<string, StoredValue>,
    private readonly hash: number,
  ) {}
  get id(): string {
    return rowIdOf(this.hash, this.sid);
  }
  toJSON(): Row {
    return { sid: this.sid, id: this.id, createdAt: this.createdAt, updatedAt: this.updatedAt, v: this.v };
  }
}
