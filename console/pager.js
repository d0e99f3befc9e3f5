// Paging by `page_token` inside one view: "Next" follows the answer's
// `next_page_token`, "Previous" goes back through the tokens seen, all in memory.
import { attempt, h, mount } from './dom.js';

// A list's `total_count` as shown: "1200+" when the server counted only part of the
// matches (`total_count_exact: false`, a lower bound), else the number.
export function totalText(page) {
  return page.total_count_exact === false ? `${page.total_count}+` : `${page.total_count}`;
}

// Renders into `into` the page `load(token)` answers, drawn by `draw(page)`, with a
// count ("Showing 1–50 of 120") and the buttons; `perPage` numbers the rows.
export async function paged(into, load, draw, perPage, label = 'Pages') {
  const tokens = [''];
  let index = 0;
  const slot = h('div', {});
  const body = h('div', { 'aria-live': 'polite' });
  mount(into, slot, body);
  const show = async () => {
    const page = await attempt(slot, () => load(tokens[index]));
    if (!page) {
      mount(body);
      return;
    }
    const first = index * perPage + 1;
    const shown = page.items.length ? `${first}–${first + page.items.length - 1}` : '0';
    const next = page.next_page_token;
    mount(body,
      h('p', { class: 'count' }, `Showing ${shown} of ${totalText(page)}`),
      draw(page),
      h('nav', { class: 'pager', 'aria-label': label },
        index > 0 ? h('button', { type: 'button', onclick: () => { index -= 1; show(); } }, 'Previous page') : null,
        next ? h('button', {
          type: 'button',
          onclick: () => {
            index += 1;
            tokens[index] = next;
            show();
          },
        }, 'Next page') : null));
  };
  await show();
}
