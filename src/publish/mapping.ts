// The column mapping of a plan: which CSV column goes to which field, with which type. For a new dataset the field
// names come from the headers and the types from the head's sample; for an existing one the headers are matched to
// its fields (or as the request maps them), and a type the server would check differently is refused.
import { columnTypeOf, matchHeaders, normaliseFieldName, type ColumnType } from '../csv';
import type { ViewMetadata } from '../soda';
import { PublishError } from './errors';
import type { ColumnMappingEntry, PublishRequest } from './types';

export interface Mapping {
  columns: ColumnMappingEntry[];
  warnings: string[];
}

export function buildMapping(header: string[], req: PublishRequest, view: ViewMetadata | undefined, sampleTypes: ColumnType[]): Mapping {
  const warnings: string[] = [];
  const explicit = req.mapping ?? {};
  for (const key of Object.keys(explicit)) {
    if (!header.includes(key)) {
      throw new PublishError('invalid-input', `mapping: the CSV has no column "${key}" (its columns: ${header.join(', ')}).`, `mapping.${key}`);
    }
  }
  const types = req.types ?? {};
  if (view === undefined) {
    // New dataset: field names from the headers, types from the sample unless overridden.
    const columns = header.map((h, i): ColumnMappingEntry => {
      const target = Object.prototype.hasOwnProperty.call(explicit, h) ? explicit[h] : normaliseFieldName(h);
      if (target === null) return { csvIndex: i, csvHeader: h, fieldName: undefined, type: undefined, note: 'ignored in the mapping' };
      const fieldName = target ?? normaliseFieldName(h);
      if (!/^[a-z_][a-z0-9_]*$/.test(fieldName)) {
        throw new PublishError('invalid-input', `mapping.${h}: "${fieldName}" is not a valid field name (lower-case letters, digits and "_").`, `mapping.${h}`);
      }
      return { csvIndex: i, csvHeader: h, fieldName, type: types[fieldName] ?? sampleTypes[i] ?? 'text' };
    });
    const seen = new Set<string>();
    for (const c of columns) {
      if (c.fieldName === undefined) continue;
      if (seen.has(c.fieldName)) {
        throw new PublishError(
          'invalid-input',
          `mapping: two columns would both become the field "${c.fieldName}"; rename one in the mapping.`,
          `mapping.${c.csvHeader}`,
        );
      }
      seen.add(c.fieldName);
    }
    for (const f of Object.keys(types)) {
      if (!seen.has(f)) throw new PublishError('invalid-input', `types.${f}: no column of the file becomes the field "${f}".`, `types.${f}`);
    }
    return { columns, warnings };
  }
  const dsColumns = view.columns.filter((c) => !c.fieldName.startsWith(':'));
  const byField = new Map(dsColumns.map((c) => [c.fieldName, c]));
  const matches = matchHeaders(header, dsColumns, 0.85);
  const unmatched: string[] = [];
  const columns = header.map((h, i): ColumnMappingEntry => {
    let fieldName: string | undefined;
    if (Object.prototype.hasOwnProperty.call(explicit, h)) {
      const target = explicit[h];
      if (target === null) return { csvIndex: i, csvHeader: h, fieldName: undefined, type: undefined, note: 'ignored in the mapping' };
      if (target !== undefined && !byField.has(target)) {
        throw new PublishError(
          'invalid-input',
          `mapping.${h}: dataset ${view.id} has no field "${target}" (its fields: ${[...byField.keys()].join(', ')}).`,
          `mapping.${h}`,
        );
      }
      fieldName = target;
    } else {
      fieldName = matches[i]?.fieldName;
    }
    const col = fieldName !== undefined ? byField.get(fieldName) : undefined;
    if (!col) {
      if (h !== 'error') unmatched.push(h);
      return { csvIndex: i, csvHeader: h, fieldName: undefined, type: undefined, note: 'no matching field' };
    }
    const own = columnTypeOf(col.dataTypeName);
    const chosen = types[col.fieldName];
    // The server checks every cell against the field's own type, whatever is chosen here: a choice it would refuse
    // (text for a number field lets "n/a" through to a refused batch) is refused now. Any type fits a text field.
    const numeric = (t: string): string => (t === 'double' ? 'number' : t);
    if (chosen !== undefined && numeric(chosen) !== numeric(own) && own !== 'text' && own !== 'unsupported') {
      throw new PublishError(
        'invalid-input',
        `types.${col.fieldName}: the field ${col.fieldName} of ${view.id} is ${own}, and the server checks its cells as ${own} whatever type is chosen here; "${chosen}" would let through values it refuses. Keep ${own} (and fix the cells it finds), or change the field's type on the portal.`,
        `types.${col.fieldName}`,
      );
    }
    const type = chosen ?? own;
    if (type === 'unsupported') {
      throw new PublishError(
        'invalid-input',
        `${h}: the field ${col.fieldName} has the type ${col.dataTypeName}, which cannot be written from a CSV.`,
        `mapping.${h}`,
      );
    }
    return { csvIndex: i, csvHeader: h, fieldName: col.fieldName, type };
  });
  const seen = new Map<string, string>();
  for (const c of columns) {
    if (c.fieldName === undefined) continue;
    const other = seen.get(c.fieldName);
    if (other !== undefined) {
      throw new PublishError(
        'invalid-input',
        `mapping: the CSV columns "${other}" and "${c.csvHeader}" both go to the field ${c.fieldName}; ignore one of them.`,
        `mapping.${c.csvHeader}`,
      );
    }
    seen.set(c.fieldName, c.csvHeader);
  }
  // One warning per unmatched column, up to 10; a file with thousands of extra columns gets one summary.
  for (const h of unmatched.slice(0, 10)) {
    warnings.push(`The CSV column "${h}" matches no field of ${view.id} and is not sent (map it in the mapping, or ignore it with null).`);
  }
  if (unmatched.length > 10) {
    warnings.push(`${unmatched.length - 10} more CSV columns match no field of ${view.id} and are not sent (${unmatched.length} in all).`);
  }
  return { columns, warnings };
}
