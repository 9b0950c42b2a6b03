// The console's shell: sign-in, the header and navigation, and the router. Pages live at
// /ui/alerts, /ui/alerts/<id>, /ui/posture and /ui/trends; their state (filters, sort, page) is in
// the URL, so a view can be shared and the back button works.
import { ApiError, get, request, whenSignedOut, type NotifyStatus, type Whoami } from './api.js';
import { h, replace } from './dom.js';
import { alertsPage } from './alerts.js';
import { alertPage } from './detail.js';
import { posturePage } from './posture.js';
import { trendsPage } from './trends.js';

export interface PageContext {
  me: Whoami;
  url: URL;
  main: HTMLElement;
  /** Moves to another console URL (a history entry). */
  navigate(to: string, replaceEntry?: boolean): void;
  /** Runs `fn` every `ms` until the page changes. */
  every(ms: number, fn: () => void): void;
}

const root = document.getElementById('app')!;
let me: Whoami | undefined;
let timers: number[] = [];
let generation = 0;

function stopTimers(): void {
  for (const t of timers) clearInterval(t);
  timers = [];
}

function navigate(to: string, replaceEntry = false): void {
  if (replaceEntry) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  void route();
}

// Links inside the console move without a reload (new tab, modifier keys and downloads as usual).
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.hasAttribute('download') || a.getAttribute('href')?.startsWith('#')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui/')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => void route());
whenSignedOut(() => {
  if (!me) return;
  me = undefined;
  signIn('Your session has ended: sign in again.');
});

function signIn(message?: string): void {
  stopTimers();
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, message ?? '');
  const token = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help signin-error',
  });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin card', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to Bulwark'),
    h('label', { for: 'token' }, 'Bearer token'),
    token,
    h(
      'p',
      { id: 'token-help', class: 'muted' },
      'The token the alerts API accepts: one from api.tokenFile, or in a cluster a ServiceAccount token (kubectl create token NAME). It is kept in a secure, HttpOnly session cookie, never in the page.',
    ),
    button,
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    button.disabled = true;
    error.textContent = '';
    request<Whoami>('POST', '/ui/session', { token: token.value })
      .then((who) => {
        me = who;
        token.value = '';
        void route();
      })
      .catch((err: unknown) => {
        error.textContent = err instanceof ApiError ? err.message : 'cannot reach Bulwark';
        button.disabled = false;
        token.focus();
      });
  });
  replace(root, h('main', { id: 'main', class: 'signin-page' }, form));
  document.title = 'Sign in · Bulwark';
  token.focus();
}

async function signOut(): Promise<void> {
  await request('DELETE', '/ui/session').catch(() => undefined);
  me = undefined;
  history.pushState(null, '', '/ui/');
  signIn('Signed out.');
}

function shell(who: Whoami, path: string): HTMLElement {
  const link = (href: string, label: string) => h('a', { href, ...(path === href || path.startsWith(href + '/') ? { 'aria-current': 'page' } : {}) }, label);
  const signOutButton = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOutButton.addEventListener('click', () => void signOut());
  const banner = h('div', { id: 'banner', role: 'status' });
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(
    root,
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '/ui/alerts' }, h('img', { src: '/ui/assets/icon.svg', alt: '', width: 20, height: 20 }), 'Bulwark'),
      h('nav', { 'aria-label': 'Console' }, link('/ui/alerts', 'Alerts'), link('/ui/posture', 'Posture'), link('/ui/trends', 'Trends')),
      h(
        'div',
        { class: 'who' },
        h('span', { class: 'user', title: who.groups.join(', ') }, who.username),
        h('span', { class: `role ${who.canUpdate ? 'admin' : 'reader'}` }, who.canUpdate ? 'admin' : 'reader'),
        signOutButton,
      ),
    ),
    banner,
    main,
  );
  return main;
}

/** A sink whose deliveries fail, or wait for over five minutes, is shown above every page. */
async function sinkBanner(): Promise<void> {
  const banner = document.getElementById('banner');
  if (!banner) return;
  try {
    const { sinks } = await get<NotifyStatus>('/api/v1/notify');
    const stuck = sinks.filter((s) => s.failing > 0 || (s.oldestQueued && Date.now() - Date.parse(s.oldestQueued) > 5 * 60_000));
    replace(
      banner,
      stuck.length === 0
        ? null
        : h(
            'p',
            { class: 'warning' },
            `Alert forwarding is failing: ${stuck.map((s) => `${s.name} (${s.type}): ${s.pending} waiting${s.failing ? `, ${s.failing} failed attempts` : ''}`).join('; ')}. See bulwark_notify_* in /metrics and the server log.`,
          ),
    );
  } catch {
    // The page itself reports API errors.
  }
}

async function route(): Promise<void> {
  stopTimers();
  const mine = ++generation;
  if (!me) {
    let session: ({ signedIn: true } & Whoami) | { signedIn: false };
    try {
      session = await get<({ signedIn: true } & Whoami) | { signedIn: false }>('/ui/session');
    } catch (err) {
      if (mine !== generation) return;
      replace(root, h('main', { id: 'main' }, h('p', { class: 'error', role: 'alert' }, `Cannot reach Bulwark: ${(err as Error).message}`)));
      return;
    }
    if (mine !== generation) return;
    if (!session.signedIn) return signIn();
    me = { username: session.username, groups: session.groups, canUpdate: session.canUpdate };
  }
  const url = new URL(location.href);
  let path = url.pathname.replace(/\/+$/, '');
  if (path === '/ui' || path === '') {
    history.replaceState(null, '', '/ui/alerts' + url.search);
    path = '/ui/alerts';
  }
  const main = shell(me, path);
  void sinkBanner();
  const ctx: PageContext = {
    me,
    url,
    main,
    navigate,
    every(ms, fn) {
      timers.push(window.setInterval(fn, ms));
    },
  };
  ctx.every(60_000, () => void sinkBanner());
  const detail = /^\/ui\/alerts\/([^/]+)$/.exec(path);
  try {
    if (path === '/ui/alerts') await alertsPage(ctx);
    else if (detail) await alertPage(ctx, decodeURIComponent(detail[1]!));
    else if (path === '/ui/posture') await posturePage(ctx);
    else if (path === '/ui/trends') await trendsPage(ctx);
    else {
      document.title = 'Not found · Bulwark';
      replace(main, h('h1', {}, 'Not found'), h('p', {}, 'No console page here. ', h('a', { href: '/ui/alerts' }, 'Go to the alerts.')));
    }
  } catch (err) {
    if (mine !== generation) return;
    replace(main, h('p', { class: 'error', role: 'alert' }, (err as Error).message));
  }
}

void route();
