/**
 * Dataset Management API (`/api/publishing/v1/**`) of the emulator: revisions, sources, single-shot and
 * chunked uploads, input/output schemas with evaluated transforms, row-id validation, schema errors
 * (JSON and CSV) and asynchronous apply jobs. Resources answer `{resource, links}`; three answers are flat, as on
 * the platform (socrata-py and the .NET client read them so): `initiate` (`{preferred_chunk_size,
 * preferred_upload_parallelism}`), `validate_row_id` (`{valid}`) and apply when approval is needed
 * (`{key: "approval_submitted", …}`). Errors use envelope A.
 *
 * Tests tune it per emulator instance with {@link configureDsmapi} (chunk size, delays) and
 * {@link failChunkOnce}; approval is the store's per-dataset `setApprovalRequired`.
 *
 * This file holds the per-emulator state and the HTTP routes; `operations.ts` does the work (checks, revisions,
 * ingesting uploads, apply jobs), `shapes.ts` writes the answers, `model.ts` holds the data, `transforms.ts` the
 * transforms, `upload.ts` the uploaded rows. Over 400 lines: `route` is one table of the API's paths, kept whole.
 */
import { BadRequestError, BodyTooLargeError, type EmulatorContext } from '../context';
import { EmulatorHttpError } from '../errors';
import type { EmulatorStore } from '../store';
import { type Cell, type DsmapiConfig, DsmapiState, type InputSchemaState, nowIso, type OutputSchemaState } from './model';
import {
  addOutputSchema,
  asObject,
  checkMetadata,
  Fail,
  findOutputSchema,
  ingest,
  newRevision,
  newUploadSource,
  parseAction,
  parseMetadata,
  releaseUploads,
  requireDataset,
  requireOpen,
  requireRevision,
  requireSource,
  requireUser,
  startJob,
  validRowId,
} from './operations';
import { cellsOf } from './transforms';
import { BASE, errorsCsv, inputSchemaBody, inputSchemaLinks, outputSchemaJson, revisionJson, sourceJson, taskSetJson } from './shapes';

const states = new WeakMap<EmulatorStore, DsmapiState>();

/** The DSMAPI state of an emulator (created on first use). */
export function dsmapiState(store: EmulatorStore): DsmapiState {
  let s = states.get(store);
  if (!s) {
    s = new DsmapiState();
    states.set(store, s);
  }
  return s;
}

/** Changes chunk size, parallelism and processing delays for one emulator instance. */
export function configureDsmapi(store: EmulatorStore, config: Partial<DsmapiConfig>): void {
  const s = dsmapiState(store);
  s.config = { ...s.config, ...config };
}

/** The next upload of chunk number `seq` (any source) fails once with a 500. */
export function failChunkOnce(store: EmulatorStore, seq: number): void {
  dsmapiState(store).failChunksOnce.add(seq);
}

/** Cancels pending apply timers (call before stopping an emulator mid-job). */
export function stopDsmapi(store: EmulatorStore): void {
  states.get(store)?.stop();
}

/** An open revision of an existing dataset, as the catalog lists it to the dataset's owner. */
export interface DraftRef {
  fourfour: string;
  revision_seq: number;
  name: string | undefined;
  created_at: string;
}

/** Open revisions of existing datasets (not of datasets that only exist as a draft), oldest first. */
export function openDrafts(store: EmulatorStore): DraftRef[] {
  const out: DraftRef[] = [];
  for (const list of dsmapiState(store).revisions.values()) {
    for (const r of list) {
      if (r.closed_at || r.creates) continue;
      const name = typeof r.metadata?.name === 'string' && r.metadata.name.trim() !== '' ? r.metadata.name : undefined;
      out.push({ fourfour: r.fourfour, revision_seq: r.revision_seq, name, created_at: r.created_at });
    }
  }
  return out;
}

/**
 * The sample seed's draft: an open update revision of `tree-cnsu` owned by the publisher, listed in the catalog as
 * `tree-cnsu:1`. Does nothing when the dataset or its owner is missing.
 */
export function seedDraft(store: EmulatorStore): void {
  const ds = store.getDataset('tree-cnsu');
  const owner = ds ? store.getUser(ds.owner) : undefined;
  if (!ds || !owner || dsmapiState(store).revisionsOf(ds.id).length > 0) return;
  newRevision(dsmapiState(store), ds.id, owner, { type: 'update' }, null, false);
}

// ------------------------------------------------------------------------------------------ routes

async function route(ctx: EmulatorContext, st: DsmapiState): Promise<void> {
  const parts = ctx.url.pathname.slice(BASE.length).split('/').filter(Boolean).map(decodeURIComponent);
  const m = ctx.method;
  const user = requireUser(ctx);
  const [head, a, b, c, d, e, f, g] = parts;

  if (head === 'revision') {
    if (a === undefined) {
      if (m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      if (user.roleName === 'viewer') throw new Fail(403, 'permission_denied', 'You do not have permission to create datasets');
      const body = asObject(await ctx.readJson(), 'the request body');
      const action = parseAction(body, false);
      const metadata = parseMetadata(body);
      const name = typeof metadata?.name === 'string' && metadata.name.trim() !== '' ? metadata.name : 'Untitled dataset';
      const fourfour = ctx.store.createDataset({ name, owner: user.id, columns: [], isPublic: false, publicationStage: 'unpublished' });
      const draft = ctx.store.getDataset(fourfour);
      try {
        if (draft) checkMetadata(draft, metadata);
      } catch (e) {
        ctx.store.deleteDataset(fourfour);
        throw e;
      }
      const rev = newRevision(st, fourfour, user, action, metadata ?? { name }, true);
      ctx.sendJson(201, revisionJson(rev));
      return;
    }
    if (b === undefined) {
      const ds = requireDataset(ctx, a, user);
      if (m === 'GET') {
        const open = ctx.url.searchParams.get('open') === 'true';
        const list = st
          .revisionsOf(ds.id)
          .filter((r) => !open || !r.closed_at)
          .sort((x, y) => y.revision_seq - x.revision_seq);
        ctx.sendJson(200, list.map(revisionJson));
        return;
      }
      if (m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      const body = asObject(await ctx.readJson(), 'the request body');
      const action = parseAction(body, true);
      if (action.type === 'delete' && !ds.rowIdentifier) {
        throw new Fail(400, 'row_identifier_required', `a delete revision needs dataset ${ds.id} to have a row identifier`, { field: 'action.type' });
      }
      const metadata = parseMetadata(body);
      checkMetadata(ds, metadata);
      const rev = newRevision(st, ds.id, user, action, metadata, false);
      ctx.sendJson(201, revisionJson(rev));
      return;
    }
    const rev = requireRevision(ctx, st, a, b, user);
    if (c === undefined) {
      if (m === 'GET') return ctx.sendJson(200, revisionJson(rev));
      if (m === 'DELETE') {
        if (!rev.closed_at) {
          rev.closed_at = nowIso();
          // Chunks of an upload that was never committed go with the discarded revision (a commit now fails anyway).
          releaseUploads(st, rev);
          // A dataset that only existed as this draft goes away with it.
          if (rev.creates) ctx.store.deleteDataset(rev.fourfour);
        }
        return ctx.sendJson(200, revisionJson(rev));
      }
      if (m === 'PUT' || m === 'PATCH') {
        requireOpen(rev);
        const body = asObject(await ctx.readJson(), 'the request body');
        const md = parseMetadata(body);
        if (md) {
          const merged = { ...(rev.metadata ?? {}), ...md };
          const target = ctx.store.getDataset(rev.fourfour);
          if (target && !rev.creates) checkMetadata(target, merged);
          rev.metadata = merged;
        }
        if (typeof body.output_schema_id === 'number') {
          if (!findOutputSchema(st, body.output_schema_id)) {
            throw new Fail(400, 'invalid_output_schema', `output schema ${body.output_schema_id} does not exist`);
          }
          rev.output_schema_id = body.output_schema_id;
        }
        return ctx.sendJson(200, revisionJson(rev));
      }
      throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
    }
    if (c === 'apply') {
      if (d !== undefined) {
        const job = rev.task_sets.find((t) => String(t.id) === d);
        if (!job || m !== 'GET') throw new Fail(404, 'not_found', `Job ${d} was not found`);
        return ctx.sendJson(200, taskSetJson(rev, job));
      }
      if (m !== 'PUT' && m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      requireOpen(rev);
      const body = asObject(await ctx.readJson(), 'the request body');
      const osid = typeof body.output_schema_id === 'number' ? body.output_schema_id : rev.output_schema_id;
      let target: { input: InputSchemaState; out: OutputSchemaState } | undefined;
      if (osid !== null && osid !== undefined) {
        const found = findOutputSchema(st, osid);
        if (!found || found.src.fourfour !== rev.fourfour || found.src.revision_seq !== rev.revision_seq) {
          throw new Fail(400, 'invalid_output_schema', `output schema ${osid} does not belong to this revision`, { output_schema_id: osid });
        }
        if (Date.now() < found.out.readyAt) throw new Fail(400, 'output_schema_not_ready', `output schema ${osid} is still being computed`);
        if (found.out.output_columns.some((col) => col.transform.failed_at)) {
          throw new Fail(400, 'transform_failed', `output schema ${osid} has failed transforms`);
        }
        target = found;
      } else if (rev.creates) {
        throw new Fail(400, 'output_schema_required', 'a new dataset needs an upload before it can be applied');
      }
      const ds = ctx.store.getDataset(rev.fourfour);
      if (ds?.approvalRequired) {
        rev.approval = 'submitted';
        rev.closed_at = nowIso();
        // Flat, like initiate: socrata-py's Job sees `key == 'approval_submitted'` at the top level.
        return ctx.sendJson(200, {
          key: 'approval_submitted',
          message: 'The revision was submitted for approval',
          fourfour: rev.fourfour,
          revision_seq: rev.revision_seq,
        });
      }
      const job = startJob(ctx, st, rev, target, user);
      return ctx.sendJson(200, taskSetJson(rev, job));
    }
    if (c === 'source' && d === undefined) {
      if (m === 'GET') {
        return ctx.sendJson(200, [...st.sources.values()].filter((s) => s.fourfour === rev.fourfour && s.revision_seq === rev.revision_seq).map(sourceJson));
      }
      if (m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      requireOpen(rev);
      const body = asObject(await ctx.readJson(), 'the request body');
      const type = asObject(body.source_type, 'source_type');
      if (type.type !== 'upload') {
        throw new Fail(400, 'unsupported_source_type', `source_type.type ${JSON.stringify(type.type)} is not supported (only upload)`, {
          field: 'source_type.type',
        });
      }
      if (typeof type.filename !== 'string' || type.filename === '') {
        throw new Fail(400, 'invalid_filename', 'source_type.filename must be a non-empty string', { field: 'source_type.filename' });
      }
      const parseOptions = body.parse_options === undefined ? {} : asObject(body.parse_options, 'parse_options');
      const src = newUploadSource(st, rev, user, type.filename, parseOptions);
      return ctx.sendJson(201, sourceJson(src));
    }
    throw new Fail(404, 'not_found', `Path not found: ${ctx.url.pathname}`, { path: ctx.url.pathname });
  }

  if (head === 'source' && a !== undefined) {
    const src = requireSource(ctx, st, a, user);
    const rev = st.findRevision(src.fourfour, src.revision_seq);
    if (b === undefined) {
      if (m === 'GET') return ctx.sendJson(200, sourceJson(src));
      if (m === 'POST') {
        if (rev) requireOpen(rev);
        if (src.finished_at) throw new Fail(400, 'already_uploaded', `source ${src.id} already has its bytes`);
        src.content_type = (ctx.req.headers['content-type'] ?? 'text/csv').split(';')[0]?.trim() ?? 'text/csv';
        const bytes = await ctx.readBody();
        ingest(st, ctx.store, src, bytes, user);
        return ctx.sendJson(200, sourceJson(src));
      }
      throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
    }
    if (b === 'initiate' && m === 'POST') {
      if (rev) requireOpen(rev);
      const body = asObject(await ctx.readJson(), 'the request body');
      src.content_type = typeof body.content_type === 'string' ? body.content_type : 'text/csv';
      src.chunks.clear();
      // Flat: socrata-py reads init['preferred_chunk_size']; the .NET client's InitiateResponse has just these two keys.
      return ctx.sendJson(200, { preferred_chunk_size: st.config.preferredChunkSize, preferred_upload_parallelism: st.config.preferredParallelism });
    }
    if (b === 'chunk' && c !== undefined && d !== undefined && m === 'POST') {
      const seq = Number(c);
      const offset = Number(d);
      if (!/^\d+$/.test(c) || !/^\d+$/.test(d)) throw new Fail(400, 'invalid_chunk', 'seq_num and byte_offset must be non-negative integers');
      if (rev) requireOpen(rev);
      if (src.finished_at) throw new Fail(400, 'already_uploaded', `source ${src.id} already has its bytes`);
      if (e === 'commit') {
        const ordered = [...src.chunks.entries()].sort((x, y) => x[0] - y[0]);
        let pos = 0;
        for (const [i, [s, chunk]] of ordered.entries()) {
          if (s !== i || chunk.offset !== pos) throw new Fail(400, 'missing_chunk', `chunk ${i} (at byte ${pos}) is missing`, { seq_num: i, byte_offset: pos });
          pos += chunk.length;
        }
        if (ordered.length !== seq + 1 || pos !== offset) {
          throw new Fail(400, 'size_mismatch', `commit says ${seq + 1} chunks / ${offset} bytes; received ${ordered.length} / ${pos}`, {
            seq_num: seq,
            byte_offset: offset,
          });
        }
        const bytes = Buffer.concat(
          ordered.flatMap(([, x]) => x.parts),
          pos,
        );
        src.chunks.clear();
        ingest(st, ctx.store, src, bytes, user);
        return ctx.sendJson(200, sourceJson(src));
      }
      if (e !== undefined) throw new Fail(404, 'not_found', `Path not found: ${ctx.url.pathname}`);
      const { parts, length } = await readChunk(ctx, st.config.preferredChunkSize * 2 + 1024);
      if (st.failChunksOnce.delete(seq)) throw new Fail(500, 'internal_error', `chunk ${seq} could not be stored (injected failure)`, { seq_num: seq });
      src.chunks.set(seq, { offset, length, parts });
      return ctx.sendJson(200, { resource: { seq_num: seq, byte_offset: offset, end_byte_offset: offset + length }, links: {} });
    }
    if (b === 'schema' && c !== undefined) {
      const input = src.schemas.find((i) => String(i.id) === c);
      if (!input) throw new Fail(404, 'not_found', `Input schema ${c} was not found`);
      if (d === undefined) {
        // Links of an input schema, as the .NET client's InputSchemaLinks reads them (`output_schema_links.validate_row_id`).
        if (m === 'GET') return ctx.sendJson(200, { resource: inputSchemaBody(input, Date.now()), links: inputSchemaLinks(src, input.id) });
        if (m !== 'POST') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
        if (rev) requireOpen(rev);
        const body = asObject(await ctx.readJson(), 'the request body');
        if (!Array.isArray(body.output_columns) || body.output_columns.length === 0) {
          throw new Fail(400, 'invalid_output_columns', 'output_columns must be a non-empty list', { field: 'output_columns' });
        }
        const out = addOutputSchema(st, src, input, body.output_columns, user, input.readyAt);
        return ctx.sendJson(201, outputSchemaJson(src, out));
      }
      const pick = (idText: string | undefined): OutputSchemaState => {
        const out = idText === 'latest' ? input.output_schemas[input.output_schemas.length - 1] : input.output_schemas.find((o) => String(o.id) === idText);
        if (!out) throw new Fail(404, 'not_found', `Output schema ${idText ?? ''} was not found`);
        return out;
      };
      if (m !== 'GET') throw new Fail(405, 'method_not_allowed', `${m} is not allowed here`);
      if (d === 'output' && e !== undefined && f === undefined) return ctx.sendJson(200, outputSchemaJson(src, pick(e)));
      if (d === 'output' && f === 'validate_row_id' && g !== undefined) {
        const out = pick(e);
        if (Date.now() < out.readyAt) throw new Fail(400, 'output_schema_not_ready', 'the output schema is still being computed');
        // Flat: socrata-py reads get(...)['valid']; the .NET client's ValidResult is `{valid}`.
        return ctx.sendJson(200, { valid: validRowId(input, out, Number(g)) });
      }
      if ((d === 'rows' || d === 'errors') && e !== undefined) {
        const out = pick(e);
        if (!input.upload.available) {
          throw new Fail(410, 'rows_released', `the rows of input schema ${input.id} are no longer kept: its revision was applied or discarded`);
        }
        const limit = Math.min(10_000, Number(ctx.url.searchParams.get('limit') ?? 500) || 500);
        const offset = Math.max(0, Number(ctx.url.searchParams.get('offset') ?? 0) || 0);
        const csv = d === 'errors' && (ctx.req.headers.accept ?? '').includes('text/csv');
        const entries = schemaRows(input, out, d === 'errors', csv ? 0 : offset, csv ? Infinity : limit);
        if (csv) return ctx.sendRaw(200, errorsCsv(out, entries), 'text/csv; charset=utf-8');
        const total = d === 'errors' ? out.error_count : out.total;
        const meta = { output_columns: out.output_columns.map((col) => ({ field_name: col.field_name, position: col.position })), total };
        return ctx.sendJson(200, [meta, ...entries]);
      }
    }
  }
  throw new Fail(404, 'not_found', `Path not found: ${ctx.url.pathname}`, { path: ctx.url.pathname });
}

/**
 * A chunk's bytes as the pieces they arrived in: storing them is then free, and the upload's bytes are copied once,
 * at commit (joining each 4 MiB chunk on arrival cost about as much as receiving it). A body without a declared
 * length within the limit goes through `readBody` (its 413 answer and limits).
 */
/** A page of a schema's rows (or of its rows with an error) with their cells, read again from the upload. */
function schemaRows(input: InputSchemaState, out: OutputSchemaState, errorsOnly: boolean, offset: number, limit: number): { offset: number; row: Cell[] }[] {
  const cells = cellsOf(input, out.output_columns);
  const page: { offset: number; row: Cell[] }[] = [];
  if (!errorsOnly) {
    for (const [raw, i] of input.upload.rows(offset)) {
      if (page.length >= limit) break;
      page.push({ offset: i, row: cells(raw) });
    }
    return page;
  }
  const wanted = out.errorRows.slice(offset, offset + limit);
  let next = 0;
  for (const [raw, i] of input.upload.rows(wanted[0] ?? Infinity)) {
    if (next >= wanted.length) break;
    if (i !== wanted[next]) continue;
    page.push({ offset: i, row: cells(raw) });
    next++;
  }
  return page;
}

async function readChunk(ctx: EmulatorContext, limit: number): Promise<{ parts: Buffer[]; length: number }> {
  const declared = Number(ctx.req.headers['content-length']);
  if (!Number.isInteger(declared) || declared < 0 || declared > limit) {
    const bytes = await ctx.readBody(limit);
    return { parts: [bytes], length: bytes.length };
  }
  const parts: Buffer[] = [];
  let length = 0;
  for await (const piece of ctx.req as AsyncIterable<Buffer>) {
    parts.push(piece);
    length += piece.length;
  }
  return { parts, length };
}

export async function handlePublishing(ctx: EmulatorContext): Promise<void> {
  const st = dsmapiState(ctx.store);
  try {
    await route(ctx, st);
  } catch (e) {
    if (e instanceof BodyTooLargeError || e instanceof BadRequestError) return;
    if (e instanceof Fail) return ctx.sendCoreError(e.status, e.code, e.message, e.data);
    if (e instanceof EmulatorHttpError) return ctx.sendCoreError(e.status, e.code, e.message, e.data);
    throw e;
  }
}
