// Projects: the ones the account may read anything in, searched and paged on the
// server, each linked to its scope; and a project opened by its name.
import { api } from './api.js';
import { field, h, mount, table } from './dom.js';
import { paged } from './pager.js';
import { href } from './scope.js';

const PER_PAGE = 50;

// The project's name, and its display name when that says more.
export const projectLabel = (p) => (p.display_name && p.display_name !== p.name ? `${p.name} (${p.display_name})` : p.name);

export async function renderProjects(main) {
  const query = h('input', { type: 'search', name: 'query' });
  const results = h('div', {});
  const search = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find projects' },
    field('Name contains', query), h('button', { type: 'submit' }, 'Search'));
  const load = () => paged(results, (token) => api('GET', '/projects', {
    query: { query: query.value.trim(), per_page: PER_PAGE, page_token: token },
  }), (page) => table('Projects', ['Name', 'Display name', 'Service accounts', 'Groups', 'Custom roles'],
    page.items.map((p) => h('tr', {},
      h('td', {}, h('a', { href: href('/', p.name) }, p.name)),
      h('td', {}, p.display_name),
      h('td', {}, String(p.sa_count)),
      h('td', {}, String(p.group_count)),
      h('td', {}, String(p.role_count))))), PER_PAGE, 'Project pages');
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });

  const name = h('input', { name: 'project', required: true, autocomplete: 'off', spellcheck: 'false' });
  const open = h('form', { class: 'filters', 'aria-labelledby': 'open-h' },
    field('Project name', name), h('button', { type: 'submit' }, 'Open project'));
  open.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = href('/', name.value.trim());
  });

  mount(main, h('h1', {}, 'Projects'),
    h('p', {}, 'Each project holds its own service accounts, groups, roles and audit trail. Open one to work in it, or go back to ',
      h('a', { href: href('/', null) }, 'the root'), '.'),
    search, results,
    h('h2', { id: 'open-h' }, 'Open a project by name'),
    h('p', {}, 'Type a project\'s name to open it without paging through the list.'),
    open);
  await load();
}
