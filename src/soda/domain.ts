// Validation of the things users type that end up in URLs: Socrata domains and 4x4 dataset ids.
// Nothing here builds a URL from unvalidated text; everything else in src/soda builds URLs from a
// `SodaDomain` returned by `parseDomain()` and ids checked by `assert4x4()`.
import { isIP } from 'node:net';
import { SodaError } from './errors';
import { isValid4x4 } from './ids';

export { isValid4x4 } from './ids';

/** A validated Socrata domain: where requests go and whether plain http is used. */
export interface SodaDomain {
  /** `https` everywhere; `http` only for loopback hosts. */
  readonly scheme: 'https' | 'http';
  /** Lower-case host name or IP address; IPv6 without brackets (`::1`). */
  readonly hostname: string;
  /** Explicit port, or undefined for the scheme's default. */
  readonly port: number | undefined;
  /** `host[:port]` as people write it (`data.city.gov`, `127.0.0.1:8080`, `[::1]:8080`). */
  readonly host: string;
  /** The origin requests are sent to, e.g. `https://data.city.gov` or `http://127.0.0.1:8080`. */
  readonly origin: string;
  /** True for 127.0.0.0/8, ::1 and localhost. */
  readonly loopback: boolean;
}

/**
 * The dataset and revision of a draft or working copy id as the catalog lists it to owners (`abcd-1234:7`), or
 * undefined for anything else.
 */
export function draftRef(id: unknown): { id: string; revision: number } | undefined {
  if (typeof id !== 'string') return undefined;
  const m = /^([a-z0-9]{4}-[a-z0-9]{4}):(\d{1,9})$/.exec(id);
  return m?.[1] && m[2] ? { id: m[1], revision: Number(m[2]) } : undefined;
}

/** Throws an `invalid-input` SodaError unless `id` is a 4x4 identifier. `what` names the field in the message. */
export function assert4x4(id: unknown, what = 'dataset id'): asserts id is string {
  if (!isValid4x4(id)) {
    const draft = draftRef(id);
    if (draft) {
      throw new SodaError({
        kind: 'invalid-input',
        message: `${JSON.stringify(id)} is a draft (revision ${draft.revision}) of ${draft.id}, not a dataset: SODA reads and writes only published datasets, so use ${draft.id} (the draft's changes show there once it is applied).`,
        field: what,
      });
    }
    const shown = typeof id === 'string' ? JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id) : String(id);
    throw new SodaError({
      kind: 'invalid-input',
      message: `Invalid ${what} ${shown}: expected a Socrata 4x4 identifier such as "abcd-1234" (two groups of four lower-case letters or digits joined by a dash).`,
      field: what,
    });
  }
}

/** True for 127.0.0.0/8, ::1 (with or without brackets) and `localhost` (also `*.localhost`). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function invalid(input: string, why: string): SodaError {
  const shown = JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}…` : input);
  return new SodaError({
    kind: 'invalid-input',
    message: `Invalid Socrata domain ${shown}: ${why}. Enter a host name such as "data.cityofchicago.org" (optionally with a port, or a full https:// portal address).`,
    field: 'domain',
  });
}

function validHostname(h: string): boolean {
  if (isIP(h) === 4) return true;
  if (h.length === 0 || h.length > 253) return false;
  const labels = h.split('.');
  // A trailing dot (fully-qualified form) is not accepted: it would create a second origin for the same site.
  return labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1] ?? '');
}

/**
 * Parses what a person typed as a Socrata domain.
 *
 * Accepted: `data.city.gov`, `data.city.gov:8443`, `https://data.city.gov/`, a full portal address pasted
 * from the browser (`https://data.city.gov/Permitting/Building-Permits/abcd-1234` → its origin),
 * `127.0.0.1:8080`, `localhost:1234`, `[::1]:8080`, `http://localhost:1234`.
 *
 * Scheme rules: https is the default. Plain http is used only for loopback hosts (127.0.0.0/8, localhost,
 * ::1), either because the user wrote `http://` or because the host is loopback and no scheme was given
 * (a local Socrata emulator or tunnel normally speaks plain http). `http://` with any other host is refused:
 * credentials must never travel unencrypted over a network.
 *
 * Refused (with an `invalid-input` SodaError naming the problem): user info (`a@b`, `https://u:p@host`),
 * a path, query or fragment after a bare host (`evil.com/`, `host/../x`), percent-escapes, spaces,
 * backslashes, other schemes, malformed host names and ports.
 */
export function parseDomain(input: string): SodaDomain {
  if (typeof input !== 'string') throw invalid(String(input), 'not text');
  const text = input.trim();
  if (text === '') throw invalid(input, 'it is empty');
  if (/[\s\\%@]/.test(text)) {
    const bad = /\s/.test(text) ? 'spaces' : text.includes('\\') ? 'a backslash' : text.includes('%') ? 'a percent-escape' : 'an "@" (user info)';
    throw invalid(input, `it contains ${bad}`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) throw invalid(input, 'it contains control characters');

  let scheme: 'https' | 'http' | undefined;
  let authority: string;
  const withScheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text);
  if (withScheme) {
    const s = (withScheme[1] ?? '').toLowerCase();
    if (s !== 'https' && s !== 'http') throw invalid(input, `the scheme "${s}:" is not supported (use https://)`);
    scheme = s;
    const rest = withScheme[2] ?? '';
    // A pasted portal address: keep only the authority (the origin), whatever path follows.
    const end = rest.search(/[/?#]/);
    authority = end === -1 ? rest : rest.slice(0, end);
  } else {
    if (/^[a-z][a-z0-9+-]*:(?!\d)/i.test(text) && !text.startsWith('[')) throw invalid(input, 'only https:// addresses are supported');
    if (/[/?#]/.test(text)) throw invalid(input, 'only a host name (and port) is allowed here, without a path, query or "/"');
    authority = text;
  }
  if (authority === '') throw invalid(input, 'the host name is missing');

  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!m) throw invalid(input, 'the host name or port is malformed');
  let hostname = (m[1] ?? '').toLowerCase();
  const portText = m[2];
  if (hostname.startsWith('[')) {
    hostname = hostname.slice(1, -1);
    if (isIP(hostname) !== 6) throw invalid(input, 'the IPv6 address is malformed');
  } else if (!validHostname(hostname)) {
    throw invalid(input, `"${hostname}" is not a valid host name`);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(input, `port ${portText} is out of range (1-65535)`);
  }
  const loopback = isLoopbackHost(hostname);
  if (scheme === undefined) scheme = loopback ? 'http' : 'https';
  if (scheme === 'http' && !loopback) {
    throw invalid(input, 'plain http:// is only allowed for this computer (localhost, 127.0.0.1, ::1); use https:// so that credentials are encrypted');
  }

  // Let the URL parser normalise (and double-check) what we validated by hand.
  const hostForUrl = isIP(hostname) === 6 ? `[${hostname}]` : hostname;
  const url = new URL(`${scheme}://${hostForUrl}${port !== undefined ? `:${port}` : ''}/`);
  if (url.username !== '' || url.password !== '' || url.pathname !== '/') throw invalid(input, 'the address is malformed');
  if (url.port !== '' && Number(url.port) !== port) throw invalid(input, 'the port is malformed');
  if (url.port === '') port = undefined; // default port written explicitly (https://x:443) → same origin as without
  return Object.freeze({
    scheme,
    hostname,
    port,
    host: url.host,
    origin: url.origin,
    loopback,
  });
}
