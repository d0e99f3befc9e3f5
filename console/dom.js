import { currentProject, href } from './scope.js';

// A tiny element builder: h('button', {onclick, class: 'x'}, 'text', child, ...).
// Strings become text nodes (never HTML), so API data cannot inject markup.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else if (key === 'checked') el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

// Replaces the contents of `el` with `children`.
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// A labelled form field; `input` is an element built by the caller.
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', {}, hint) : null);
}

// `2026-11-22T10:00:00Z` as a short local date and time; '—' for none.
export function when(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleString();
}

// A `<table>` with a caption, header cells and rows of cells.
export function table(caption, heads, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: heads.length }, 'Nothing here.'))));
}

// An API failure as a message and the fields it names, never raw JSON. A 412 (someone
// else changed the object) offers `reload`.
export function errorBox(err, reload) {
  const details = (err && err.details) || [];
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, h('strong', {}, err.code ? `${err.code}: ` : 'Error: '), err.message || String(err)),
    details.length ? h('ul', {}, details.map((d) => h('li', {}, h('code', {}, d.field), ` ${d.reason}`))) : null,
    err.status === 412 && reload
      ? h('p', {}, 'Someone else changed this meanwhile. ',
        h('button', { type: 'button', onclick: reload }, 'Reload the latest version'))
      : null);
}

// Runs `action` and shows its failure in `slot` (emptied first); resolves to the
// action's result, or undefined after a failure.
export async function attempt(slot, action, reload) {
  mount(slot);
  try {
    return await action();
  } catch (err) {
    if (err && err.handled) return undefined;
    mount(slot, errorBox(err, reload));
    slot.querySelector('button')?.focus();
    return undefined;
  }
}

// A modal confirmation; resolves to true when confirmed. Escape or Cancel: false.
export function confirmDialog(message, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'aria-labelledby': 'confirm-text' },
      h('p', { id: 'confirm-text' }, message));
    const done = (ok) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const cancel = h('button', { type: 'button', onclick: () => done(false) }, 'Cancel');
    dialog.append(h('div', { class: 'actions' },
      cancel,
      h('button', { type: 'button', class: 'danger', onclick: () => done(true) }, confirmLabel)));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

// The current hash route's query parameters (`#/accounts?query=x`).
export function hashParams() {
  const hash = location.hash.slice(1);
  const i = hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
}

// Navigates to `path` with the non-empty `params` (`go('/accounts', {query})`), in
// `project`'s scope (default: the current one).
export function go(path, params = {}, project = currentProject()) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  const hash = `${href(path, project)}${s ? `?${s}` : ''}`;
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange')); // refresh
  else location.hash = hash;
}
