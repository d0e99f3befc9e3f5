// The console's shell: sign-in, the navigation (only what the account may read), and
// the hash router (`#/accounts`, `#/accounts/ci-bot`, ...).
import { onUnauthorized } from './api.js';
import { h, mount } from './dom.js';
import { account, can, signOut } from './session.js';
import { renderSignIn } from './signin.js';
import { renderAccounts } from './accounts.js';
import { renderAccount } from './account.js';
import { renderGroup, renderGroups } from './groups.js';
import { renderRole, renderRoles } from './roles.js';
import { renderAudit } from './audit.js';

const sections = [
  { path: '/accounts', label: 'Service accounts', permission: 'service_accounts:read' },
  { path: '/groups', label: 'Groups', permission: 'groups:read' },
  { path: '/roles', label: 'Roles', permission: 'roles:read' },
  { path: '/audit', label: 'Audit trail', permission: 'audit:read' },
];

const routes = [
  { pattern: /^\/accounts$/, view: renderAccounts },
  { pattern: /^\/accounts\/([^/?]+)$/, view: renderAccount },
  { pattern: /^\/groups$/, view: renderGroups },
  { pattern: /^\/groups\/([^/?]+)$/, view: renderGroup },
  { pattern: /^\/roles$/, view: renderRoles },
  { pattern: /^\/roles\/([^/?]+)$/, view: renderRole },
  { pattern: /^\/audit$/, view: renderAudit },
];

const main = () => document.getElementById('main');
const top = () => document.getElementById('top');
let notice = null; // shown once on the sign-in page (e.g. after a 401)

function renderHeader() {
  const me = account();
  if (!me) {
    mount(top(), h('span', { class: 'brand' }, 'keyhouse'));
    return;
  }
  const current = location.hash.slice(1).split('?')[0];
  mount(top(),
    h('span', { class: 'brand' }, 'keyhouse'),
    h('nav', { 'aria-label': 'Sections' }, h('ul', {},
      sections.filter((s) => can(s.permission)).map((s) => h('li', {},
        h('a', { href: `#${s.path}`, 'aria-current': current.startsWith(s.path) ? 'page' : null }, s.label))))),
    h('span', { class: 'who' }, 'Signed in as ', h('strong', {}, me.name)),
    h('button', { type: 'button', onclick: doSignOut }, 'Sign out'));
}

function doSignOut() {
  signOut();
  notice = 'Signed out.';
  history.replaceState(null, '', '/ui/');
  route();
}

function home() {
  const first = sections.find((s) => can(s.permission));
  return first ? first.path : '/nothing';
}

// Each view draws into a fresh element: a view still waiting for the API when the
// address changes draws into an element no longer on the page, never over the next.
async function route() {
  renderHeader();
  const view = h('div', {});
  mount(main(), view);
  if (!account()) {
    const msg = notice;
    notice = null;
    renderSignIn(view, () => {
      location.hash = `#${home()}`;
      route();
    });
    if (msg) view.prepend(h('p', { class: 'notice', role: 'status' }, msg));
    return;
  }
  const path = location.hash.slice(1).split('?')[0] || home();
  for (const r of routes) {
    const m = path.match(r.pattern);
    if (m) {
      const params = m.slice(1).map(decodeURIComponent);
      await r.view(view, ...params);
      return;
    }
  }
  mount(view, h('h1', {}, 'Nothing to show'),
    h('p', {}, 'This account may not read any section of the console.'));
}

onUnauthorized(() => {
  signOut();
  notice = 'Your session is no longer valid (the secret was revoked, expired or its account disabled). Sign in again.';
  route();
});

window.addEventListener('hashchange', route);
route();
