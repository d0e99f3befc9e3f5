// Sign-in: a `kh_` secret, checked with GET /api/v1/me.
import { api } from './api.js';
import { attempt, field, h, mount } from './dom.js';
import { signIn } from './session.js';

export function renderSignIn(main, onSignedIn) {
  const input = h('input', { type: 'password', name: 'secret', autocomplete: 'off', required: true, spellcheck: 'false' });
  const slot = h('div', {});
  const form = h('form', { class: 'card narrow' },
    h('h1', {}, 'Sign in to keyhouse'),
    h('p', {}, 'Paste the secret (kh_…) of a service account. It stays in this tab\'s memory only and is forgotten when the tab closes or reloads.'),
    field('Secret', input),
    slot,
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const secret = input.value.trim();
    const me = await attempt(slot, () => api('GET', '/me', { secret }));
    if (!me) return;
    input.value = '';
    signIn(secret, me);
    onSignedIn();
  });
  mount(main, form);
  input.focus();
}
