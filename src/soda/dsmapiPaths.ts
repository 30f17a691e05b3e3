// DSMAPI paths: the fallback URL of every endpoint, and `followLink` for the links the server sends back.
import { isValid4x4 } from './ids';
import { type Links, RevisionError } from './dsmapiTypes';

// ---------------------------------------------------------------------------------------------------------
// Paths and links
// ---------------------------------------------------------------------------------------------------------

const BASE = '/api/publishing/v1';

export function assertFourfour(id: string): string {
  if (!isValid4x4(id)) {
    throw new RevisionError(`dataset id "${String(id)}" is not a 4x4 id like abcd-1234`, 'invalid-input', 'create-revision', { field: 'fourfour' });
  }
  return id;
}

export const enc = (v: string | number): string => encodeURIComponent(String(v));

export const paths = {
  newRevision: (): string => `${BASE}/revision`,
  revisions: (ff: string): string => `${BASE}/revision/${enc(assertFourfour(ff))}`,
  revision: (ff: string, seq: number): string => `${BASE}/revision/${enc(assertFourfour(ff))}/${enc(seq)}`,
  apply: (ff: string, seq: number): string => `${paths.revision(ff, seq)}/apply`,
  job: (ff: string, seq: number, id: number): string => `${paths.revision(ff, seq)}/apply/${enc(id)}`,
  createSource: (ff: string, seq: number): string => `${paths.revision(ff, seq)}/source`,
  source: (id: number): string => `${BASE}/source/${enc(id)}`,
  initiate: (id: number): string => `${paths.source(id)}/initiate`,
  chunk: (id: number, seq: number, offset: number): string => `${paths.source(id)}/chunk/${enc(seq)}/${enc(offset)}`,
  commit: (id: number, seq: number, offset: number): string => `${paths.chunk(id, seq, offset)}/commit`,
  inputSchema: (sid: number, isid: number): string => `${paths.source(sid)}/schema/${enc(isid)}`,
  outputSchema: (sid: number, isid: number, osid: number): string => `${paths.inputSchema(sid, isid)}/output/${enc(osid)}`,
  schemaErrors: (sid: number, isid: number, osid: number): string => `${paths.inputSchema(sid, isid)}/errors/${enc(osid)}`,
  validateRowId: (sid: number, isid: number, osid: number, tid: number): string => `${paths.outputSchema(sid, isid, osid)}/validate_row_id/${enc(tid)}`,
};

/**
 * Follows a link from a response when present: `links.a.b` with `{placeholder}` templates filled in (values
 * URL-encoded). Only same-domain API paths are followed; anything else falls back to the documented path.
 */
export function followLink(links: Links | undefined, keyPath: string[], vars: Record<string, string | number>, fallback: string): string {
  let cur: string | Links | undefined = links;
  for (const k of keyPath) {
    if (cur === undefined || typeof cur === 'string') return fallback;
    cur = cur[k];
  }
  if (typeof cur !== 'string') return fallback;
  const filled = cur.replace(/\{([a-z_]+)\}/g, (m, name: string) => (name in vars ? enc(vars[name]) : m));
  if (!filled.startsWith(`${BASE}/`) || /[{}]/.test(filled) || filled.includes('..') || filled.includes('//')) return fallback;
  return filled;
}
