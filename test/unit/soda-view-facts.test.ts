// The dataset facts every feature reads (public, write rights, row identifier, draft) come from parseView alone.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseView } from '../../src/soda/results';
import { canWrite } from '../../src/soda/view';

const base = {
  id: 'abcd-1234',
  name: 'Permits',
  owner: { id: 'pub1-usr1' },
  columns: [
    { id: 11, fieldName: 'permit_id', name: 'Permit', dataTypeName: 'text', position: 1 },
    { id: 12, fieldName: 'cost', name: 'Cost', dataTypeName: 'number', position: 2 },
  ],
};

describe('dataset facts from parseView', () => {
  it('public: a grant with the public flag; private: grants without it; unknown: no grants sent', () => {
    assert.equal(parseView({ ...base, grants: [{ type: 'viewer', flags: ['public'], inherited: false }] }).isPublic, true);
    assert.equal(parseView({ ...base, grants: [{ type: 'owner', userId: 'pub1-usr1' }] }).isPublic, false);
    assert.equal(parseView({ ...base, grants: [] }).isPublic, false);
    assert.equal(parseView(base).isPublic, undefined);
  });

  it('row identifier: by rowIdentifierColumnId, else metadata.rowIdentifier as a column id or a field name', () => {
    assert.equal(parseView({ ...base, rowIdentifierColumnId: 11 }).rowIdentifier, 'permit_id');
    assert.equal(parseView({ ...base, metadata: { rowIdentifier: 12 } }).rowIdentifier, 'cost');
    assert.equal(parseView({ ...base, metadata: { rowIdentifier: 'cost' } }).rowIdentifier, 'cost');
    assert.equal(parseView({ ...base, rowIdentifierColumnId: 99 }).rowIdentifier, undefined);
    assert.equal(parseView(base).rowIdentifier, undefined);
  });

  it('draft: publicationStage "unpublished"', () => {
    assert.equal(parseView({ ...base, publicationStage: 'unpublished' }).isDraft, true);
    assert.equal(parseView({ ...base, publicationStage: 'published' }).isDraft, false);
    assert.equal(parseView(base).isDraft, false);
  });

  it('write rights: from rights when sent (add allows an append only), else by ownership when the user is known', () => {
    const withRights = (rights: string[]) => parseView({ ...base, rights });
    assert.equal(canWrite(withRights(['read', 'write'])), true);
    assert.equal(canWrite(withRights(['read', 'add'])), false);
    assert.equal(canWrite(withRights(['read', 'add']), 'append'), true);
    assert.equal(canWrite(withRights(['read']), 'append'), false);
    // Rights win over ownership: an owner whose rights say read-only cannot write.
    assert.equal(canWrite(withRights(['read']), 'write', 'pub1-usr1'), false);
    const noRights = parseView(base);
    assert.equal(canWrite(noRights), undefined);
    assert.equal(canWrite(noRights, 'write', 'pub1-usr1'), true);
    assert.equal(canWrite(noRights, 'write', 'othr-usr1'), false);
  });

  it('a view without rights or owner: not writable for a known user, unknown otherwise', () => {
    const ownerless = parseView({ ...base, owner: undefined });
    assert.equal(ownerless.owner, undefined);
    assert.equal(canWrite(ownerless, 'write', 'pub1-usr1'), false);
    assert.equal(canWrite(ownerless, 'append', 'pub1-usr1'), false);
    assert.equal(canWrite(ownerless), undefined);
  });

  it('public: null or malformed grants are skipped, not read as public', () => {
    assert.equal(parseView({ ...base, grants: [null] }).isPublic, false);
    assert.equal(parseView({ ...base, grants: [null, { flags: ['public'] }] }).isPublic, true);
    assert.equal(parseView({ ...base, grants: ['public', 7, { flags: 'public' }, { flags: null }] }).isPublic, false);
  });
});
