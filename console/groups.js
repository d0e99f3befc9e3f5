// Groups: the list, a group's page (fields, roles, members) and membership editing
// (add, remove or set, one transaction), showing the member list the server answers.
import { api, seg } from './api.js';
import { attempt, confirmDialog, field, go, h, mount, table, when } from './dom.js';
import { paged } from './pager.js';
import { can } from './session.js';
import { apiBase, currentProject, href } from './scope.js';

const PER_PAGE = 50;
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export async function renderGroups(main) {
  const project = currentProject();
  const query = h('input', { type: 'search', name: 'query' });
  const results = h('div', {});
  const search = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find groups' },
    field('Name contains', query), h('button', { type: 'submit' }, 'Search'));
  const load = () => paged(results, (token) => api('GET', `${apiBase(project)}/groups`, {
    query: { query: query.value.trim(), per_page: PER_PAGE, page_token: token },
  }), (page) => table('Groups', ['Name', 'Display name', 'Roles', 'Members'], page.items.map((g) => h('tr', {},
    h('td', {}, h('a', { href: href(`/groups/${seg(g.name)}`, project) }, g.name)),
    h('td', {}, g.display_name),
    h('td', {}, g.roles.join(', ') || '—'),
    h('td', {}, String(g.sa_count))))), PER_PAGE);
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  mount(main, h('h1', {}, 'Groups'), can('groups:write') ? createForm(project) : null, search, results);
  await load();
}

function createForm(project) {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const displayName = h('input', { name: 'display_name' });
  const description = h('input', { name: 'description' });
  const roles = h('input', { name: 'roles' });
  const slot = h('div', {});
  const form = h('form', { class: 'card' },
    field('Name', name, 'a-z, 0-9 and -, at most 63'), field('Display name', displayName),
    field('Description', description), field('Roles', roles, 'comma-separated'), slot,
    h('button', { type: 'submit' }, 'Create group'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: name.value.trim() };
    if (displayName.value.trim()) body.display_name = displayName.value.trim();
    if (description.value.trim()) body.description = description.value.trim();
    if (roles.value.trim()) body.roles = list(roles.value);
    const created = await attempt(slot, () => api('POST', `${apiBase(project)}/groups`, { body }));
    if (created) go(`/groups/${seg(created.name)}`, {}, project);
  });
  return h('details', { class: 'create' }, h('summary', {}, 'New group'), form);
}

// `answer`: the result of a membership change just made, shown by its form;
// `project`: the scope (null: the root), when reloading.
export async function renderGroup(main, name, answer, project = currentProject()) {
  const at = { project, base: `${apiBase(project)}/groups/${seg(name)}` };
  const back = () => h('p', {}, h('a', { href: href('/groups', project) }, '← Groups'));
  const slot = h('div', {});
  mount(main, back(), slot);
  const g = await attempt(slot, () => api('GET', at.base));
  if (!g) return;
  const reload = (membersAnswer) => renderGroup(main, name, membersAnswer, project);
  const write = can('groups:write');
  const status = h('div', {});
  const members = h('div', {});
  mount(main, back(),
    h('h1', {}, g.display_name, ' ', h('small', {}, g.name)),
    status,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Description'), h('dd', {}, g.description || '—'),
      h('dt', {}, 'Roles'), h('dd', {}, g.roles.join(', ') || '—'),
      h('dt', {}, 'Members'), h('dd', {}, String(g.sa_count)),
      h('dt', {}, 'Created'), h('dd', {}, when(g.created_at)),
      h('dt', {}, 'Updated'), h('dd', {}, when(g.updated_at))),
    write ? editForm(at, g, reload) : null,
    h('h2', {}, 'Members'),
    write ? membersForm(at, reload, answer) : null,
    members,
    write ? h('p', {}, h('button', {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        if (!(await confirmDialog(`Delete the group ${g.name}? Its members leave it; they are not deleted.`, `Delete ${g.name}`))) return;
        const done = await attempt(status, async () => {
          await api('DELETE', at.base, { etag: g.etag });
          return true;
        }, reload);
        if (done) go('/groups', {}, project);
      },
    }, 'Delete group')) : null);
  if (answer) main.querySelector('input[name=add]')?.focus(); // ready for the next change
  await showMembers(members, at);
}

async function showMembers(into, at) {
  await paged(into, (token) => api('GET', `${at.base}/members`, { query: { per_page: PER_PAGE, page_token: token } }),
    (page) => memberTable(page.items, at.project), PER_PAGE, 'Member pages');
}

function memberTable(items, project) {
  return table('Members', ['Name', 'Display name', 'Status'], items.map((a) => h('tr', {},
    h('td', {}, h('a', { href: href(`/accounts/${seg(a.name)}`, project) }, a.name)),
    h('td', {}, a.display_name),
    h('td', {}, h('span', { class: `badge ${a.status}` }, a.status)))));
}

function editForm(at, g, reload) {
  const displayName = h('input', { name: 'display_name', value: g.display_name });
  const description = h('input', { name: 'description', value: g.description });
  const roles = h('input', { name: 'roles', value: g.roles.join(', ') });
  const slot = h('div', {});
  const form = h('form', { class: 'card', 'aria-label': 'Edit group' },
    h('h2', {}, 'Edit'), field('Display name', displayName), field('Description', description),
    field('Roles', roles, 'comma-separated role names'), slot, h('button', { type: 'submit' }, 'Save changes'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    if (displayName.value !== g.display_name) body.display_name = displayName.value;
    if (description.value !== g.description) body.description = description.value;
    const newRoles = list(roles.value).sort();
    if (!same(newRoles, g.roles)) body.roles = newRoles;
    if (!Object.keys(body).length) {
      mount(slot, h('p', { role: 'status' }, 'Nothing changed.'));
      return;
    }
    const saved = await attempt(slot, () => api('PATCH', at.base, { body, etag: g.etag }), reload);
    if (saved) reload();
  });
  return form;
}

// Add and remove, or set: one PUT, which either holds entirely or changes nothing. The
// page is then read again (the group's etag changed with its count) and shows the
// member list the server answered.
function membersForm(at, reload, answer) {
  const add = h('input', { name: 'add' });
  const remove = h('input', { name: 'remove' });
  const set = h('input', { name: 'set' });
  const slot = h('div', {});
  const form = h('form', { class: 'card', 'aria-label': 'Change members' },
    h('p', {}, 'Comma-separated service-account names. The change is one transaction: all of it holds, or none (an unknown name changes nothing).'),
    field('Add', add), field('Remove', remove), field('Or set exactly', set, 'replaces the members; not with add or remove'),
    slot, h('button', { type: 'submit' }, 'Apply membership change'));
  if (answer) {
    const names = answer.items.map((a) => a.name);
    const n = answer.total_count;
    mount(slot, h('p', { role: 'status', class: 'notice' },
      `Done. The group now has ${n} member${n === 1 ? '' : 's'}`,
      names.length ? `: ${names.join(', ')}${n > names.length ? ', …' : ''}.` : '.'));
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    if (set.value.trim()) body.set = list(set.value);
    if (add.value.trim()) body.add = list(add.value);
    if (remove.value.trim()) body.remove = list(remove.value);
    const changed = await attempt(slot, () => api('PUT', `${at.base}/members`, { body }));
    if (changed) await reload(changed);
  });
  return form;
}
