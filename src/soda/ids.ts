// The Socrata 4x4 dataset id pattern, with no Node or `vscode` import: shared by the engine (src/soda/domain.ts
// re-exports it) and by code bundled into webviews (src/publishing/protocol.ts).

/** A 4x4 id (`abcd-1234`, lower case), anchored. */
const FOUR_BY_FOUR = /^[a-z0-9]{4}-[a-z0-9]{4}$/;

/** True when `id` is a Socrata 4x4 identifier (`abcd-1234`, lower case). */
export function isValid4x4(id: unknown): id is string {
  return typeof id === 'string' && FOUR_BY_FOUR.test(id);
}
