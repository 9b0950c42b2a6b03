// One alert: what happened, the evidence, where it came from, its history, and (for an admin) the
// status change with a comment.
import { ApiError, get, request, STATUSES, type Alert, type Status } from './api.js';
import { h, numberFormat, replace, time, type Child } from './dom.js';
import { severityBadge, statusBadge } from './alerts.js';
import type { PageContext } from './app.js';

/** JSON as a tree of <details>: objects and arrays fold, the first two levels open. */
export function jsonTree(value: unknown, depth = 0, label?: string): HTMLElement {
  const key = label !== undefined ? h('span', { class: 'key' }, label, ': ') : null;
  if (value !== null && typeof value === 'object') {
    const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value as Record<string, unknown>);
    const open = Array.isArray(value) ? '[' : '{';
    const close = Array.isArray(value) ? ']' : '}';
    if (entries.length === 0) return h('div', { class: 'json-leaf' }, key, open + close);
    return h(
      'details',
      { class: 'json', open: depth < 2 },
      h(
        'summary',
        {},
        key,
        `${open} ${entries.length} ${Array.isArray(value) ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'} ${close}`,
      ),
      h('div', { class: 'json-children' }, ...entries.map(([k, v]) => jsonTree(v, depth + 1, k))),
    );
  }
  const kind = value === null ? 'null' : typeof value;
  return h('div', { class: 'json-leaf' }, key, h('span', { class: `json-${kind}` }, JSON.stringify(value) ?? String(value)));
}

function field(label: string, ...value: Child[]): HTMLElement[] {
  return [h('dt', {}, label), h('dd', {}, ...(value.length && value.some((v) => v !== '' && v !== null && v !== undefined) ? value : ['—']))];
}

function list(items: readonly string[], cls = 'mono'): HTMLElement | string {
  return items.length === 0 ? '' : h('ul', { class: `plain ${cls}` }, ...items.map((i) => h('li', {}, i)));
}

function statusForm(alert: Alert, rerender: (a: Alert) => void): HTMLElement {
  const choices = STATUSES.filter((s) => s !== alert.status);
  const error = h('p', { class: 'error', role: 'alert' });
  const to = h('select', { id: 'to', name: 'status' }, ...choices.map((s) => h('option', { value: s }, s)));
  const reason = h('textarea', { id: 'reason', name: 'reason', rows: 3, maxlength: 1024, 'aria-describedby': 'reason-help' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Change status');
  const form = h(
    'form',
    { class: 'card status-form', 'aria-labelledby': 'status-title' },
    h('h2', { id: 'status-title' }, 'Triage'),
    h('div', { class: 'field' }, h('label', { for: 'to' }, 'Move to'), to),
    h('div', { class: 'field grow' }, h('label', { for: 'reason' }, 'Comment'), reason),
    h('p', { id: 'reason-help', class: 'muted' }, 'Kept in the alert’s history with your name. Required to dismiss.'),
    button,
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.textContent = '';
    if (to.value === 'dismissed' && reason.value.trim() === '') {
      error.textContent = 'A comment is required to dismiss an alert.';
      reason.focus();
      return;
    }
    button.disabled = true;
    request<Alert>('POST', `/api/v1/alerts/${encodeURIComponent(alert.id)}/status`, { status: to.value as Status, reason: reason.value })
      .then((updated) => rerender(updated))
      .catch((err: unknown) => {
        error.textContent = err instanceof ApiError ? err.message : String(err);
        button.disabled = false;
      });
  });
  return form;
}

function render(ctx: PageContext, a: Alert): void {
  document.title = `${a.title || a.type} · Bulwark`;
  replace(
    ctx.main,
    h('p', { class: 'crumbs' }, h('a', { href: '/ui/alerts' }, '← Alerts')),
    h('h1', {}, a.title || a.type),
    h(
      'p',
      { class: 'badges' },
      severityBadge(a.severity),
      statusBadge(a.status),
      h('span', { class: 'chip mono' }, a.type),
      h('span', { class: 'chip' }, a.source),
      a.cluster ? h('span', { class: 'chip' }, `cluster ${a.cluster}`) : null,
      a.verified === false
        ? h(
            'span',
            { class: 'chip warn', title: 'came through a route without authentication: anyone who can reach the port could have sent it' },
            'unverified source',
          )
        : null,
    ),
    h('section', { 'aria-labelledby': 'what' }, h('h2', { id: 'what' }, 'What happened'), h('p', { class: 'message' }, a.message)),
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { 'aria-labelledby': 'facts' },
        h('h2', { id: 'facts' }, 'Details'),
        h(
          'dl',
          { class: 'facts' },
          ...field('Namespace', a.namespace),
          ...field(
            'Resource',
            h(
              'span',
              { class: 'mono' },
              [a.resource.group, a.resource.version].filter(Boolean).join('/'),
              ' ',
              a.resource.kind,
              a.resource.name ? `/${a.resource.name}` : '',
            ),
          ),
          ...field('User', a.user.username, a.user.impersonator ? h('div', { class: 'muted' }, `impersonated by ${a.user.impersonator.username}`) : null),
          ...field('Groups', list(a.user.groups, '')),
          ...field('Source IPs', list(a.sourceIPs)),
          ...field('User agent', h('span', { class: 'mono wrap' }, a.userAgent)),
          ...field('First seen', time(a.firstSeen), a.timeClamped?.firstSeen ? h('div', { class: 'muted' }, `claimed ${a.timeClamped.firstSeen}`) : null),
          ...field('Last seen', time(a.lastSeen), a.timeClamped?.lastSeen ? h('div', { class: 'muted' }, `claimed ${a.timeClamped.lastSeen}`) : null),
          ...field('Occurrences', numberFormat.format(a.count)),
          ...field('Audit IDs', list(a.auditIDs)),
          ...field('MITRE tactics', list(a.tactics, '')),
          ...field('Alert ID', h('span', { class: 'mono' }, a.id)),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'fix' },
        h('h2', { id: 'fix' }, 'Remediation'),
        h('p', {}, a.remediation),
        ctx.me.canUpdate ? statusForm(a, (updated) => render(ctx, updated)) : null,
      ),
    ),
    h('section', { 'aria-labelledby': 'evidence' }, h('h2', { id: 'evidence' }, 'Evidence'), jsonTree(a.evidence)),
    a.laterEvidence && a.laterEvidence.length > 0
      ? h(
          'section',
          { 'aria-labelledby': 'later' },
          h('h2', { id: 'later' }, 'Later occurrences'),
          ...a.laterEvidence.map((l) =>
            h(
              'details',
              { class: 'card' },
              h('summary', {}, time(l.at), l.message ? ` — ${l.message}` : ''),
              l.userAgent ? h('p', { class: 'mono' }, l.userAgent) : null,
              jsonTree(l.evidence),
            ),
          ),
        )
      : null,
    h(
      'section',
      { 'aria-labelledby': 'history' },
      h('h2', { id: 'history' }, 'Status history'),
      a.history.length === 0
        ? h('p', { class: 'muted' }, 'No change yet.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              {},
              h('thead', {}, h('tr', {}, ...['When', 'From', 'To', 'By', 'Comment'].map((t) => h('th', { scope: 'col' }, t)))),
              h(
                'tbody',
                {},
                ...a.history.map((c) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, time(c.at)),
                    h('td', {}, statusBadge(c.from)),
                    h('td', {}, statusBadge(c.to)),
                    h('td', {}, c.by),
                    h('td', { class: 'wrap' }, c.reason),
                  ),
                ),
              ),
            ),
          ),
    ),
  );
}

export async function alertPage(ctx: PageContext, id: string): Promise<void> {
  let alert: Alert;
  try {
    alert = await get<Alert>(`/api/v1/alerts/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      document.title = 'Alert not found · Bulwark';
      replace(ctx.main, h('h1', {}, 'Alert not found'), h('p', {}, err.message, ' ', h('a', { href: '/ui/alerts' }, 'Back to the alerts.')));
      return;
    }
    throw err;
  }
  render(ctx, alert);
}
