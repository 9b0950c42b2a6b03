// The alerts table: filters and free-text search in the URL, sortable columns, cursor pages over
// any number of alerts (the server reads one page), and new alerts without a reload (polling).
import { get, SEVERITIES, SOURCES, STATUSES, type Alert, type Summary } from './api.js';
import { h, numberFormat, replace, time } from './dom.js';
import type { PageContext } from './app.js';

const FILTERS = ['q', 'severity', 'status', 'source', 'type', 'namespace', 'cluster', 'since', 'until'] as const;
const SORTABLE: Record<string, string> = { severity: 'Severity', count: 'Count', firstSeen: 'First seen', lastSeen: 'Last seen' };
export const PAGE_SIZE = 50;
const POLL_MS = 10_000;

export function severityBadge(severity: string): HTMLElement {
  return h('span', { class: `sev sev-${severity}` }, severity);
}

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `status status-${status}` }, status);
}

function resourceText(a: Alert): string {
  return a.resource?.name ? `${a.resource.kind}/${a.resource.name}` : (a.resource?.kind ?? '');
}

/** The API query of this page's URL (the same names: the URL is the API's query). */
function apiQuery(url: URL, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const name of [...FILTERS, 'sort', 'order', 'continue']) {
    const v = url.searchParams.get(name);
    if (v) q.set(name, v);
  }
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

function select(name: string, label: string, options: string[], value: string | null): HTMLElement {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: `f-${name}` }, label),
    h('select', { id: `f-${name}`, name }, h('option', { value: '' }, 'any'), ...options.map((o) => h('option', { value: o, selected: o === value }, o))),
  );
}

function input(name: string, label: string, value: string | null, attrs: Record<string, string> = {}): HTMLElement {
  return h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), h('input', { id: `f-${name}`, name, value: value ?? '', ...attrs }));
}

/** datetime-local value (local time) of an RFC 3339 instant, and back. */
function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  return new Date(t.getTime() - t.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function filterForm(ctx: PageContext): HTMLFormElement {
  const p = ctx.url.searchParams;
  const since = p.get('since');
  const presets = ['1h', '24h', '7d', '30d'];
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter alerts' },
    h(
      'div',
      { class: 'field grow' },
      h('label', { for: 'f-q' }, 'Search'),
      h('input', { id: 'f-q', name: 'q', type: 'search', value: p.get('q') ?? '', placeholder: 'title, message, pod, user, IP…', maxlength: 200 }),
    ),
    select('severity', 'Severity', SEVERITIES, p.get('severity')),
    select('status', 'Status', STATUSES, p.get('status')),
    select('source', 'Source', SOURCES, p.get('source')),
    input('type', 'Type', p.get('type'), { list: 'types', autocomplete: 'off' }),
    input('namespace', 'Namespace', p.get('namespace'), { list: 'namespaces', autocomplete: 'off' }),
    // Shown when the store holds alerts of named clusters (or the URL filters on one).
    h(
      'div',
      { class: 'field', id: 'cluster-field', ...(p.get('cluster') ? {} : { hidden: true }) },
      h('label', { for: 'f-cluster' }, 'Cluster'),
      h('input', { id: 'f-cluster', name: 'cluster', value: p.get('cluster') ?? '', list: 'clusters', autocomplete: 'off' }),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'f-since' }, 'Last seen within'),
      h(
        'select',
        { id: 'f-since', name: 'since' },
        h('option', { value: '' }, 'any time'),
        ...presets.map((o) => h('option', { value: o, selected: o === since }, o)),
        since && !presets.includes(since) ? h('option', { value: since, selected: true }, `since ${since}`) : null,
      ),
    ),
    input('until', 'Last seen before', null, { type: 'datetime-local', value: toLocalInput(p.get('until')) }),
    h('datalist', { id: 'types' }),
    h('datalist', { id: 'namespaces' }),
    h('datalist', { id: 'clusters' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply'), h('a', { href: '/ui/alerts', class: 'button' }, 'Clear')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    const data = new FormData(form);
    for (const name of FILTERS) {
      let v = String(data.get(name) ?? '').trim();
      if (name === 'until' && v) v = new Date(v).toISOString();
      if (v) next.set(name, v);
    }
    for (const keep of ['sort', 'order']) {
      const v = p.get(keep);
      if (v) next.set(keep, v);
    }
    const qs = next.toString();
    ctx.navigate(`/ui/alerts${qs ? '?' + qs : ''}`);
  });
  return form;
}

function sortHeader(ctx: PageContext, key: string, label: string): HTMLElement {
  const p = ctx.url.searchParams;
  const current = p.get('sort') ?? 'lastSeen';
  const order = p.get('order') ?? 'desc';
  const active = current === key;
  const next = new URLSearchParams(p);
  next.delete('continue');
  next.set('sort', key);
  next.set('order', active && order === 'desc' ? 'asc' : 'desc');
  return h(
    'th',
    { scope: 'col', 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
    h('a', { href: `/ui/alerts?${next.toString()}`, class: 'sort' }, label, active ? (order === 'asc' ? ' ▲' : ' ▼') : ''),
  );
}

function row(a: Alert, fresh: boolean): HTMLTableRowElement {
  return h(
    'tr',
    { class: fresh ? 'fresh' : undefined, 'data-id': a.id },
    h('td', {}, severityBadge(a.severity)),
    h('td', { class: 'mono wrap' }, a.type),
    h('td', {}, h('a', { href: `/ui/alerts/${encodeURIComponent(a.id)}` }, a.title || a.type)),
    h('td', {}, a.namespace, a.cluster ? h('div', { class: 'muted' }, a.cluster) : null),
    h('td', { class: 'mono wrap' }, resourceText(a)),
    h('td', { class: 'wrap' }, a.user?.username ?? ''),
    h('td', { class: 'num' }, numberFormat.format(a.count)),
    h('td', {}, time(a.firstSeen, true)),
    h('td', {}, time(a.lastSeen, true)),
    h('td', {}, statusBadge(a.status)),
  );
}

function summaryLine(s: Summary): HTMLElement {
  return h(
    'p',
    { class: 'summary' },
    h('strong', {}, `${numberFormat.format(s.total)} ${s.total === 1 ? 'alert' : 'alerts'}`),
    ...SEVERITIES.filter((sev) => s.bySeverity[sev]).map((sev) =>
      h('span', { class: 'chip' }, severityBadge(sev), ' ', numberFormat.format(s.bySeverity[sev]!)),
    ),
  );
}

export async function alertsPage(ctx: PageContext): Promise<void> {
  document.title = 'Alerts · Bulwark';
  const url = ctx.url;
  const onFirstPage = !url.searchParams.get('continue');
  const [page, summary] = await Promise.all([
    get<{ items: Alert[]; continue?: string }>(`/api/v1/alerts?${apiQuery(url, { limit: String(PAGE_SIZE) })}`),
    get<Summary>(`/api/v1/summary?${new URLSearchParams([...url.searchParams].filter(([k]) => (FILTERS as readonly string[]).includes(k))).toString()}`),
  ]);
  const form = filterForm(ctx);
  const summaryBox = h('div', {}, summaryLine(summary));
  const live = h('p', { class: 'visually-hidden', 'aria-live': 'polite', id: 'live' });
  const body = h('tbody', {}, ...page.items.map((a) => row(a, false)));
  const table = h(
    'table',
    { class: 'alerts' },
    h('caption', { class: 'visually-hidden' }, 'Alerts, one per row'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        sortHeader(ctx, 'severity', SORTABLE.severity!),
        h('th', { scope: 'col' }, 'Type'),
        h('th', { scope: 'col' }, 'Title'),
        h('th', { scope: 'col' }, 'Namespace'),
        h('th', { scope: 'col' }, 'Resource'),
        h('th', { scope: 'col' }, 'User'),
        sortHeader(ctx, 'count', SORTABLE.count!),
        sortHeader(ctx, 'firstSeen', SORTABLE.firstSeen!),
        sortHeader(ctx, 'lastSeen', SORTABLE.lastSeen!),
        h('th', { scope: 'col' }, 'Status'),
      ),
    ),
    body,
  );
  const next = new URLSearchParams(url.searchParams);
  if (page.continue) next.set('continue', page.continue);
  const first = new URLSearchParams(url.searchParams);
  first.delete('continue');
  replace(
    ctx.main,
    h('h1', {}, 'Alerts'),
    form,
    summaryBox,
    live,
    page.items.length === 0
      ? h('p', { class: 'empty' }, onFirstPage ? 'No alert matches these filters.' : 'No more alerts.')
      : h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Alerts table' }, table),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      onFirstPage ? null : h('a', { href: `/ui/alerts${first.toString() ? '?' + first.toString() : ''}`, class: 'button' }, '⇤ First page'),
      page.continue ? h('a', { href: `/ui/alerts?${next.toString()}`, class: 'button', rel: 'next' }, 'Next page →') : null,
    ),
  );

  // Filter choices from what the store holds (after the page: it is not needed to read it).
  void get<{ types: string[]; namespaces: string[]; clusters: string[] }>('/api/v1/facets')
    .then((f) => {
      replace(form.querySelector('#types')!, ...f.types.map((t) => h('option', { value: t })));
      replace(form.querySelector('#namespaces')!, ...f.namespaces.map((n) => h('option', { value: n })));
      replace(form.querySelector('#clusters')!, ...f.clusters.map((c) => h('option', { value: c })));
      if (f.clusters.length > 0) form.querySelector('#cluster-field')!.removeAttribute('hidden');
    })
    .catch(() => undefined);

  // New alerts: the first page refreshes itself; later pages stay still (their cursor would shift).
  if (!onFirstPage) return;
  const shown = new Set(page.items.map((a) => a.id + a.lastSeen + a.status + a.count));
  ctx.every(POLL_MS, () => {
    Promise.all([
      get<{ items: Alert[] }>(`/api/v1/alerts?${apiQuery(url, { limit: String(PAGE_SIZE) })}`),
      get<Summary>(`/api/v1/summary?${new URLSearchParams([...url.searchParams].filter(([k]) => (FILTERS as readonly string[]).includes(k))).toString()}`),
    ])
      .then(([latest, s]) => {
        const keys = latest.items.map((a) => a.id + a.lastSeen + a.status + a.count);
        const changed = keys.filter((k) => !shown.has(k));
        if (changed.length === 0) return;
        if (!body.isConnected) return ctx.navigate(location.pathname + location.search, true);
        replace(body, ...latest.items.map((a, i) => row(a, !shown.has(keys[i]!))));
        shown.clear();
        for (const k of keys) shown.add(k);
        replace(summaryBox, summaryLine(s));
        live.textContent = `${changed.length} new or updated ${changed.length === 1 ? 'alert' : 'alerts'}`;
      })
      .catch(() => undefined);
  });
}
