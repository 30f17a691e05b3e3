/**
 * How the emulator's DSMAPI writes its resources: `{resource, links}` for revisions, sources, schemas and jobs, with
 * the link names socrata-py and the .NET client follow, and the schema-errors CSV.
 */
import { toCsvText } from '../types';
import {
  type Cell,
  type InputSchemaState,
  type OutputColumnState,
  type OutputSchemaState,
  type RevisionState,
  type SourceState,
  type TaskSetState,
} from './model';

export const BASE = '/api/publishing/v1';

export function revisionPath(r: RevisionState): string {
  return `${BASE}/revision/${r.fourfour}/${r.revision_seq}`;
}

export function revisionJson(r: RevisionState): unknown {
  const p = revisionPath(r);
  return {
    resource: {
      id: r.id,
      fourfour: r.fourfour,
      revision_seq: r.revision_seq,
      action: r.action,
      metadata: r.metadata,
      output_schema_id: r.output_schema_id,
      created_at: r.created_at,
      created_by: r.created_by,
      closed_at: r.closed_at,
      task_sets: r.task_sets.map(taskSetBody),
      ...(r.approval ? { approval: r.approval } : {}),
    },
    links: { show: p, update: p, discard: p, apply: `${p}/apply`, create_source: `${p}/source`, list_sources: `${p}/source` },
  };
}

function taskSetBody(t: TaskSetState): unknown {
  return { ...t, log: [...t.log].reverse() };
}

export function taskSetJson(r: RevisionState, t: TaskSetState): unknown {
  return { resource: taskSetBody(t), links: { show: `${revisionPath(r)}/apply/${t.id}`, revision: revisionPath(r) } };
}

function outputColumnBody(c: OutputColumnState): unknown {
  const { dataType: _dataType, ...rest } = c;
  return rest;
}

export function outputSchemaBody(o: OutputSchemaState, now: number): unknown {
  const done = now >= o.readyAt;
  return {
    id: o.id,
    input_schema_id: o.input_schema_id,
    output_columns: o.output_columns.map((c) => {
      const body = outputColumnBody(c) as { transform: Record<string, unknown> };
      if (!done) body.transform = { ...body.transform, completed_at: null, finished_at: null, error_count: null };
      return body;
    }),
    sort_bys: [],
    total_rows: done ? o.total : null,
    error_count: done ? o.error_count : null,
    completed_at: done ? new Date(o.readyAt).toISOString() : null,
    finished_at: done ? new Date(o.readyAt).toISOString() : null,
    created_at: o.created_at,
    created_by: o.created_by,
  };
}

export function inputSchemaBody(i: InputSchemaState, now: number): unknown {
  const ready = now >= i.readyAt;
  return {
    id: i.id,
    name: null,
    total_rows: ready ? i.upload.count : null,
    num_row_errors: ready ? i.num_row_errors : null,
    input_columns: i.input_columns,
    output_schemas: ready ? i.output_schemas.map((o) => outputSchemaBody(o, now)) : [],
    created_at: i.created_at,
  };
}

export function sourceLinks(s: SourceState): unknown {
  const p = `${BASE}/source/${s.id}`;
  const is = `${p}/schema/{input_schema_id}`;
  return {
    show: p,
    bytes: p,
    update: p,
    initiate: `${p}/initiate`,
    chunk: `${p}/chunk/{seq_num}/{byte_offset}`,
    commit: `${p}/chunk/{seq_num}/{byte_offset}/commit`,
    add_to_revision: p,
    input_schema_links: {
      show: is,
      transform: is,
      latest_output: `${is}/output/latest`,
      output_schema_links: {
        show: `${is}/output/{output_schema_id}`,
        rows: `${is}/rows/{output_schema_id}`,
        schema_errors: `${is}/errors/{output_schema_id}`,
        validate_row_id: `${is}/output/{output_schema_id}/validate_row_id/{transform_id}`,
      },
    },
  };
}

/** The source's `input_schema_links` with `{input_schema_id}` filled in. */
export function inputSchemaLinks(s: SourceState, inputSchemaId: number): unknown {
  const fill = (v: unknown): unknown =>
    typeof v === 'string'
      ? v.replace('{input_schema_id}', String(inputSchemaId))
      : Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fill(x)]));
  return fill((sourceLinks(s) as { input_schema_links: unknown }).input_schema_links);
}

export function sourceJson(s: SourceState): unknown {
  const now = Date.now();
  return {
    resource: {
      id: s.id,
      source_type: s.source_type,
      parse_options: s.parse_options,
      content_type: s.content_type,
      filesize: s.filesize,
      created_at: s.created_at,
      finished_at: s.finished_at,
      failed_at: s.failed_at,
      failure_details: s.failure_details,
      created_by: s.created_by,
      schemas: s.schemas.map((i) => inputSchemaBody(i, now)),
    },
    links: sourceLinks(s),
  };
}

export function outputSchemaJson(s: SourceState, o: OutputSchemaState): unknown {
  const p = `${BASE}/source/${s.id}/schema/${o.input_schema_id}`;
  return {
    resource: outputSchemaBody(o, Date.now()),
    links: {
      show: `${p}/output/${o.id}`,
      rows: `${p}/rows/${o.id}`,
      schema_errors: `${p}/errors/${o.id}`,
      validate_row_id: `${p}/output/${o.id}/validate_row_id/{transform_id}`,
    },
  };
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** CSV export of rows with errors: the file's line number, each column's input text, then the messages. */
export function errorsCsv(out: OutputSchemaState, entries: { offset: number; row: Cell[] }[]): string {
  const lines = [['line', ...out.output_columns.map((c) => c.field_name), 'errors'].map(csvCell).join(',')];
  for (const { offset, row } of entries) {
    const cells = row.map((cell) => ('error' in cell ? cell.error.input : (toCsvText(cell.ok) ?? '')));
    const messages = row.flatMap((cell, i) => ('error' in cell ? [`${out.output_columns[i]?.field_name ?? i}: ${cell.error.message}`] : []));
    lines.push([String(offset + 2), ...cells, messages.join('; ')].map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}
