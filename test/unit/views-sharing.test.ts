// The dataset browser's sharing logic without VS Code: the account's role from a view's grants.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roleLabel, roleOf } from '../../src/datasets/model';

describe('views: sharing model', () => {
  it("finds the account's own role among the grants, the strongest when several", () => {
    const grants = [
      { inherited: false, type: 'viewer', flags: ['public'] },
      { inherited: false, type: 'viewer', userId: 'abcd-1234', flags: [] },
      { inherited: false, type: 'contributor', userId: 'abcd-1234', flags: [] },
      { inherited: false, type: 'owner', userId: 'wxyz-9876', flags: [] },
    ];
    assert.equal(roleOf(grants, 'abcd-1234'), 'contributor');
    assert.equal(roleOf(grants, 'wxyz-9876'), 'owner');
    assert.equal(roleOf(grants, 'none-0000'), undefined);
    assert.equal(roleOf(grants, undefined), undefined);
    assert.equal(roleOf('not a list', 'abcd-1234'), undefined);
    assert.equal(roleOf([{ type: 'admin', userId: 'abcd-1234' }, null, 7], 'abcd-1234'), undefined);
    assert.deepEqual((['owner', 'contributor', 'viewer'] as const).map(roleLabel), ['co-owner', 'editor', 'viewer']);
  });
});
