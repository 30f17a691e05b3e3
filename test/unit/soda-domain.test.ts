import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { assert4x4, isLoopbackHost, isValid4x4, parseDomain } from '../../src/soda/domain';
import { SodaError } from '../../src/soda/errors';

function refused(input: string, pattern: RegExp): void {
  assert.throws(
    () => parseDomain(input),
    (e: unknown) => {
      assert.ok(e instanceof SodaError, `${input}: not a SodaError`);
      assert.equal(e.kind, 'invalid-input');
      assert.equal(e.field, 'domain');
      assert.match(e.message, pattern, `${input}: ${e.message}`);
      return true;
    },
    input,
  );
}

describe('soda parseDomain', () => {
  it('accepts host names, defaulting to https', () => {
    const d = parseDomain('data.cityofchicago.org');
    assert.deepEqual(
      { ...d },
      {
        scheme: 'https',
        hostname: 'data.cityofchicago.org',
        port: undefined,
        host: 'data.cityofchicago.org',
        origin: 'https://data.cityofchicago.org',
        loopback: false,
      },
    );
    assert.equal(parseDomain('  Data.City.GOV  ').origin, 'https://data.city.gov');
    assert.equal(parseDomain('data.city.gov:8443').origin, 'https://data.city.gov:8443');
  });

  it('takes the origin of a pasted https address', () => {
    assert.equal(parseDomain('https://data.city.gov/').origin, 'https://data.city.gov');
    assert.equal(parseDomain('https://data.cityofchicago.org/Buildings/Building-Permits/ydr8-5enu?x=1#y').origin, 'https://data.cityofchicago.org');
    assert.equal(parseDomain('HTTPS://data.city.gov:443/').origin, 'https://data.city.gov');
    assert.equal(parseDomain('https://data.city.gov:443').port, undefined);
  });

  it('uses http for loopback hosts written without a scheme or with http://', () => {
    const d = parseDomain('127.0.0.1:8080');
    assert.equal(d.origin, 'http://127.0.0.1:8080');
    assert.equal(d.host, '127.0.0.1:8080');
    assert.equal(d.loopback, true);
    assert.equal(parseDomain('http://localhost:1234').origin, 'http://localhost:1234');
    assert.equal(parseDomain('localhost:1234').origin, 'http://localhost:1234');
    assert.equal(parseDomain('[::1]:8080').origin, 'http://[::1]:8080');
    assert.equal(parseDomain('http://[::1]:9/').hostname, '::1');
    assert.equal(parseDomain('127.8.9.10').origin, 'http://127.8.9.10');
    // https stays https on loopback when asked for.
    assert.equal(parseDomain('https://127.0.0.1:8443').origin, 'https://127.0.0.1:8443');
  });

  it('refuses plain http to anything but loopback', () => {
    refused('http://data.city.gov', /plain http/);
    refused('http://10.0.0.1:8080', /plain http/);
    refused('http://128.0.0.1', /plain http/);
    refused('http://localhost.evil.com', /plain http/);
  });

  it('refuses injection attempts with a reason', () => {
    refused('evil.com/', /without a path/);
    refused('data.city.gov/../admin', /without a path/);
    refused('../', /without a path/);
    refused('a@b', /user info/);
    refused('https://user:pass@data.city.gov', /user info/);
    refused('https://data.city.gov@evil.com', /user info/);
    refused('data.city.gov%2Fevil.com', /percent-escape/);
    refused('data city.gov', /spaces/);
    refused('data.city.gov\\evil', /backslash/);
    refused('data.city.gov?x=1', /without a path/);
    refused('data.city.gov#x', /without a path/);
    refused('ftp://data.city.gov', /scheme "ftp:"/);
    refused('javascript:alert(1)', /only https/);
    refused('', /empty/);
    refused('data.city.gov:0', /out of range/);
    refused('data.city.gov:70000', /out of range/);
    refused('data.city.gov:abc', /malformed/);
    refused('-bad-.gov', /not a valid host name/);
    refused('data..city.gov', /not a valid host name/);
    refused('999.1.1.1', /not a valid host name/);
    refused('[::1::2]:80', /IPv6/);
    refused('[::zz]:80', /malformed/);
    refused('https://', /missing/);
    refused('data.city.gov\u0000', /control/);
  });

  it('names the field and the input in the message', () => {
    try {
      parseDomain('evil.com/');
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof SodaError);
      assert.match(e.message, /^Invalid Socrata domain "evil\.com\/": /);
    }
  });

  it('knows loopback hosts', () => {
    for (const h of ['localhost', '127.0.0.1', '127.255.0.9', '::1', '[::1]', 'api.localhost']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['example.org', '10.0.0.1', '128.0.0.1', '::2', 'localhost.example.org', '0.0.0.0']) assert.ok(!isLoopbackHost(h), h);
  });
});

describe('soda 4x4 ids', () => {
  it('accepts exactly two groups of four lower-case letters or digits', () => {
    for (const id of ['bldg-prmt', 'ydr8-5enu', '0000-zzzz']) assert.ok(isValid4x4(id), id);
    for (const id of ['BLDG-PRMT', 'bldg_prmt', 'bldg-prm', 'bldg-prmtx', ' bldg-prmt', 'bldg-prmt/', '../x-yyyy', 'abcd-12%2', '', 42, null, undefined]) {
      assert.ok(!isValid4x4(id), String(id));
    }
  });

  it('refuses a value that only reads as a 4x4 when turned into a string (an array from JSON, an object)', () => {
    for (const id of [['bldg-prmt'], { toString: () => 'bldg-prmt' }, new String('bldg-prmt')]) assert.ok(!isValid4x4(id), JSON.stringify(id));
  });

  it('assert4x4 throws invalid-input naming the field', () => {
    assert.doesNotThrow(() => assert4x4('bldg-prmt'));
    assert.throws(
      () => assert4x4('../etc', 'dataset id'),
      (e: unknown) => e instanceof SodaError && e.kind === 'invalid-input' && e.field === 'dataset id' && /Invalid dataset id "\.\.\/etc"/.test(e.message),
    );
    assert.throws(
      () => assert4x4(undefined, 'user id'),
      (e: unknown) => e instanceof SodaError && /Invalid user id undefined/.test(e.message),
    );
  });
});
