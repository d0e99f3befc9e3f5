// The console's shell: sign-in, the scope switcher (the root or a project), the
// navigation (only what the account may read), and the hash router (`#/accounts`,
// `#/accounts/ci-bot`, `#/p/payments/accounts`, ...).
import { api, onUnauthorized } from './api.js';
import { h, mount } from './dom.js';
import { account, can, signOut } from './session.js';
import { renderSignIn } from './signin.js';
import { renderAccounts } from './accounts.js';
import { renderAccount } from './account.js';
import { renderGroup, renderGroups } from './groups.js';
import { renderRole, renderRoles } from './roles.js';
import { renderAudit } from './audit.js';
import { projectLabel, renderProjects } from './projects.js';
import { decode, href, isName, parseHash } from './scope.js';

const sections = [
  { path: '/accounts', label: 'Service accounts', permission: 'service_accounts:read' },
  { path: '/groups', label: 'Groups', permission: 'groups:read' },
  { path: '/roles', label: 'Roles', permission: 'roles:read' },
  { path: '/audit', label: 'Audit trail', permission: 'audit:read' },
];

// `names`: what the address's parts taken by `pattern` name (each must be a name).
const routes = [
  { pattern: /^\/accounts$/, view: renderAccounts },
  { pattern: /^\/accounts\/([^/?]+)$/, view: renderAccount, names: ['service-account'] },
  { pattern: /^\/groups$/, view: renderGroups },
  { pattern: /^\/groups\/([^/?]+)$/, view: renderGroup, names: ['group'] },
  { pattern: /^\/roles$/, view: renderRoles },
  { pattern: /^\/roles\/([^/?]+)$/, view: renderRole, names: ['role'] },
  { pattern: /^\/audit$/, view: renderAudit },
];
// Server-wide pages: at the root only.
const rootRoutes = [
  { pattern: /^\/projects$/, view: renderProjects },
];

const main = () => document.getElementById('main');
const top = () => document.getElementById('top');
let notice = null; // shown once on the sign-in page (e.g. after a 401)

// The first page (100 at most) of the projects the account may list, as last read:
// { items, more } (more: how many were left out), or { forbidden: true } once the
// account was refused the list (it holds no permission at all; it is not asked again).
// Each switcher draws it at once and then reads it again, so that a project made
// meanwhile appears after the next navigation.
let projectsSeen = null;
function readProjects() {
  const me = account();
  if (projectsSeen && projectsSeen.forbidden) return Promise.resolve(projectsSeen);
  const keep = (answer) => {
    if (account() === me) projectsSeen = answer; // not after a sign-out
    return answer;
  };
  return api('GET', '/projects', { query: { per_page: 100 } }).then(
    (page) => keep({ items: page.items, more: page.next_page_token ? page.total_count - page.items.length : 0 }),
    (err) => keep(err.status === 403 ? { forbidden: true } : { items: [], more: 0 }));
}

// The header in `project` (null: the root) on `path`; `readList`: false to draw the
// switcher from the list as last read, without asking the server.
function renderHeader(project = null, path = '', readList = true) {
  const me = account();
  if (!me) {
    mount(top(), h('span', { class: 'brand' }, 'keyhouse'));
    return;
  }
  mount(top(),
    h('span', { class: 'brand' }, 'keyhouse'),
    me.project ? projectBadge(me.project) : switcher(project, path, readList),
    h('nav', { 'aria-label': 'Sections' }, h('ul', {},
      sections.filter((s) => can(s.permission)).map((s) => h('li', {},
        h('a', { href: href(s.path, project), 'aria-current': path.startsWith(s.path) ? 'page' : null }, s.label))))),
    h('span', { class: 'who' }, 'Signed in as ', h('strong', {}, me.name)),
    h('button', { type: 'button', onclick: doSignOut }, 'Sign out'));
}

// A project account acts in its project only: no other scope is offered.
function projectBadge(project) {
  return h('span', { class: 'scope in-project' }, 'Project ', h('strong', {}, project));
}

// A root account acts at the root and in every project: "Root" and the projects it
// may list, switched by "Switch" (the same section in the chosen scope); "All
// projects" searches and pages them all.
function switcher(project, path, readList) {
  const select = h('select', { id: 'scope-select', name: 'project' },
    h('option', { value: '', selected: !project }, 'Root'),
    project ? h('option', { value: project, selected: true }, project) : null);
  const form = h('form', { class: `scope${project ? ' in-project' : ''}` },
    h('label', { for: 'scope-select' }, 'Project'), select,
    h('button', { type: 'submit' }, 'Switch'),
    h('a', { href: '#/projects', 'aria-current': path === '/projects' ? 'page' : null }, 'All projects'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const section = sections.find((s) => path.startsWith(s.path));
    navigate(href(section ? section.path : '/', select.value || null));
  });
  const fill = ({ items = [], more = 0 }) => {
    const key = JSON.stringify([items.map((p) => [p.name, p.display_name]), more]);
    if (select.dataset.list === key) return; // as drawn: an open list is left alone
    select.dataset.list = key;
    const chosen = select.value;
    mount(select,
      h('option', { value: '' }, 'Root'),
      project && !items.some((p) => p.name === project) ? h('option', { value: project }, project) : null,
      items.map((p) => h('option', { value: p.name }, projectLabel(p))),
      more ? h('option', { value: '', disabled: true }, `${more} more: see All projects`) : null);
    select.value = chosen;
  };
  if (projectsSeen) fill(projectsSeen);
  if (readList) readProjects().then(fill);
  return form;
}

function doSignOut() {
  signOut();
  projectsSeen = null;
  notice = 'Signed out.';
  history.replaceState(null, '', '/ui/');
  route();
}

// The first section the account may read.
function home() {
  const first = sections.find((s) => can(s.permission));
  return first ? first.path : '/nothing';
}

// Goes to `hash`, or draws it again when the page is there already.
function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// Keeps the address in a scope the account may act in, and names the section shown
// (`#/p/payments` is the first section in payments): a project account always in its
// project, a server-wide page at the root only.
function settle(me) {
  let { project, path, query } = parseHash();
  if (me.project && project !== me.project) {
    project = me.project;
    path = '';
    query = '';
  }
  if (project !== null && !isName(project)) return { project, path }; // refused as written, by route
  if (path === '' || path === '/' || (project && rootRoutes.some((r) => r.pattern.test(path)))) path = home();
  const hash = `${href(path, project)}${query ? `?${query}` : ''}`;
  if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  return { project, path };
}

// Each view draws into a fresh element: a view still waiting for the API when the
// address changes draws into an element no longer on the page, never over the next.
async function route() {
  const me = account();
  const view = h('div', {});
  if (!me) {
    renderHeader();
    mount(main(), view);
    const msg = notice;
    notice = null;
    document.title = 'keyhouse console';
    // The address is kept: after sign-in the page it names is drawn.
    renderSignIn(view, () => {
      projectsSeen = null;
      route();
    });
    if (msg) view.prepend(h('p', { class: 'notice', role: 'status' }, msg));
    return;
  }
  const { project, path } = settle(me);
  if (project !== null && !isName(project)) {
    renderHeader(null, '', false);
    mount(main(), view);
    document.title = 'keyhouse console';
    notAName(view, 'project', project, null);
    return;
  }
  document.title = project ? `${project} · keyhouse console` : 'keyhouse console';
  for (const r of project ? routes : [...routes, ...rootRoutes]) {
    const m = path.match(r.pattern);
    if (!m) continue;
    const params = m.slice(1).map(decode);
    const wrong = (r.names || []).findIndex((_, i) => !isName(params[i]));
    renderHeader(project, path, wrong < 0);
    mount(main(), view);
    if (wrong < 0) await r.view(view, ...params);
    else notAName(view, r.names[wrong], params[wrong], project);
    return;
  }
  renderHeader(project, path);
  mount(main(), view);
  mount(view, h('h1', {}, 'Nothing to show'),
    h('p', {}, 'This account may not read any section of the console.'));
}

// An address naming a `kind` of object (in `project`; null: the root) by `text`, which
// is no name: said on the page, and nothing is asked of the server (see isName).
function notAName(view, kind, text, project) {
  mount(view, h('h1', {}, 'Not a valid address'),
    h('div', { class: 'error', role: 'alert' },
      h('p', {}, h('strong', {}, `Not a ${kind} name: `), text ? h('code', { class: 'name' }, text) : '(empty)'),
      h('p', {}, 'A name is 1 to 63 lowercase letters (a to z), digits and hyphens, not starting or ending with a hyphen. ',
        'Nothing was asked of the server.')),
    h('p', {}, h('a', { href: href(home(), project) }, project ? `Back to ${project}` : 'Back to the root')));
}

onUnauthorized(() => {
  signOut();
  projectsSeen = null;
  notice = 'Your session is no longer valid (the secret was revoked, expired or its account disabled). Sign in again.';
  route();
});

window.addEventListener('hashchange', route);
route();
