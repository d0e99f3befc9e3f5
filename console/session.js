// The signed-in account and its secret, in this module's memory only: never in a URL,
// cookie, localStorage, sessionStorage or IndexedDB, so it is gone when the tab closes
// (or reloads).
let secret = null;
let me = null;

export function signIn(newSecret, account) {
  secret = newSecret;
  me = account;
}

export function signOut() {
  secret = null;
  me = null;
}

export const token = () => secret;
export const account = () => me;

// Whether the signed-in account holds `permission` (or `*`).
export function can(permission) {
  return Boolean(me && (me.permissions.includes('*') || me.permissions.includes(permission)));
}
