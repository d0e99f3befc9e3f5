// The audit trail: filtered by actor, target, action and time range on the server,
// paged by `page_token`; each event's changes as from / to.
import { api } from './api.js';
import { field, go, h, hashParams, mount, table, when } from './dom.js';
import { paged } from './pager.js';
import { apiBase, currentProject } from './scope.js';

const PER_PAGE = 50;
const FILTERS = ['actor', 'target', 'action', 'since', 'until'];

// `datetime-local` (the browser's local time) to RFC 3339 in UTC, and back.
const toUtc = (local) => (local ? new Date(local).toISOString().replace(/\.\d+Z$/, 'Z') : '');
const toLocal = (utc) => {
  if (!utc) return '';
  const d = new Date(utc);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};

const show = (v) => (v === undefined || v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

function changes(event) {
  const entries = Object.entries(event.changes || {});
  if (!entries.length) return '—';
  return h('table', { class: 'changes' },
    h('caption', { class: 'sr-only' }, `Changes of event ${event.seq}`),
    h('thead', {}, h('tr', {}, ['Field', 'From', 'To'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, entries.map(([k, c]) => h('tr', {},
      h('th', { scope: 'row' }, k), h('td', {}, h('code', {}, show(c && c.from))), h('td', {}, h('code', {}, show(c && c.to)))))));
}

export async function renderAudit(main) {
  const project = currentProject();
  const params = hashParams();
  const inputs = {
    actor: h('input', { name: 'actor', value: params.get('actor') || '' }),
    target: h('input', { name: 'target', value: params.get('target') || '' }),
    action: h('input', { name: 'action', value: params.get('action') || '', placeholder: 'service_account.create' }),
    since: h('input', { name: 'since', type: 'datetime-local', value: toLocal(params.get('since')) }),
    until: h('input', { name: 'until', type: 'datetime-local', value: toLocal(params.get('until')) }),
  };
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events' },
    field('Actor', inputs.actor, 'name or id'), field('Target', inputs.target, 'name or id'),
    field('Action', inputs.action), field('Since', inputs.since), field('Until', inputs.until),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go('/audit', {
      actor: inputs.actor.value.trim(), target: inputs.target.value.trim(), action: inputs.action.value.trim(),
      since: toUtc(inputs.since.value), until: toUtc(inputs.until.value),
    }, project);
  });
  const results = h('div', {});
  mount(main, h('h1', {}, 'Audit trail'), form, results);
  const query = { per_page: PER_PAGE };
  for (const f of FILTERS) query[f] = params.get(f) || '';
  await paged(results, (token) => api('GET', `${apiBase(project)}/audit-events`, { query: { ...query, page_token: token } }),
    (page) => table('Audit events, oldest first', ['#', 'At', 'Actor', 'Action', 'Target', 'Changes'], page.items.map((ev) => h('tr', {},
      h('td', {}, String(ev.seq)),
      h('td', {}, when(ev.at)),
      h('td', {}, ev.actor ? ev.actor.name || ev.actor.id : '—'),
      h('td', {}, h('code', {}, ev.action)),
      h('td', {}, ev.target ? `${ev.target.kind} ${ev.target.name || ev.target.id}` : '—'),
      h('td', {}, changes(ev))))), PER_PAGE);
}
