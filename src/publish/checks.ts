// The checks a plan makes before reading any row: the request's shape, whether the target can be written, how a
// server refusal or an unreadable file is told, and the plan's one-sentence explanation of the route.
import { CsvError } from '../csv';
import { canWrite, draftRef, isSodaError, isValid4x4, type ViewMetadata } from '../soda';
import { PublishError } from './errors';
import { PUBLISH_MODES, type PublishRequest, type PublishRoute } from './types';

export const DEFAULT_BATCH_SIZE = 10_000;
export const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 3;
const TABLE_DISPLAY_TYPES = new Set(['table', 'fatrow', 'page']);

function checkInt(value: number | undefined, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PublishError('invalid-input', `${field}: must be a whole number from ${min} to ${max} (got ${String(value)}).`, field);
  }
  return value;
}

/** Checks the request's shape (mode, ids, numbers). Throws PublishError naming the field. */
export function checkRequest(req: PublishRequest): void {
  if (!(PUBLISH_MODES as readonly string[]).includes(req.mode)) {
    throw new PublishError('invalid-input', `mode: must be one of ${PUBLISH_MODES.join(', ')} (got ${JSON.stringify(req.mode)}).`, 'mode');
  }
  if (req.mode === 'create') {
    if (req.dataset !== undefined) {
      throw new PublishError('invalid-input', 'dataset: mode create makes a new dataset; leave out the dataset id (or choose another mode).', 'dataset');
    }
    if (!req.newDataset || typeof req.newDataset.name !== 'string' || req.newDataset.name.trim() === '') {
      throw new PublishError('invalid-input', 'new.name: a new dataset needs a name.', 'new.name');
    }
  } else {
    if (req.dataset === undefined) {
      throw new PublishError('invalid-input', `dataset: mode ${req.mode} needs the 4x4 id of an existing dataset (or use mode create with a name).`, 'dataset');
    }
    const draft = draftRef(req.dataset);
    if (draft) {
      throw new PublishError(
        'invalid-input',
        `dataset: ${JSON.stringify(req.dataset)} is a draft (revision ${draft.revision}) of ${draft.id}; publish to ${draft.id} (a publish opens its own revision).`,
        'dataset',
      );
    }
    if (!isValid4x4(req.dataset)) {
      throw new PublishError('invalid-input', `dataset: ${JSON.stringify(req.dataset)} is not a 4x4 id such as "abcd-1234".`, 'dataset');
    }
  }
  checkInt(req.batchSize, 'batchSize', 1, 100_000, DEFAULT_BATCH_SIZE);
  checkInt(req.batchBytes, 'batchBytes', 1024, 256 * 1024 * 1024, DEFAULT_BATCH_BYTES);
  checkInt(req.concurrency, 'concurrency', 1, 8, DEFAULT_CONCURRENCY);
}

/** Refuses targets that cannot be written: derived views, missing rights. */
export function checkWritable(view: ViewMetadata, mode: PublishRequest['mode']): void {
  const raw = view.raw;
  const displayType = typeof raw.displayType === 'string' ? raw.displayType : undefined;
  const modifying = typeof raw.modifyingViewUid === 'string' ? raw.modifyingViewUid : undefined;
  if (
    (view.viewType !== undefined && view.viewType !== 'tabular') ||
    (displayType !== undefined && !TABLE_DISPLAY_TYPES.has(displayType)) ||
    modifying !== undefined
  ) {
    const parent = modifying !== undefined ? ` Publish to its source dataset ${modifying} instead.` : ' Publish to the dataset it is based on instead.';
    throw new PublishError(
      'refused',
      `${view.id} ("${view.name}") is a ${displayType ?? view.viewType ?? 'derived'} view, not a dataset table: rows cannot be written to it.${parent}`,
      'dataset',
    );
  }
  if (view.rights !== undefined) {
    if (!canWrite(view, mode === 'append' ? 'append' : 'write')) {
      const owner = view.owner?.displayName ?? view.owner?.id;
      throw new PublishError(
        'refused',
        `You may read ${view.id} ("${view.name}") but not write to it: the "${mode === 'append' ? 'write" or "add' : 'write'}" right is missing (your rights: ${view.rights.join(', ') || 'none'}). Ask its owner${owner ? ` (${owner})` : ''} to share it with you as an editor, or sign in as a user who has it.`,
        'dataset',
      );
    }
  }
}

export function explain(route: PublishRoute, mode: PublishRequest['mode'], rid: string | undefined, dataset: string | undefined): string {
  return route === 'revision' ? `${explainRoute(route, mode, rid, dataset)} ${SERVER_CHECK}` : explainRoute(route, mode, rid, dataset);
}

/** The revision route's guarantee, said once for every mode that takes it. */
const SERVER_CHECK =
  'The server checks every row of the upload; if it refuses any, nothing is applied (unless bad rows are skipped) and the refused rows are written to the error-rows file.';

function explainRoute(route: PublishRoute, mode: PublishRequest['mode'], rid: string | undefined, dataset: string | undefined): string {
  switch (mode) {
    case 'create':
      return 'A new dataset is created through a revision: the file is uploaded as it is, the server builds the columns, and the dataset appears only when everything is applied.';
    case 'replace':
      return `All rows of ${dataset} are replaced through a revision: the file is uploaded as it is and applied in one step, so readers see the old rows or the new ones, never a mix.`;
    case 'sync':
      return `Rows are upserted to ${dataset} in batches through /resource, matched on the row identifier ${rid}; then the rows whose ${rid} is not in the file are deleted. Each batch is safe to repeat.`;
    case 'delete':
      return route === 'revision'
        ? `The rows listed in the file are deleted from ${dataset} through a revision, all at once.`
        : `The rows listed in the file (by ${rid}) are deleted from ${dataset} in batches through /resource; each batch is safe to repeat.`;
    case 'upsert':
      return route === 'revision'
        ? `Rows are upserted to ${dataset} through a revision, all at once (matched on ${rid}).`
        : `Rows are upserted to ${dataset} in batches through /resource, matched on the row identifier ${rid}: rows with a known ${rid} are updated, others created. Each batch is safe to repeat, so an interrupted publish resumes where it stopped.`;
    case 'append':
      return route === 'revision'
        ? `Rows are appended to ${dataset} through a revision: all of them or none.`
        : rid === undefined
          ? `Rows are appended to ${dataset} in batches through /resource. The dataset has no row identifier, so a batch whose answer is lost cannot be re-sent safely: the publish stops and names the lines to check (choose the revision route for an all-or-nothing append).`
          : `Rows are added to ${dataset} in batches through /resource (matched on ${rid}, so repeating a batch is safe).`;
  }
}

export function describeSodaFailure(e: unknown, dataset: string, domain: string): PublishError | undefined {
  if (!isSodaError(e)) return undefined;
  if (e.kind === 'not-found') {
    return new PublishError(
      'refused',
      `Dataset ${dataset} was not found on ${domain}. Check the id, or sign in: a private dataset is invisible to others.`,
      'dataset',
      e,
    );
  }
  if (e.kind === 'auth') {
    return new PublishError(
      'refused',
      `${domain} refused the credentials or the access to ${dataset} (${e.serverMessage ?? e.message}). Check the key id and secret (or email and password) and that this user may see the dataset.`,
      'credentials',
      e,
    );
  }
  return undefined;
}

/**
 * A CSV that cannot be read (unterminated quote, bad encoding, a huge field) is a refusal like any other: its
 * message already names the file, line and column. A cancel stays a cancel.
 */
export function unreadable(e: unknown): never {
  if (e instanceof CsvError && e.code !== 'ABORTED') throw new PublishError('invalid-input', e.message, 'file', e);
  throw e;
}
