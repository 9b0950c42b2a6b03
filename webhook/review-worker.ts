// The review worker's thread (webhook/offload.ts): decodes, parses and judges the large reviews
// the server hands over, with the config the server posted last and the namespace mode it asks the
// server for, and posts back what to answer. Nothing here writes to the network, a store or a log.
import { parentPort } from 'node:worker_threads';
import { newAlert } from '../alerts/model.js';
import { compileConfig, type Action, type CompiledConfig } from '../policies/config.js';
import type { AdmissionRequest } from './admission.js';
import { decodeReview, enforceRelabelOf, mutationAnswer, type DecisionSummary } from './answer.js';
import { HttpError } from './body.js';
import { decide, failureDecision, type Decision } from './decide.js';
import { decisionAlert } from './decision-alert.js';
import type { FromWorker, OffloadJob, OffloadResult, ReviewFacts, ToWorker } from './offload.js';
import { nameOf, namespaceOf, userOf } from './review.js';

const port = parentPort;
if (!port) throw new Error('review-worker.js runs as a worker thread of bulwark serve');

let compiled: CompiledConfig | undefined;
/** Reviews waiting for their namespace's mode from the server's thread. */
const waiting = new Map<number, { job: OffloadJob; request: AdmissionRequest; compiled: CompiledConfig }>();

const post = (m: FromWorker): void => {
  try {
    port.postMessage(m);
  } catch (err) {
    // Something in the result cannot cross threads (a check threw a value that cannot be cloned).
    if ('id' in m) port.postMessage({ type: 'failed', id: m.id, message: `the result could not be sent: ${(err as Error).message}` } satisfies FromWorker);
  }
};

port.on('message', (m: ToWorker) => {
  if (m.type === 'config') compiled = compileConfig(m.config);
  else if (m.type === 'job') start(m.job);
  else {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    attempt(m.id, () => validated(w.job, w.request, w.compiled, m.mode));
  }
});

function attempt(id: number, work: () => FromWorker | undefined): void {
  let result: FromWorker | undefined;
  try {
    result = work();
  } catch (err) {
    result = { type: 'failed', id, message: `the review worker failed: ${(err as Error)?.message ?? String(err)}` };
  }
  if (result) post(result);
}

function start(job: OffloadJob): void {
  const config = compiled;
  if (!config) return post({ type: 'failed', id: job.id, message: 'the review worker has no config' });
  attempt(job.id, () => {
    const request = decodeReview(Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength));
    if (request instanceof HttpError) {
      return {
        type: 'refused',
        id: job.id,
        status: request.status,
        reason: request.reason === 'not-admission-review' ? request.reason : 'bad-request',
        message: request.message,
      };
    }
    if (job.route === 'mutate') return { type: 'mutated', id: job.id, facts: factsOf(request), answer: mutationAnswer(request, config) };
    const namespace = namespaceOf(request);
    if (job.routeMode !== undefined || namespace === '') return validated(job, request, config, undefined);
    // The namespace's label is the server's to read: ask, and finish when it answers.
    waiting.set(job.id, { job, request, compiled: config });
    return { type: 'mode?', id: job.id, namespace };
  });
}

function factsOf(request: AdmissionRequest): ReviewFacts {
  return { uid: request.uid, operation: request.operation, dryRun: !!request.dryRun, name: nameOf(request), username: userOf(request).username };
}

function validated(job: OffloadJob, request: AdmissionRequest, config: CompiledConfig, mode: Action | undefined): OffloadResult {
  let decision: Decision;
  let internalError: unknown;
  try {
    decision = decide({
      request,
      compiled: config,
      namespaceModes: { modeOf: () => mode },
      routeMode: job.routeMode,
      serverNamespace: job.serverNamespace,
    });
  } catch (err) {
    internalError = err;
    decision = failureDecision(request, config, job.serverNamespace);
  }
  const facts = factsOf(request);
  const alert =
    job.alerts && !facts.dryRun && decision.findings.length > 0 ? newAlert(decisionAlert(decision, request, config, facts.name, new Date(job.now))) : undefined;
  return {
    type: 'validated',
    id: job.id,
    facts,
    decision: summary(decision),
    enforceRelabel: enforceRelabelOf(request),
    ...(internalError !== undefined ? { internalError: asError(internalError) } : {}),
    ...(alert ? { alert } : {}),
  };
}

/** The decision without its findings' texts (the response holds what the user sees): each policy and action once. */
function summary(d: Decision): DecisionSummary {
  const seen = new Set<string>();
  const findings: { policy: string; action: Action }[] = [];
  for (const f of d.findings) {
    const key = `${f.policy}\0${f.action}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push({ policy: f.policy, action: f.action });
  }
  return {
    outcome: d.outcome,
    response: d.response,
    namespace: d.namespace,
    kind: d.kind,
    errors: d.errors.map((e) => ({ policy: e.policy, error: asError(e.error) })),
    findings,
  };
}

/** An Error that crosses threads (a check may throw anything). */
function asError(e: unknown): Error {
  if (e instanceof Error) {
    const out = new Error(e.message);
    out.name = e.name;
    if (e.stack) out.stack = e.stack;
    return out;
  }
  return new Error(String(e));
}
