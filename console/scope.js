// The scope the console acts in: the root, or one project. It lives in the address
// (`#/accounts` at the root, `#/p/payments/accounts` in the project `payments`), so a
// view can be bookmarked and a reload keeps it, and each section calls the scope's API
// base: `/api/v1` at the root, `/api/v1/projects/{project}` in a project.
import { seg } from './api.js';

// Whether `text` is a name (of a project, service account, group or role): 1 to 63
// characters of a-z, 0-9 and -, not starting or ending with -. The console puts no
// other text from its address into an API path: `..` there would reach another scope
// once the browser resolves the path (`/api/v1/projects/../service-accounts` is the
// root's list), whatever the encoding.
export const isName = (text) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(text);

// One segment of the address, decoded; as written when it is no valid encoding
// (`%E0`), so that it is shown, and refused as a name, instead of breaking the page.
export function decode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// `#/p/payments/accounts/ci-bot?query=x` as { project: 'payments',
// path: '/accounts/ci-bot', query: 'query=x' }; `project` is null at the root, and
// whatever the address holds otherwise (`#/p/%2E%2E/accounts`: '..'), to be checked
// with isName before use.
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '');
  const i = raw.indexOf('?');
  let path = i < 0 ? raw : raw.slice(0, i);
  const query = i < 0 ? '' : raw.slice(i + 1);
  let project = null;
  const m = path.match(/^\/p\/([^/]*)(\/.*)?$/);
  if (m) {
    project = decode(m[1]);
    path = m[2] || '';
  }
  return { project, path, query };
}

// The project the page is in (null: the root).
export const currentProject = () => parseHash().project;

// The address (`#...`) of `path` (`/accounts/ci-bot`) in `project` (default: the
// current scope; null: the root).
export function href(path, project = currentProject()) {
  return `#${project ? `/p/${seg(project)}` : ''}${path}`;
}

// What the API paths of `project`'s scope start with, after `/api/v1`.
export function apiBase(project = currentProject()) {
  return project ? `/projects/${seg(project)}` : '';
}
