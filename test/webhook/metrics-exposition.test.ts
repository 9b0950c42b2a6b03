// The webhook's hot-path metrics are counted outside prom-client (core/route-histogram.ts, and
// counters handed over when read): what a scrape shows must be exactly what prom-client's own
// Histogram and Counters would show for the same observations.
import { describe, expect, it } from 'vitest';
import { Counter, Histogram, Registry } from 'prom-client';
import { RouteHistogram } from '../../core/route-histogram.js';
import { createWebhookMetrics, DURATION_BUCKETS } from '../../webhook/metrics.js';
import { prng as rng } from '../support/prng.js';

const NAME = 'bulwark_admission_duration_seconds';
const HELP = 'Time to answer one admission review, body read to response written.';
const ROUTES = ['validate', 'mutate'] as const;

function pair() {
  const ours = new Registry();
  const theirs = new Registry();
  const fast = new RouteHistogram({ name: NAME, help: HELP, labelName: 'route', labelValues: ROUTES, buckets: DURATION_BUCKETS, registers: [ours] });
  const reference = new Histogram({ name: NAME, help: HELP, labelNames: ['route'] as const, buckets: DURATION_BUCKETS, registers: [theirs] });
  return { ours, theirs, fast, reference };
}

describe('RouteHistogram', () => {
  it.each([1, 2, 3])('exposes what a prom-client Histogram exposes for the same observations (seed %i)', async (seed) => {
    const { ours, theirs, fast, reference } = pair();
    const next = rng(seed);
    // Values on every bound exactly, between them, under the first, over the last, zero.
    const special = [0, ...DURATION_BUCKETS, ...DURATION_BUCKETS.map((b) => b * 1.0001), 1e-9, 3, 1000];
    const first = seed === 2 ? 1 : 0; // which route shows first (prom-client lists series by first observation)
    for (let i = 0; i < 5000; i++) {
      const route = i === 0 ? first : next() < 0.7 ? 0 : 1;
      const value = next() < 0.2 ? special[Math.floor(next() * special.length)]! : next() * next() * 0.3;
      fast.observe(route, value);
      reference.observe({ route: ROUTES[route] }, value);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain(`${NAME}_bucket{le="0.0001",route="${ROUTES[first]}"}`);
    // Read again: nothing counted twice.
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // The JSON view too, but for prom-client's empty exemplar fields (this histogram has no exemplars).
    const withoutExemplars = (metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) =>
      metrics.map((m) => ({ ...m, values: m.values.map((v) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'exemplar'))) }));
    expect(await ours.getMetricsAsJSON()).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  it('shows nothing before the first observation and after a reset, as prom-client does', async () => {
    const { ours, theirs, fast, reference } = pair();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    fast.observe(1, 0.002);
    reference.observe({ route: 'mutate' }, 0.002);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain('route=');
  });

  it('does not count values that are not finite numbers, nor label indexes it does not know', async () => {
    const { ours, fast } = pair();
    fast.observe(0, Number.NaN);
    fast.observe(0, Number.POSITIVE_INFINITY);
    fast.observe(7, 0.001);
    fast.observe(-1, 0.001);
    expect(await ours.metrics()).not.toContain('route=');
  });

  it('refuses buckets that are not ascending', () => {
    expect(() => new RouteHistogram({ name: 'x', help: 'x', labelName: 'route', labelValues: ROUTES, buckets: [0.1, 0.1], registers: [] })).toThrow(
      /ascending/,
    );
  });
});

describe('webhook counters, handed to prom-client when read', () => {
  it('show the same counts as counters incremented directly, scrape after scrape', async () => {
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry, false);
    const theirs = new Registry();
    const requests = new Counter({
      name: 'bulwark_admission_requests_total',
      help: 'x',
      labelNames: ['operation', 'kind', 'result'] as const,
      registers: [theirs],
    });
    const decisions = new Counter({ name: 'bulwark_admission_decisions_total', help: 'x', labelNames: ['policy', 'action'] as const, registers: [theirs] });
    const mutations = new Counter({
      name: 'bulwark_mutation_requests_total',
      help: 'x',
      labelNames: ['operation', 'kind', 'result'] as const,
      registers: [theirs],
    });
    const errors = new Counter({ name: 'bulwark_admission_errors_total', help: 'x', labelNames: ['reason'] as const, registers: [theirs] });
    const next = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const series = async (r: Registry, name: string) => ((await r.getSingleMetricAsString(name)) ?? '').split('\n').filter((l) => !l.startsWith('#'));
    for (let scrape = 0; scrape < 4; scrape++) {
      for (let i = 0; i < 500; i++) {
        // Kinds and operations outside the known sets are counted as `other`.
        const op = pick(['CREATE', 'UPDATE', 'DELETE', 'PATCHED']);
        const kind = pick(['Pod', 'Deployment', 'Made-Up']);
        const result = pick(['allowed', 'denied', 'warned']);
        metrics.request(op, kind, result);
        requests.inc({ operation: op === 'PATCHED' ? 'other' : op, kind: kind === 'Made-Up' ? 'other' : kind, result });
        const policy = pick(['privileged-container', 'pss-host-ports']);
        const action = pick(['enforce', 'warn', 'audit']);
        metrics.decision(policy, action);
        decisions.inc({ policy, action });
        if (i % 3 === 0) {
          metrics.mutation('CREATE', 'Pod', 'patched');
          mutations.inc({ operation: 'CREATE', kind: 'Pod', result: 'patched' });
        }
        if (i % 7 === 0) {
          metrics.error('bad-request');
          errors.inc({ reason: 'bad-request' });
        }
      }
      for (const name of [
        'bulwark_admission_requests_total',
        'bulwark_admission_decisions_total',
        'bulwark_mutation_requests_total',
        'bulwark_admission_errors_total',
      ]) {
        expect(await series(registry, name)).toEqual(await series(theirs, name));
      }
    }
    // The whole exposition holds them too (what GET /metrics serves).
    expect(await registry.metrics()).toContain('bulwark_admission_errors_total{reason="bad-request"} 288');
  });
});
