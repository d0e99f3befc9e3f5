// The service-account list: server-side search (`query`), filters (status, group, role)
// and paging by `page_token`, one page at a time, so it stays fast however many
// accounts there are. The filters live in the URL's hash; the tokens of the pages
// already seen live in memory, for "Previous".
import { api, seg } from './api.js';
import { attempt, field, go, h, hashParams, mount, table, when } from './dom.js';
import { can } from './session.js';
import { apiBase, currentProject, href } from './scope.js';
import { showSecretOnce } from './credentials.js';
import { totalText } from './pager.js';

const PER_PAGE = 50;
// The page tokens seen for the current scope and filters, in order, and the one
// offered as next.
let trail = { key: null, tokens: [], next: null };

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

export async function renderAccounts(main) {
  const project = currentProject();
  const base = apiBase(project);
  const params = hashParams();
  const filters = {
    query: params.get('query') || '',
    status: params.get('status') || '',
    group: params.get('group') || '',
    role: params.get('role') || '',
  };
  const key = JSON.stringify({ project, ...filters });
  if (trail.key !== key) trail = { key, tokens: [], next: null };
  const pageToken = params.get('page_token') || '';

  const query = h('input', { type: 'search', name: 'query', value: filters.query });
  const status = h('select', { name: 'status' },
    ['', 'active', 'disabled'].map((s) => h('option', { value: s, selected: s === filters.status }, s || 'any')));
  const group = h('input', { type: 'text', name: 'group', value: filters.group });
  const role = h('input', { type: 'text', name: 'role', value: filters.role });
  const search = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find service accounts' },
    field('Name contains', query), field('Status', status), field('In group', group), field('Has role', role),
    h('button', { type: 'submit' }, 'Search'));
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    go('/accounts', { query: query.value.trim(), status: status.value, group: group.value.trim(), role: role.value.trim() }, project);
  });

  const slot = h('div', {});
  const results = h('div', { 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  mount(main, h('h1', {}, 'Service accounts'), can('service_accounts:write') ? createForm(project) : null, search, slot, results);

  const page = await attempt(slot, () => api('GET', `${base}/service-accounts`, {
    query: { ...filters, per_page: PER_PAGE, page_token: pageToken },
  }));
  if (!page) {
    mount(results);
    return;
  }
  if (!pageToken) {
    if (trail.tokens[0] !== '') trail.tokens = [''];
  } else if (!trail.tokens.includes(pageToken)) {
    // Reached by "Next page", or else (a pasted address) at an unknown position.
    if (pageToken === trail.next) trail.tokens.push(pageToken);
    else trail.tokens = [pageToken];
  }
  trail.next = page.next_page_token;
  const index = trail.tokens.indexOf(pageToken);
  const first = index * PER_PAGE + 1;
  // The position is known when this page was reached from the first one.
  const known = trail.tokens[0] === '';
  const shown = !page.items.length ? '0'
    : known ? `${first}–${first + page.items.length - 1}` : `${page.items.length}`;
  const rows = page.items.map((a) => h('tr', {},
    h('td', {}, h('a', { href: href(`/accounts/${seg(a.name)}`, project) }, a.name)),
    h('td', {}, a.display_name),
    h('td', {}, h('span', { class: `badge ${a.status}` }, a.expired ? 'expired' : a.status)),
    h('td', {}, a.roles.join(', ') || '—'),
    h('td', {}, String(a.active_credential_count)),
    h('td', {}, when(a.last_seen_at))));
  const prev = index > 0 ? trail.tokens[index - 1] : null;
  mount(results,
    h('p', { class: 'count' }, `Showing ${shown} of ${totalText(page)}`),
    table('Service accounts', ['Name', 'Display name', 'Status', 'Roles', 'Credentials', 'Last seen'], rows),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      index > 0 ? h('button', { type: 'button', onclick: () => go('/accounts', { ...filters, page_token: prev }, project) }, 'Previous page') : null,
      page.next_page_token ? h('button', { type: 'button', onclick: () => go('/accounts', { ...filters, page_token: page.next_page_token }, project) }, 'Next page') : null));
}

function createForm(project) {
  const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9]([a-z0-9\\-]{0,61}[a-z0-9])?', autocomplete: 'off' });
  const displayName = h('input', { name: 'display_name' });
  const description = h('input', { name: 'description' });
  const roles = h('input', { name: 'roles' });
  const groups = h('input', { name: 'groups' });
  const days = h('input', { name: 'days_valid', type: 'number', min: 1, max: 730 });
  const slot = h('div', {});
  const form = h('form', { class: 'card' },
    field('Name', name, 'a-z, 0-9 and -, at most 63'), field('Display name', displayName), field('Description', description),
    field('Roles', roles, 'comma-separated'), field('Groups', groups, 'comma-separated'),
    field('Days valid', days, 'empty: never expires'), slot,
    h('button', { type: 'submit' }, 'Create service account'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // A first secret, shown once on the account's page.
    const body = { name: name.value.trim(), initial_secret: {} };
    if (displayName.value.trim()) body.display_name = displayName.value.trim();
    if (description.value.trim()) body.description = description.value.trim();
    if (roles.value.trim()) body.roles = list(roles.value);
    if (groups.value.trim()) body.groups = list(groups.value);
    if (days.value) body.days_valid = Number(days.value);
    const created = await attempt(slot, () => api('POST', `${apiBase(project)}/service-accounts`, { body }));
    if (!created) return;
    const secret = created.secret?.secret || created.token;
    if (secret) showSecretOnce(created.id, secret);
    go(`/accounts/${seg(created.name)}`, {}, project);
  });
  return h('details', { class: 'create' }, h('summary', {}, 'New service account'), form);
}
