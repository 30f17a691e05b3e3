/** Small helpers for tests that talk to the emulator over HTTP. */
import { SAMPLE } from './seed';

export const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
export const PUBLISHER_AUTH = basic(SAMPLE.users.publisher.email, SAMPLE.users.publisher.password);
export const VIEWER_AUTH = basic(SAMPLE.users.viewer.email, SAMPLE.users.viewer.password);
export const OTHER_AUTH = basic(SAMPLE.users.other.email, SAMPLE.users.other.password);
export const KEY_AUTH = basic(SAMPLE.apiKey.keyId, SAMPLE.apiKey.keySecret);

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** fetch + JSON parse (body undefined when empty or not JSON). */
export async function call<T = unknown>(base: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<JsonResponse<T>> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const res = await fetch(new URL(path, base), { ...init, headers, body: body ?? null });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}
