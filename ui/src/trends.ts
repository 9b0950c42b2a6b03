// Trends: alerts first seen per day by severity, and the top alert types, users and source IPs.
import { get, SEVERITIES, type Tally, type Trends } from './api.js';
import { h, numberFormat, replace } from './dom.js';
import { horizontalBars, stackedColumns } from './charts.js';
import type { PageContext } from './app.js';

const RANGES = ['7', '30', '90'];

function topList(title: string, id: string, items: Tally[], filter: (key: string) => string | undefined): HTMLElement {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, title),
    items.length === 0
      ? h('p', { class: 'muted' }, 'None in this period.')
      : horizontalBars(items, `${title}: ${items.map((i) => `${i.key} ${i.count}`).join(', ')}`),
    items.length === 0
      ? null
      : h(
          'details',
          {},
          h('summary', {}, 'As a table'),
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Alerts'))),
            h(
              'tbody',
              {},
              ...items.map((i) => {
                const href = filter(i.key);
                return h(
                  'tr',
                  {},
                  h('td', { class: 'mono wrap' }, href ? h('a', { href }, i.key) : i.key),
                  h('td', { class: 'num' }, numberFormat.format(i.count)),
                );
              }),
            ),
          ),
        ),
  );
}

export async function trendsPage(ctx: PageContext): Promise<void> {
  document.title = 'Trends · Bulwark';
  const days = RANGES.includes(ctx.url.searchParams.get('days') ?? '') ? ctx.url.searchParams.get('days')! : '30';
  const t = await get<Trends>(`/api/v1/trends?days=${days}&top=10`);
  const total = t.days.reduce((n, d) => n + SEVERITIES.reduce((m, s) => m + (d.bySeverity[s] ?? 0), 0), 0);
  const series = SEVERITIES.map((s) => ({ key: s, label: `${s} alerts` }));
  const range = h(
    'nav',
    { class: 'segmented', 'aria-label': 'Period' },
    ...RANGES.map((r) => h('a', { href: `/ui/trends?days=${r}`, class: 'button', ...(r === days ? { 'aria-current': 'page' } : {}) }, `${r} days`)),
  );
  replace(
    ctx.main,
    h('h1', {}, 'Trends'),
    range,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'per-day' },
      h('h2', { id: 'per-day' }, `Alerts per day, by severity (${numberFormat.format(total)} first seen in ${days} days)`),
      stackedColumns(
        t.days.map((d) => d.day),
        series,
        (i, s) => t.days[i]!.bySeverity[s as keyof (typeof t.days)[number]['bySeverity']] ?? 0,
        { label: `Alerts per day by severity over ${days} days, ${total} in all` },
      ),
      h('p', { class: 'legend' }, ...SEVERITIES.map((s) => h('span', { class: 'chip' }, h('span', { class: `swatch bar-${s}` }), s))),
      h(
        'details',
        {},
        h('summary', {}, 'As a table'),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), ...SEVERITIES.map((s) => h('th', { scope: 'col' }, s)))),
            h(
              'tbody',
              {},
              ...t.days.map((d) =>
                h('tr', {}, h('td', {}, d.day), ...SEVERITIES.map((s) => h('td', { class: 'num' }, numberFormat.format(d.bySeverity[s] ?? 0)))),
              ),
            ),
          ),
        ),
      ),
    ),
    h(
      'div',
      { class: 'grid3' },
      topList('Top alert types', 'top-types', t.types, (k) => `/ui/alerts?type=${encodeURIComponent(k)}`),
      topList('Top users', 'top-users', t.users, (k) => `/ui/alerts?q=${encodeURIComponent(k)}`),
      topList('Top source IPs', 'top-ips', t.sourceIPs, (k) => `/ui/alerts?q=${encodeURIComponent(k)}`),
    ),
  );
}
