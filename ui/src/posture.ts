// Posture: what the background scan finds in what already runs (the PolicyReports' results), by
// namespace and by policy, the failing resources, and what enforce mode would deny.
import { get, type Posture } from './api.js';
import { h, numberFormat, replace, time } from './dom.js';
import { severityBadge } from './alerts.js';
import type { PageContext } from './app.js';

const SHOWN = 200;

function link(ctx: PageContext, set: Record<string, string | null>, label: string): HTMLElement {
  const next = new URLSearchParams(ctx.url.searchParams);
  for (const [k, v] of Object.entries(set)) {
    if (v === null) next.delete(k);
    else next.set(k, v);
  }
  const qs = next.toString();
  return h('a', { href: `/ui/posture${qs ? '?' + qs : ''}` }, label);
}

const reportSeverity = (s: string) => (s === 'info' ? 'informational' : s);

export async function posturePage(ctx: PageContext): Promise<void> {
  document.title = 'Posture · Bulwark';
  const p = await get<Posture>('/api/v1/posture');
  if (!p.enabled || !p.ready) {
    replace(ctx.main, h('h1', {}, 'Posture'), h('p', { class: 'empty' }, p.reason ?? 'No posture yet.'));
    if (p.enabled) ctx.every(5_000, () => ctx.navigate(location.pathname + location.search, true));
    return;
  }
  const ns = ctx.url.searchParams.get('namespace');
  const policy = ctx.url.searchParams.get('policy');
  const results = (p.results ?? []).filter((r) => (ns === null || r.namespace === ns) && (policy === null || r.policy === policy));
  const denied = (p.wouldDeny ?? []).filter((d) => ns === null || d.namespace === ns);
  const scope = [ns !== null ? `namespace ${ns || '(cluster scope)'}` : null, policy ? `policy ${policy}` : null].filter(Boolean).join(', ');
  replace(
    ctx.main,
    h('h1', {}, 'Posture'),
    h('p', { class: 'muted' }, 'From the background scan’s last evaluation, ', time(p.evaluatedAt), ': the same results as the PolicyReports.'),
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { 'aria-labelledby': 'by-ns' },
        h('h2', { id: 'by-ns' }, 'By namespace'),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, ...['Namespace', 'Mode', 'Fail', 'Warn', 'Error', 'Enforce would deny'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              ...(p.namespaces ?? []).map((n) =>
                h(
                  'tr',
                  { class: n.namespace === ns ? 'selected' : undefined },
                  h('td', {}, link(ctx, { namespace: n.namespace }, n.namespace || '(cluster scope)')),
                  h('td', {}, n.mode ?? 'default'),
                  h('td', { class: 'num' }, numberFormat.format(n.fail)),
                  h('td', { class: 'num' }, numberFormat.format(n.warn)),
                  h('td', { class: 'num' }, numberFormat.format(n.error)),
                  h('td', { class: 'num' }, numberFormat.format(n.wouldDeny)),
                ),
              ),
            ),
          ),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'by-policy' },
        h('h2', { id: 'by-policy' }, 'By policy'),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, ...['Policy', 'Set', 'Severity', 'Fail', 'Warn'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              ...(p.policies ?? []).map((r) =>
                h(
                  'tr',
                  { class: r.policy === policy ? 'selected' : undefined },
                  h('td', { class: 'mono' }, link(ctx, { policy: r.policy }, r.policy)),
                  h('td', {}, r.category),
                  h('td', {}, severityBadge(reportSeverity(r.severity))),
                  h('td', { class: 'num' }, numberFormat.format(r.fail)),
                  h('td', { class: 'num' }, numberFormat.format(r.warn)),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'failing' },
      h('h2', { id: 'failing' }, `Failing resources${scope ? ` — ${scope}` : ''}`),
      scope ? h('p', {}, link(ctx, { namespace: null, policy: null }, 'Show all')) : null,
      results.length === 0
        ? h('p', { class: 'empty' }, 'Nothing fails here.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              {},
              h('thead', {}, h('tr', {}, ...['Namespace', 'Resource', 'Policy', 'Result', 'Severity', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
              h(
                'tbody',
                {},
                ...results
                  .slice(0, SHOWN)
                  .map((r) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, r.namespace),
                      h('td', { class: 'mono wrap' }, `${r.kind}/${r.name}`),
                      h('td', { class: 'mono' }, r.policy),
                      h('td', {}, h('span', { class: `status result-${r.result}` }, r.result)),
                      h('td', {}, severityBadge(reportSeverity(r.severity))),
                      h('td', { class: 'wrap' }, r.message),
                    ),
                  ),
              ),
            ),
          ),
      results.length > SHOWN
        ? h('p', { class: 'muted' }, `${numberFormat.format(results.length - SHOWN)} more not shown: narrow by namespace or policy.`)
        : null,
      p.omitted ? h('p', { class: 'muted' }, `${numberFormat.format(p.omitted)} results past the report bound are counted above but not listed.`) : null,
    ),
    h(
      'section',
      { 'aria-labelledby': 'enforce' },
      h('h2', { id: 'enforce' }, `What enforce mode would deny${ns !== null ? ` in ${ns || '(cluster scope)'}` : ''}`),
      h('p', { class: 'muted' }, 'Every object judged again as if its namespace were labelled bulwark.io/mode=enforce: these creations would be refused.'),
      denied.length === 0
        ? h('p', { class: 'empty' }, 'Nothing would be denied.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              {},
              h('thead', {}, h('tr', {}, ...['Namespace', 'Resource', 'Denied by'].map((t) => h('th', { scope: 'col' }, t)))),
              h(
                'tbody',
                {},
                ...denied
                  .slice(0, SHOWN)
                  .map((d) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, d.namespace),
                      h('td', { class: 'mono wrap' }, `${d.kind}/${d.name}`),
                      h('td', { class: 'mono wrap' }, d.policies.join(', ')),
                    ),
                  ),
              ),
            ),
          ),
    ),
  );
}
