// Calls to keyhouse's public API with the session's secret. Failures throw ApiError,
// built from the contract's error body.
import { token } from './session.js';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
}

// Listeners for answers that change the whole page (401: back to sign-in).
const unauthorizedHandlers = [];
export const onUnauthorized = (fn) => unauthorizedHandlers.push(fn);

// `api('GET', '/service-accounts', {query: {...}, body, etag, secret})`: the parsed JSON
// answer (null for 204). `secret` overrides the session's (used by sign-in).
export async function api(method, path, opts = {}) {
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [key, value] of Object.entries(opts.query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  const headers = { Authorization: `Bearer ${opts.secret || token()}` };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.etag) headers['If-Match'] = `"${opts.etag}"`;
  let resp;
  try {
    resp = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `the server could not be reached (${e.message})`, []);
  }
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!resp.ok) {
    const err = body && body.error;
    const error = err
      ? new ApiError(resp.status, err.code, err.message, err.details)
      : new ApiError(resp.status, 'HTTP', `the server answered ${resp.status}`, []);
    if (resp.status === 401 && !opts.secret) {
      error.handled = true; // the page went back to sign-in, which says why
      unauthorizedHandlers.forEach((fn) => fn(error));
    }
    throw error;
  }
  return body;
}

// Encodes one path segment.
export const seg = (s) => encodeURIComponent(s);
