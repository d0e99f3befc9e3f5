// Roles: the list, a role's page with its permissions editor (the server's permissions
// as checkboxes, any other permission string as text); built-in roles are read only.
import { api, seg } from './api.js';
import { attempt, confirmDialog, field, go, h, mount, table, when } from './dom.js';
import { paged } from './pager.js';
import { can } from './session.js';
import { apiBase, currentProject, href } from './scope.js';

const PER_PAGE = 50;
const KNOWN = ['service_accounts:read', 'service_accounts:write', 'credentials:read', 'credentials:write',
  'groups:read', 'groups:write', 'roles:read', 'roles:write', 'audit:read', 'projects:read', 'projects:write',
  'admin', '*'];
const list = (s) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

export async function renderRoles(main) {
  const project = currentProject();
  const results = h('div', {});
  mount(main, h('h1', {}, 'Roles'),
    project ? h('p', {}, `The custom roles of ${project}. The built-in roles (admin, operator, viewer) and the root's custom roles may be bound in it too.`) : null,
    can('roles:write') ? createForm(project) : null, results);
  await paged(results, (token) => api('GET', `${apiBase(project)}/roles`, { query: { per_page: PER_PAGE, page_token: token } }),
    (page) => table('Roles', ['Name', 'Description', 'Permissions', 'Kind'], page.items.map((r) => h('tr', {},
      h('td', {}, h('a', { href: href(`/roles/${seg(r.name)}`, project) }, r.name)),
      h('td', {}, r.description || '—'),
      h('td', {}, r.permissions.join(', ')),
      h('td', {}, r.builtin ? h('span', { class: 'badge' }, 'built-in') : 'custom')))), PER_PAGE);
}

// Checkboxes for the server's permissions and a text field for the rest.
function permissionsEditor(current) {
  const boxes = KNOWN.map((p) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: p, checked: current.includes(p) }), ' ', h('code', {}, p)));
  const other = h('input', { name: 'other_permissions', value: current.filter((p) => !KNOWN.includes(p)).join(', ') });
  const element = h('fieldset', {}, h('legend', {}, 'Permissions'), h('div', { class: 'checks' }, boxes),
    field('Other permissions', other, 'comma-separated; opaque to keyhouse, carried into tokens'));
  const value = () => [...new Set([
    ...boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value),
    ...list(other.value),
  ])].sort();
  return { element, value };
}

function createForm(project) {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const description = h('input', { name: 'description' });
  const perms = permissionsEditor([]);
  const slot = h('div', {});
  const form = h('form', { class: 'card' },
    field('Name', name, 'a-z, 0-9 and -, at most 63'), field('Description', description), perms.element, slot,
    h('button', { type: 'submit' }, 'Create role'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: name.value.trim(), permissions: perms.value() };
    if (description.value.trim()) body.description = description.value.trim();
    const created = await attempt(slot, () => api('POST', `${apiBase(project)}/roles`, { body }));
    if (created) go(`/roles/${seg(created.name)}`, {}, project);
  });
  return h('details', { class: 'create' }, h('summary', {}, 'New role'), form);
}

// `project`: the scope (null: the root), when reloading.
export async function renderRole(main, name, project = currentProject()) {
  const at = { project, base: `${apiBase(project)}/roles/${seg(name)}` };
  const back = () => h('p', {}, h('a', { href: href('/roles', project) }, '← Roles'));
  const slot = h('div', {});
  mount(main, back(), slot);
  const r = await attempt(slot, () => api('GET', at.base));
  if (!r) return;
  const reload = () => renderRole(main, name, project);
  const editable = can('roles:write') && !r.builtin;
  const status = h('div', {});
  mount(main, back(),
    h('h1', {}, r.name, r.builtin ? h('small', {}, ' built-in, read only') : null),
    status,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Description'), h('dd', {}, r.description || '—'),
      h('dt', {}, 'Permissions'), h('dd', {}, r.permissions.map((p) => h('code', { class: 'perm' }, p))),
      h('dt', {}, 'Updated'), h('dd', {}, when(r.updated_at))),
    editable ? editForm(at, r, reload) : null,
    editable ? deleteForm(at, r, status, reload) : null);
}

function editForm(at, r, reload) {
  const description = h('input', { name: 'description', value: r.description });
  const perms = permissionsEditor(r.permissions);
  const slot = h('div', {});
  const form = h('form', { class: 'card', 'aria-label': 'Edit role' },
    h('h2', {}, 'Edit'), field('Description', description), perms.element, slot,
    h('button', { type: 'submit' }, 'Save changes'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    if (description.value !== r.description) body.description = description.value;
    const permissions = perms.value();
    if (JSON.stringify(permissions) !== JSON.stringify([...r.permissions].sort())) body.permissions = permissions;
    if (!Object.keys(body).length) {
      mount(slot, h('p', { role: 'status' }, 'Nothing changed.'));
      return;
    }
    const saved = await attempt(slot, () => api('PATCH', at.base, { body, etag: r.etag }), reload);
    if (saved) reload();
  });
  return form;
}

function deleteForm(at, r, status, reload) {
  const force = h('input', { type: 'checkbox', name: 'force' });
  return h('p', {}, h('label', { class: 'check' }, force, ' Also unbind it from every account and group holding it'), ' ',
    h('button', {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        if (!(await confirmDialog(`Delete the role ${r.name}?`, `Delete ${r.name}`))) return;
        const done = await attempt(status, async () => {
          await api('DELETE', at.base, { etag: r.etag, query: { force: force.checked ? 'true' : '' } });
          return true;
        }, reload);
        if (done) go('/roles', {}, at.project);
      },
    }, 'Delete role'));
}
