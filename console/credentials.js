// An account's credentials: the list with expiry and last use (expiring within 14 days
// stands out), a new secret or public key, rotation with a grace period, revocation
// with confirmation. A new secret is shown once, with a copy button.
import { api, seg } from './api.js';
import { attempt, confirmDialog, field, h, mount, table, when } from './dom.js';
import { can } from './session.js';

const SOON_DAYS = 14;
let pending = null; // { account, secret }: a secret to show once on the page of the account with that id

// Keeps `secret` of the new account whose id is `account`, to show once on its page.
export function showSecretOnce(account, secret) {
  pending = { account, secret };
}

function secretPanel(secret) {
  const out = h('output', { class: 'secret' }, secret);
  const copied = h('span', { role: 'status' });
  const panel = h('div', { class: 'secret-once', role: 'alert' },
    h('p', {}, h('strong', {}, 'Copy this secret now: you will not see it again.')),
    out,
    h('p', {},
      h('button', {
        type: 'button',
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(secret);
            copied.textContent = 'Copied.';
          } catch {
            getSelection().selectAllChildren(out);
            copied.textContent = 'Selected: press Ctrl+C to copy.';
          }
        },
      }, 'Copy secret'), ' ', copied,
      h('button', { type: 'button', onclick: () => panel.remove() }, 'Done')));
  return panel;
}

function expiry(c, now) {
  if (c.expired) return h('span', { class: 'badge expired' }, `expired ${when(c.expires_at)}`);
  if (!c.expires_at) return 'never';
  const days = (new Date(c.expires_at) - now) / 86400000;
  if (days < SOON_DAYS) return h('span', { class: 'badge soon' }, `${when(c.expires_at)} (soon)`);
  return when(c.expires_at);
}

// `base`: the account's API path (`/service-accounts/x` or `/projects/p/service-accounts/x`).
export async function renderCredentials(section, account, base) {
  const reload = () => renderCredentials(section, account, base);
  const slot = h('div', {});
  const shown = h('div', {});
  if (pending && pending.account === account.id) {
    mount(shown, secretPanel(pending.secret));
    pending = null;
  }
  mount(section, h('h2', { id: 'cred-h' }, 'Credentials'), shown, slot);
  const page = await attempt(slot, () => api('GET', `${base}/credentials`, { query: { per_page: 100 } }));
  if (!page) return;
  const write = can('credentials:write');
  const now = new Date();
  const rows = page.items.map((c) => h('tr', {},
    h('td', {}, c.name || '—'),
    h('td', {}, c.type),
    h('td', {}, h('code', {}, c.prefix || c.fingerprint || '')),
    h('td', {}, when(c.created_at)),
    h('td', {}, expiry(c, now)),
    h('td', {}, when(c.last_used_at)),
    write ? h('td', {}, h('button', {
      type: 'button',
      class: 'danger',
      'aria-label': `Revoke ${c.name || c.id}`,
      onclick: async () => {
        if (!(await confirmDialog(`Revoke the ${c.type === 'public_key' ? 'public key' : 'secret'} ${c.name || c.id}? It stops working at once.`, 'Revoke'))) return;
        const done = await attempt(slot, async () => {
          await api('DELETE', `${base}/credentials/${seg(c.id)}`);
          return true;
        });
        if (done) reload();
      },
    }, 'Revoke')) : null));
  const heads = ['Name', 'Type', 'Prefix or fingerprint', 'Created', 'Expires', 'Last used'];
  section.append(table('Credentials', write ? [...heads, 'Actions'] : heads, rows));
  if (!write) return;

  const show = (created) => {
    pending = { account: account.id, secret: created.secret };
    reload();
  };

  const secretName = h('input', { name: 'name' });
  const secretExpires = h('input', { name: 'expires_at', placeholder: '2027-01-31T00:00:00Z' });
  const newSecret = h('form', { class: 'card', 'aria-label': 'New secret' },
    h('h3', {}, 'New secret'), field('Name', secretName), field('Expires at', secretExpires, 'RFC 3339; empty: the server default'),
    h('button', { type: 'submit' }, 'Create secret'));
  newSecret.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { type: 'secret' };
    if (secretName.value.trim()) body.name = secretName.value.trim();
    if (secretExpires.value.trim()) body.expires_at = secretExpires.value.trim();
    const created = await attempt(slot, () => api('POST', `${base}/credentials`, { body }));
    if (created) show(created);
  });

  const keyName = h('input', { name: 'name' });
  const pem = h('textarea', { name: 'public_key', rows: 5, required: true, placeholder: '-----BEGIN PUBLIC KEY-----' });
  const newKey = h('form', { class: 'card', 'aria-label': 'Add public key' },
    h('h3', {}, 'Add public key'), field('Name', keyName), field('Public key (PEM, EC P-256 or Ed25519)', pem),
    h('button', { type: 'submit' }, 'Add public key'));
  newKey.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { type: 'public_key', public_key: pem.value.trim() };
    if (keyName.value.trim()) body.name = keyName.value.trim();
    const created = await attempt(slot, () => api('POST', `${base}/credentials`, { body }));
    if (created) reload();
  });

  const grace = h('input', { name: 'grace_period_seconds', type: 'number', min: 0, max: 86400, value: 0 });
  const rotate = h('form', { class: 'card', 'aria-label': 'Rotate secret' },
    h('h3', {}, 'Rotate secret'),
    h('p', {}, 'Issues a new secret; every other secret of this account expires after the grace period.'),
    field('Grace period (seconds)', grace, '0 to 86400'),
    h('button', { type: 'submit' }, 'Rotate'));
  rotate.addEventListener('submit', async (e) => {
    e.preventDefault();
    const created = await attempt(slot, () => api('POST', `${base}/rotate-secret`, { body: { grace_period_seconds: Number(grace.value || 0) } }));
    if (created) show(created);
  });
  section.append(h('div', { class: 'forms' }, newSecret, newKey, rotate));
}
