// Prometheus metrics of the webhook, on their own Registry (tests and embedders get a clean one).
// Label values come from small closed sets: the kind label is one of the subject kinds or `other`,
// so that a client posting made-up kinds cannot grow the series without bound.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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

export function createWebhookMetrics(registry = new Registry(), defaultMetrics = true): WebhookMetrics {
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  const decisions = new Counter({
    name: 'bulwark_admission_decisions_total',
    help: 'Admission findings by policy and the action taken (enforce, warn, audit).',
    labelNames: ['policy', 'action'] as const,
    registers: [registry],
  });
  const requests = new Counter({
    name: 'bulwark_admission_requests_total',
    help: 'Admission reviews on /validate by operation, kind and result (allowed, denied, warned, audited, exempt, skipped).',
    labelNames: ['operation', 'kind', 'result'] as const,
    registers: [registry],
  });
  const mutations = new Counter({
    name: 'bulwark_mutation_requests_total',
    help: 'Admission reviews on /mutate by operation, kind and result (patched, unchanged, exempt, error).',
    labelNames: ['operation', 'kind', 'result'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'bulwark_admission_duration_seconds',
    help: 'Time to answer one admission review, body read to response written.',
    labelNames: ['route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'bulwark_admission_errors_total',
    help: 'Errors by reason: malformed input (bad-request, unsupported-media-type, payload-too-large, not-admission-review), check-error, internal, alert-sink, mutation-error, certificate-reload.',
    labelNames: ['reason'] as const,
    registers: [registry],
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
  // Children are looked up once per label set, not hashed on every request.
  const cache = new Map<string, { inc(): void }>();
  const child = (key: string, make: () => { inc(): void }) => {
    let c = cache.get(key);
    if (!c) {
      c = make();
      cache.set(key, c);
    }
    return c;
  };
  const durationChildren = { validate: duration.labels('validate'), mutate: duration.labels('mutate') };
  const kindLabel = (kind: string) => (KNOWN_KINDS.has(kind) ? kind : 'other');
  const operationLabel = (op: string) => (KNOWN_OPERATIONS.has(op) ? op : 'other');
  return {
    registry,
    decision(policy, action) {
      child(`d\0${policy}\0${action}`, () => decisions.labels(policy, action)).inc();
    },
    request(operation, kind, result) {
      const op = operationLabel(operation);
      const k = kindLabel(kind);
      child(`r\0${op}\0${k}\0${result}`, () => requests.labels(op, k, result)).inc();
    },
    mutation(operation, kind, result) {
      const op = operationLabel(operation);
      const k = kindLabel(kind);
      child(`m\0${op}\0${k}\0${result}`, () => mutations.labels(op, k, result)).inc();
    },
    observeDuration(route, seconds) {
      durationChildren[route].observe(seconds);
    },
    error(reason) {
      child(`e\0${reason}`, () => errors.labels(reason)).inc();
    },
    certificateReload(result) {
      reloads.labels(result).inc();
    },
    reviewWorker(result) {
      worker.labels(result).inc();
    },
  };
}
