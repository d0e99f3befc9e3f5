// One service account: its fields, status switch, roles, groups, metadata and expiry
// (saved with If-Match, so a concurrent change is a 412 with a reload), delete with
// confirmation, and its credentials.
import { api, seg } from './api.js';
import { attempt, confirmDialog, field, go, h, mount, when } from './dom.js';
import { can } from './session.js';
import { apiBase, currentProject, href } from './scope.js';
import { renderCredentials } from './credentials.js';

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Drawn in the current scope; `project` (null: the root) when reloading.
export async function renderAccount(main, name, project = currentProject()) {
  const at = { project, base: `${apiBase(project)}/service-accounts/${seg(name)}` };
  const back = () => h('p', {}, h('a', { href: href('/accounts', project) }, '← Service accounts'));
  const slot = h('div', {});
  mount(main, back(), slot);
  const a = await attempt(slot, () => api('GET', at.base));
  if (!a) return;
  const reload = () => renderAccount(main, name, project);
  const write = can('service_accounts:write');
  const status = h('div', {});
  const heading = h('h1', { tabindex: '-1' }, a.display_name, ' ', h('small', {}, a.name));
  mount(main,
    back(),
    heading,
    status,
    h('dl', { class: 'facts' },
      fact('Status', h('span', { class: `badge ${a.status}` }, a.expired ? 'expired' : a.status)),
      fact('Description', a.description || '—'),
      fact('Client id', h('code', {}, a.client_id)),
      fact('Id', h('code', {}, a.id)),
      fact('Roles', a.roles.join(', ') || '—'),
      fact('Groups', a.groups.length
        ? a.groups.map((g, i) => [i ? ', ' : '', can('groups:read') ? h('a', { href: href(`/groups/${seg(g.name)}`, project) }, g.name) : g.name])
        : '—'),
      fact('Expires', when(a.expires_at)),
      fact('Created', `${when(a.created_at)} by ${a.created_by?.name || '—'}`),
      fact('Updated', when(a.updated_at)),
      fact('Last seen', when(a.last_seen_at)),
      fact('Active credentials', String(a.active_credential_count))),
    write ? statusSwitch(at, a, status, reload) : null,
    write ? editForm(at, a, reload) : null,
    can('groups:write') ? groupsForm(at, a, reload) : null,
    write ? deleteButton(at, a, status, reload) : null,
    can('credentials:read') ? h('section', { id: 'credentials', 'aria-labelledby': 'cred-h' }) : null);
  if (can('credentials:read')) await renderCredentials(main.querySelector('#credentials'), a, at.base);
}

function fact(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

// `at`: the account's scope and API path.
function statusSwitch(at, a, slot, reload) {
  const to = a.status === 'active' ? 'disabled' : 'active';
  return h('p', {}, h('button', {
    type: 'button',
    class: to === 'disabled' ? 'danger' : null,
    onclick: async () => {
      const ok = await attempt(slot, () => api('PATCH', at.base, { body: { status: to }, etag: a.etag }), reload);
      if (ok) reload();
    },
  }, to === 'disabled' ? 'Disable account' : 'Enable account'));
}

function editForm(at, a, reload) {
  const displayName = h('input', { name: 'display_name', value: a.display_name });
  const description = h('textarea', { name: 'description' }, a.description || '');
  const roles = h('input', { name: 'roles', value: a.roles.join(', ') });
  const expires = h('input', { name: 'expires_at', value: a.expires_at || '', placeholder: '2027-01-31T00:00:00Z' });
  const meta = metadataEditor(a.metadata || {});
  const slot = h('div', {});
  const form = h('form', { class: 'card', 'aria-label': 'Edit account' },
    h('h2', {}, 'Edit'),
    field('Display name', displayName), field('Description', description),
    field('Roles', roles, 'comma-separated role names'),
    field('Expires at', expires, 'RFC 3339 in UTC; empty: never'),
    meta.element, slot, h('button', { type: 'submit' }, 'Save changes'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    if (displayName.value !== a.display_name) body.display_name = displayName.value;
    if (description.value !== (a.description || '')) body.description = description.value;
    const newRoles = list(roles.value).sort();
    if (!same(newRoles, a.roles)) body.roles = newRoles;
    if (expires.value.trim() !== (a.expires_at || '')) body.expires_at = expires.value.trim() || null;
    const metadata = meta.value();
    if (!same(metadata, a.metadata || {})) body.metadata = metadata;
    if (!Object.keys(body).length) {
      mount(slot, h('p', { role: 'status' }, 'Nothing changed.'));
      return;
    }
    const saved = await attempt(slot, () => api('PATCH', at.base, { body, etag: a.etag }), reload);
    if (saved) reload();
  });
  return form;
}

// Rows of key and value inputs; `value()` reads them back as an object.
function metadataEditor(metadata) {
  const rows = h('div', { class: 'rows' });
  const addRow = (k = '', v = '') => {
    const key = h('input', { 'aria-label': 'Metadata key', value: k, class: 'meta-key' });
    const val = h('input', { 'aria-label': 'Metadata value', value: v, class: 'meta-value' });
    const row = h('div', { class: 'row' }, key, val,
      h('button', { type: 'button', 'aria-label': `Remove metadata ${k || 'row'}`, onclick: () => row.remove() }, 'Remove'));
    rows.append(row);
    return key;
  };
  Object.entries(metadata).forEach(([k, v]) => addRow(k, v));
  const element = h('fieldset', {}, h('legend', {}, 'Metadata'), rows,
    h('button', { type: 'button', onclick: () => addRow().focus() }, 'Add metadata'));
  const value = () => {
    const out = {};
    rows.querySelectorAll('.row').forEach((row) => {
      const k = row.querySelector('.meta-key').value.trim();
      if (k) out[k] = row.querySelector('.meta-value').value;
    });
    return Object.fromEntries(Object.entries(out).sort(([x], [y]) => (x < y ? -1 : 1)));
  };
  return { element, value };
}

function groupsForm(at, a, reload) {
  const groups = h('input', { name: 'set_groups', value: a.groups.map((g) => g.name).join(', ') });
  const slot = h('div', {});
  const form = h('form', { class: 'card', 'aria-label': 'Groups' },
    h('h2', {}, 'Groups'), field('Member of', groups, 'comma-separated group names; saved as one change'),
    slot, h('button', { type: 'submit' }, 'Save groups'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const saved = await attempt(slot, () => api('PUT', `${at.base}/groups`, { body: { set_groups: list(groups.value) } }), reload);
    if (saved) reload();
  });
  return form;
}

function deleteButton(at, a, slot, reload) {
  return h('p', {}, h('button', {
    type: 'button',
    class: 'danger',
    onclick: async () => {
      if (!(await confirmDialog(`Delete the service account ${a.name} with all its credentials and memberships?`, `Delete ${a.name}`))) return;
      const done = await attempt(slot, async () => {
        await api('DELETE', at.base, { etag: a.etag });
        return true;
      }, reload);
      if (done) go('/accounts', {}, at.project);
    },
  }, 'Delete account'));
}
