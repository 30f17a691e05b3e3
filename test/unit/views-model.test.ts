import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseDomain } from '../../src/soda/domain';
import { SodaError } from '../../src/soda/errors';
import {
  apiEndpoint,
  checkStatement,
  contextValue,
  formatCell,
  inlineCode,
  pagedStatement,
  parseDatasetRef,
  portalUrl,
  resultColumns,
  soqlTypeName,
  statementShape,
  Tokens,
  updatedText,
} from '../../src/datasets/model';

describe('views: context values', () => {
  it('joins the kind and present tokens, each ended by ";"', () => {
    assert.equal(contextValue('dataset', [Tokens.owned, false, Tokens.writable, undefined, Tokens.hasRowId]), 'dataset;owned;writable;hasRowId;');
    assert.equal(contextValue('domain'), 'domain;');
  });

  it('matches the manifest regexes only for the right nodes', () => {
    const datasetMenu = /^dataset;/;
    assert.ok(datasetMenu.test(contextValue('dataset', [Tokens.private])));
    assert.ok(!datasetMenu.test(contextValue('column', [Tokens.rowId])));
    assert.ok(/;writable;/.test(contextValue('dataset', [Tokens.owned, Tokens.writable])));
    assert.ok(!/;writable;/.test(contextValue('dataset', [Tokens.owned])));
  });
});

describe('views: Go to Dataset input', () => {
  it('accepts a bare 4x4 in any case', () => {
    assert.deepEqual(parseDatasetRef('  BLDG-PRMT '), { id: 'bldg-prmt', domain: undefined });
  });

  it('takes the domain and the last 4x4 of a pasted portal address', () => {
    const ref = parseDatasetRef('https://data.x.gov/Some/Name/abcd-1234');
    assert.equal(ref.id, 'abcd-1234');
    assert.equal(ref.domain?.host, 'data.x.gov');
    assert.equal(parseDatasetRef('https://data.x.gov/resource/wxyz-9876.json?$limit=5').id, 'wxyz-9876');
    assert.equal(parseDatasetRef('https://data.x.gov/d/abcd-1234#about').id, 'abcd-1234');
    assert.equal(parseDatasetRef('http://127.0.0.1:8080/api/views/tree-cnsu.json').domain?.origin, 'http://127.0.0.1:8080');
  });

  it('refuses text without a 4x4, and plain http to a non-loopback host, naming the problem', () => {
    assert.throws(
      () => parseDatasetRef(''),
      (e: unknown) => e instanceof SodaError && e.kind === 'invalid-input' && /empty/.test(e.message),
    );
    assert.throws(
      () => parseDatasetRef('building permits'),
      (e: unknown) => e instanceof SodaError && /neither a 4x4/.test(e.message),
    );
    assert.throws(
      () => parseDatasetRef('https://data.x.gov/Some/Name'),
      (e: unknown) => e instanceof SodaError && /no 4x4/.test(e.message),
    );
    assert.throws(
      () => parseDatasetRef('http://data.x.gov/d/abcd-1234'),
      (e: unknown) => e instanceof SodaError && e.field === 'domain',
    );
    assert.throws(
      () => parseDatasetRef('https://user:pw@data.x.gov/d/abcd-1234'),
      (e: unknown) => e instanceof SodaError && /user name or password/.test(e.message),
    );
  });

  it('builds portal and API URLs from a validated domain and id only', () => {
    const d = parseDomain('data.x.gov');
    assert.equal(portalUrl(d, 'abcd-1234'), 'https://data.x.gov/d/abcd-1234');
    assert.equal(apiEndpoint(parseDomain('127.0.0.1:9'), 'abcd-1234'), 'http://127.0.0.1:9/resource/abcd-1234.json');
    assert.throws(() => apiEndpoint(d, '../x'), SodaError);
  });
});

describe('views: SoQL statements', () => {
  it('ignores keywords inside string literals and back-quoted names', () => {
    assert.deepEqual(statementShape("SELECT * WHERE address = 'limit 5 order by x'"), {
      hasLimit: false,
      hasOffset: false,
      hasOrder: false,
      hasGroup: false,
      hasAggregate: false,
      hasDistinct: false,
    });
    assert.equal(statementShape('SELECT `limit` ORDER BY a').hasLimit, false);
    assert.equal(statementShape('select species, count(*) group by species').hasGroup, true);
  });

  it('appends a stable order and the page window unless the statement has its own LIMIT', () => {
    assert.deepEqual(pagedStatement('SELECT *', 100, 200), { statement: 'SELECT * ORDER BY :id LIMIT 100 OFFSET 200', paged: true });
    assert.deepEqual(pagedStatement('SELECT * ORDER BY valuation DESC;', 10, 0), {
      statement: 'SELECT * ORDER BY valuation DESC LIMIT 10 OFFSET 0',
      paged: true,
    });
    assert.deepEqual(pagedStatement('SELECT species, count(*) GROUP BY species', 10, 10), {
      statement: 'SELECT species, count(*) GROUP BY species LIMIT 10 OFFSET 10',
      paged: true,
    });
    assert.deepEqual(pagedStatement('SELECT * LIMIT 5', 100, 0), { statement: 'SELECT * LIMIT 5', paged: false });
  });

  it('adds no ORDER BY :id to an aggregate or DISTINCT query: one row as written, or paged by its own order', () => {
    assert.deepEqual(pagedStatement('SELECT count(*)', 100, 0), { statement: 'SELECT count(*)', paged: false });
    assert.deepEqual(pagedStatement('select SUM(valuation) as total where is_residential = true', 100, 0), {
      statement: 'select SUM(valuation) as total where is_residential = true',
      paged: false,
    });
    assert.deepEqual(pagedStatement('SELECT DISTINCT species', 10, 0), { statement: 'SELECT DISTINCT species LIMIT 10 OFFSET 0', paged: true });
    assert.deepEqual(pagedStatement('SELECT species, count(*) AS n GROUP BY species ORDER BY n DESC', 10, 20), {
      statement: 'SELECT species, count(*) AS n GROUP BY species ORDER BY n DESC LIMIT 10 OFFSET 20',
      paged: true,
    });
    // A function name inside a literal or the WHERE clause is not an aggregate.
    assert.equal(statementShape("SELECT * WHERE address = 'count(1)'").hasAggregate, false);
    assert.equal(statementShape('SELECT permit_id WHERE valuation > 5').hasAggregate, false);
  });

  it('explains what is wrong with a statement before it is sent', () => {
    assert.equal(checkStatement('SELECT * WHERE x > 1'), undefined);
    assert.match(checkStatement('') ?? '', /Enter a SoQL query/);
    assert.match(checkStatement('WHERE x > 1') ?? '', /starts with SELECT/);
    assert.match(checkStatement("SELECT * WHERE a = 'it''s") ?? '', /column 20 is not closed/);
    assert.match(checkStatement('SELECT * OFFSET 5') ?? '', /OFFSET needs a LIMIT/);
  });
});

describe('views: values and CSV', () => {
  it('formats the SODA JSON encodings as the CSV export writes them', () => {
    assert.equal(formatCell(null), '');
    assert.equal(formatCell('42.50'), '42.50');
    assert.equal(formatCell(true), 'true');
    assert.equal(formatCell({ type: 'Point', coordinates: [-87.65, 41.93] }), 'POINT (-87.65 41.93)');
    assert.equal(formatCell({ url: 'https://x.org/a' }), 'https://x.org/a');
    assert.equal(formatCell({ url: 'https://x.org/a', description: 'Site' }), 'Site (https://x.org/a)');
    assert.equal(formatCell({ latitude: '1' }), '{"latitude":"1"}');
  });

  it('takes columns from X-SODA2-Fields/Types, else from the rows in order of appearance', () => {
    assert.deepEqual(resultColumns([], ['a', 'b'], ['text', 'number']), [
      { name: 'a', type: 'text' },
      { name: 'b', type: 'number' },
    ]);
    assert.deepEqual(resultColumns([{ a: 1 }, { b: 2, a: 3 }], undefined, undefined), [
      { name: 'a', type: undefined },
      { name: 'b', type: undefined },
    ]);
  });

  it('maps legacy type names to SoQL names and writes update times', () => {
    assert.equal(soqlTypeName('calendar_date'), 'floating_timestamp');
    assert.equal(soqlTypeName('checkbox'), 'boolean');
    assert.equal(soqlTypeName('point'), 'point');
    const now = new Date('2026-11-27T12:00:00Z');
    assert.equal(updatedText('2026-11-27T01:00:00Z', now), 'updated today');
    assert.equal(updatedText('2026-11-24T11:00:00Z', now), 'updated 3 days ago');
    assert.equal(updatedText('2026-01-01T00:00:00Z', now), 'updated 2026-01-01');
    assert.equal(updatedText('not a date', now), undefined);
  });

  it('writes ids and field names as inline code shown literally (no backslash escapes), whatever backticks they hold', () => {
    assert.equal(inlineCode('permit_id'), '`permit_id`');
    assert.equal(inlineCode('bldg-prmt'), '`bldg-prmt`');
    assert.equal(inlineCode('a`b'), '``a`b``');
    assert.equal(inlineCode('`x``'), '``` `x`` ```');
    assert.equal(inlineCode('two\r\nlines'), '`two lines`');
  });
});
