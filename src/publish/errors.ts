// The publish engine's own error: what cannot work (refused) or what was typed wrong (invalid-input), always with a
// message that says why and what to do, and the field it is about.
export type PublishErrorKind = 'refused' | 'invalid-input';

export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    readonly kind: PublishErrorKind,
    message: string,
    /** The request/spec field the problem is about (`mode`, `dataset`, `mapping.<header>`, `file`, …). */
    readonly field?: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

export function isPublishError(e: unknown): e is PublishError {
  return e instanceof PublishError;
}
