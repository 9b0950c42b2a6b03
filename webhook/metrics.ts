// Prometheus metrics of the webhook, on their own Registry (tests and embedders get a clean one).
// Label values come from small closed sets: the kind label is one of the subject kinds or `other`,
// so that a client posting made-up kinds cannot grow the series without bound.
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { RouteHistogram } from '../core/route-histogram.js';
import { SUBJECT_KINDS } from '../policies/kinds.js';

const KNOWN_KINDS = new Set(SUBJECT_KINDS);
const KNOWN_OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export type ErrorReason =
  | 'bad-request'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'not-admission-review'
  | 'check-error'
  | 'internal'
  | 'alert-sink'
  | 'mutation-error'
  | 'certificate-reload';

export interface WebhookMetrics {
  registry: Registry;
  decision(policy: string, action: string): void;
  request(operation: string, kind: string, result: string): void;
  mutation(operation: string, kind: string, result: string): void;
  /** Seconds spent on one admission review, from the first body byte's arrival to the response. */
  observeDuration(route: 'validate' | 'mutate', seconds: number): void;
  error(reason: ErrorReason): void;
  certificateReload(result: 'success' | 'failure'): void;
  /** A large review and the review worker: judged there, declined (judged on the server's thread), failed (answered 500). */
  reviewWorker(result: 'judged' | 'declined' | 'failed'): void;
}

export const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

const ROUTES = ['validate', 'mutate'] as const;

/** Increments of one label set not yet handed to its counter. */
interface Pending {
  labels: Record<string, string>;
  n: number;
}

function flushPending(counter: Counter<string>, pending: Map<string, Pending>): void {
  for (const p of pending.values()) {
    if (p.n === 0) continue;
    counter.inc(p.labels, p.n);
    p.n = 0;
  }
}

export function createWebhookMetrics(registry = new Registry(), defaultMetrics = true): WebhookMetrics {
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  // Label sets are few (closed sets of kinds, operations, results, policies and reasons): these maps stay small.
  const pending = {
    decisions: new Map<string, Pending>(),
    requests: new Map<string, Pending>(),
    mutations: new Map<string, Pending>(),
    errors: new Map<string, Pending>(),
  };
  new Counter({
    name: 'bulwark_admission_decisions_total',
    help: 'Admission findings by policy and the action taken (enforce, warn, audit).',
    labelNames: ['policy', 'action'] as const,
    registers: [registry],
    collect() {
      flushPending(this, pending.decisions);
    },
  });
  new Counter({
    name: 'bulwark_admission_requests_total',
    help: 'Admission reviews on /validate by operation, kind and result (allowed, denied, warned, audited, exempt, skipped).',
    labelNames: ['operation', 'kind', 'result'] as const,
    registers: [registry],
    collect() {
      flushPending(this, pending.requests);
    },
  });
  new Counter({
    name: 'bulwark_mutation_requests_total',
    help: 'Admission reviews on /mutate by operation, kind and result (patched, unchanged, exempt, error).',
    labelNames: ['operation', 'kind', 'result'] as const,
    registers: [registry],
    collect() {
      flushPending(this, pending.mutations);
    },
  });
  const duration = new RouteHistogram({
    name: 'bulwark_admission_duration_seconds',
    help: 'Time to answer one admission review, body read to response written.',
    labelName: 'route',
    labelValues: ROUTES,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  new Counter({
    name: 'bulwark_admission_errors_total',
    help: 'Errors by reason: malformed input (bad-request, unsupported-media-type, payload-too-large, not-admission-review), check-error, internal, alert-sink, mutation-error, certificate-reload.',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      flushPending(this, pending.errors);
    },
  });
  const reloads = new Counter({
    name: 'bulwark_certificate_reloads_total',
    help: 'Serving certificate reloads after the files changed, by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const worker = new Counter({
    name: 'bulwark_review_worker_reviews_total',
    help: 'Large admission reviews and the review worker thread, by result: judged (there), declined (busy or restarting: judged on the server thread), failed (the worker died or timed out: answered 500).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  // Counted here and handed to the counters when they are read (a scrape): prom-client's inc()
  // validates and hashes the labels on every call (~0.4 µs of each admission review).
  const bump = (to: Map<string, Pending>, key: string, labels: () => Record<string, string>) => {
    let p = to.get(key);
    if (p === undefined) {
      p = { labels: labels(), n: 0 };
      to.set(key, p);
    }
    p.n++;
  };
  const kindLabel = (kind: string) => (KNOWN_KINDS.has(kind) ? kind : 'other');
  const operationLabel = (op: string) => (KNOWN_OPERATIONS.has(op) ? op : 'other');
  return {
    registry,
    decision(policy, action) {
      bump(pending.decisions, `${policy}\0${action}`, () => ({ policy, action }));
    },
    request(operation, kind, result) {
      const op = operationLabel(operation);
      const k = kindLabel(kind);
      bump(pending.requests, `${op}\0${k}\0${result}`, () => ({ operation: op, kind: k, result }));
    },
    mutation(operation, kind, result) {
      const op = operationLabel(operation);
      const k = kindLabel(kind);
      bump(pending.mutations, `${op}\0${k}\0${result}`, () => ({ operation: op, kind: k, result }));
    },
    observeDuration(route, seconds) {
      duration.observe(route === 'validate' ? 0 : 1, seconds);
    },
    error(reason) {
      bump(pending.errors, reason, () => ({ reason }));
    },
    certificateReload(result) {
      reloads.labels(result).inc();
    },
    reviewWorker(result) {
      worker.labels(result).inc();
    },
  };
}
