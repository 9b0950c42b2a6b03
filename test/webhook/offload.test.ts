// The review worker (webhook/offload.ts): large reviews are judged on another thread with the same
// config and namespace modes; a small one stays; a worker that dies or hangs costs the reviews it
// held a 500 (never a hang or a wrong answer) and is replaced; a busy worker means judging in place.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../policies/config.js';
import { defaultConfig } from '../../config/load.js';
import { ReviewOffload, type ReviewOffloadOptions } from '../../webhook/offload.js';
import {
  client,
  LogCapture,
  metricValue,
  privilegedSpec,
  review,
  sleep,
  startTestServer,
  tempDir,
  waitFor,
  withPodSpec,
  type TestServer,
  type TestServerOptions,
} from './support.js';

/** A Pod with `n` privileged containers: one body of roughly 100 bytes per container. */
function bigPod(n: number, namespace = 'team-a') {
  const spec = privilegedSpec();
  const base = (spec.containers as Record<string, unknown>[])[0]!;
  const containers = Array.from({ length: n }, (_, i) => ({ ...base, name: `c${i}` }));
  return withPodSpec('Pod', { ...spec, containers }, { namespace });
}

const worker = async (ts: TestServer, result: string) =>
  metricValue((await client(ts).get('/metrics')).text, 'bulwark_review_worker_reviews_total', { result });

let servers: TestServer[] = [];
let offloads: ReviewOffload[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(offloads.map((o) => o.close()));
  servers = [];
  offloads = [];
});

async function serverWith(opts: Partial<ReviewOffloadOptions>, extra: TestServerOptions = {}) {
  const logs = new LogCapture();
  const offload = new ReviewOffload({ logger: logs.logger(), threshold: 32 * 1024, ...opts });
  offloads.push(offload);
  const ts = await startTestServer({ offload, ...extra });
  servers.push(ts);
  return { ts, offload, logs };
}

/** A worker script that does `behaviour` with every review it is handed. */
function fakeWorker(behaviour: 'exit' | 'hang' | 'throw'): string {
  const file = path.join(tempDir('bulwark-offload-'), 'worker.mjs');
  const act = { exit: 'process.exit(3)', hang: '/* never answers */', throw: "throw new Error('boom')" }[behaviour];
  fs.writeFileSync(file, `import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => { if (m.type === 'job') { ${act}; } });\n`);
  return file;
}

describe('the review worker', () => {
  it('judges a large review there and a small one in place, with the same answer and alert', async () => {
    const { ts } = await serverWith({});
    const c = client(ts);
    const big = review(bigPod(800));
    expect(JSON.stringify(big).length).toBeGreaterThan(32 * 1024);
    const res = await c.review(big);
    expect(res.uid).toBe(big.request.uid);
    expect(res.allowed).toBe(false);
    expect(res.status!.message).toMatch(/^\[privileged-container\] /);
    expect(await worker(ts, 'judged')).toBe(1);
    const small = review(bigPod(1));
    expect((await c.review(small)).allowed).toBe(false);
    expect(await worker(ts, 'judged')).toBe(1);
    await waitFor(() => ts.sink.alerts.length === 2, 3000, 'two alerts');
    const [fromWorker, inPlace] = ts.sink.alerts;
    expect(fromWorker!.type).toBe(inPlace!.type);
    expect(fromWorker!.resource).toEqual(inPlace!.resource);
    expect(fromWorker!.user).toEqual(inPlace!.user);
    expect(Object.keys(fromWorker!.evidence).sort()).toEqual([...Object.keys(inPlace!.evidence), 'omittedFindings'].sort());
    // Counted and logged on the server's thread as any review.
    const metrics = (await c.get('/metrics')).text;
    expect(metricValue(metrics, 'bulwark_admission_requests_total', { operation: 'CREATE', kind: 'Pod', result: 'denied' })).toBe(2);
    expect(ts.logs.lines.filter((l) => l.decision === 'denied')).toHaveLength(2);
  });

  it("reads the namespace's bulwark.io/mode label from the server's thread, as it is now", async () => {
    const { ts } = await serverWith({}, { config: { defaultAction: 'warn' }, namespaceModeLabels: { strict: 'enforce' } });
    const c = client(ts);
    expect((await c.review(review(bigPod(800, 'strict')))).allowed).toBe(false);
    expect((await c.review(review(bigPod(800, 'relaxed')))).allowed).toBe(true);
    ts.modes.set('relaxed', 'enforce');
    expect((await c.review(review(bigPod(800, 'relaxed')))).allowed).toBe(false);
    expect(await worker(ts, 'judged')).toBe(3);
  });

  it('judges with the config in force when the review arrives (a reload reaches the worker)', async () => {
    const live = { current: compileConfig(defaultConfig()) };
    const { ts } = await serverWith({}, { policies: live });
    const c = client(ts);
    expect((await c.review(review(bigPod(800)))).allowed).toBe(false);
    live.current = compileConfig({ ...defaultConfig(), actions: { 'privileged-container': 'warn' } });
    const res = await c.review(review(bigPod(800)));
    expect(res.allowed).toBe(true);
    expect(res.warnings![0]).toMatch(/^\[privileged-container\] /);
  });

  it('answers a large body that is not a review as the server would (400), from the worker', async () => {
    const { ts } = await serverWith({});
    const c = client(ts);
    const bad = await c.post('/validate', '{"kind":"AdmissionReview",' + ' '.repeat(70 * 1024) + '"x":');
    expect(bad.status).toBe(400);
    expect(bad.json().error).toMatch(/^the body is not valid JSON: /);
    const deep = await c.post('/validate', '['.repeat(40_000) + ']'.repeat(40_000));
    expect(deep.status).toBe(400);
    expect(deep.json().error).toBe('the body nests objects and arrays more than 1000 levels deep');
    const notReview = await c.post('/validate', { kind: 'Pod', pad: 'x'.repeat(70 * 1024) });
    expect(notReview.status).toBe(400);
    expect(notReview.json().error).toMatch(/^not an admission.k8s.io\/v1 AdmissionReview: expected kind AdmissionReview/);
    expect(await worker(ts, 'judged')).toBe(3);
  });

  it('patches a large Pod on /mutate there', async () => {
    const { ts } = await serverWith({});
    const pod = withPodSpec('Pod', { containers: Array.from({ length: 800 }, (_, i) => ({ name: `c${i}`, image: 'registry.example.com/app:1.4' })) });
    const res = await client(ts).review(review(pod), '/mutate');
    expect(res.patchType).toBe('JSONPatch');
    const patch = JSON.parse(Buffer.from(res.patch!, 'base64').toString('utf8')) as { path: string }[];
    expect(patch.filter((p) => /^\/spec\/containers\/[0-9]+\/securityContext$/.test(p.path))).toHaveLength(800);
    expect(await worker(ts, 'judged')).toBe(1);
  });

  it.each(['exit', 'throw', 'hang'] as const)('a worker that fails (%s) costs its review a 500, then is replaced', async (behaviour) => {
    const { ts, logs } = await serverWith({ script: fakeWorker(behaviour), timeoutMs: 300 });
    const c = client(ts);
    const res = await c.post('/validate', review(bigPod(800)));
    expect(res.status).toBe(500);
    expect(res.json().error).toBe('internal error: the review could not be judged');
    expect(await worker(ts, 'failed')).toBe(1);
    expect(logs.lines.some((l) => /the review worker (exited|failed|did not answer)/.test(String(l.msg)))).toBe(true);
    // While a new worker is not yet due, large reviews are judged in place (correctly).
    const next = await c.review(review(bigPod(800)));
    expect(next.allowed).toBe(false);
    expect(await worker(ts, 'declined')).toBe(1);
    // Small reviews never notice.
    expect((await c.review(review(bigPod(1)))).allowed).toBe(false);
  });

  it("a body that outgrows the worker's heap kills the worker, not the server: a 500, then judged in place", async () => {
    const { ts, logs } = await serverWith({ heapMb: 8 });
    const c = client(ts);
    // ~5 MiB of small objects: several times the 8 MiB heap once parsed.
    const pad = Array.from({ length: 420_000 }, (_, i) => ({ k: i }));
    const res = await c.post('/validate', { ...review(bigPod(1)), pad });
    expect(res.status).toBe(500);
    expect(await worker(ts, 'failed')).toBe(1);
    expect(logs.lines.some((l) => /the review worker (failed|exited)/.test(String(l.msg)))).toBe(true);
    expect((await c.review(review(bigPod(800)))).allowed).toBe(false);
  });

  it('a real worker replaced after a failure judges again', async () => {
    const { ts, offload } = await serverWith({ timeoutMs: 300 });
    const c = client(ts);
    expect((await c.review(review(bigPod(800)))).allowed).toBe(false);
    await (offload as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await sleep(1100);
    expect((await c.review(review(bigPod(800)))).allowed).toBe(false);
    expect(await worker(ts, 'judged')).toBe(2);
  });

  it('judges in place once the bodies waiting for the worker pass the bound', async () => {
    const { ts } = await serverWith({ maxPendingBytes: 80 * 1024 });
    const c = client(ts);
    const answers = await Promise.all(Array.from({ length: 4 }, () => c.review(review(bigPod(800)))));
    for (const a of answers) expect(a.allowed).toBe(false);
    expect((await worker(ts, 'declined')) + (await worker(ts, 'judged'))).toBe(4);
    expect(await worker(ts, 'declined')).toBeGreaterThan(0);
  });

  it('a config that cannot be posted to the worker (not one read from a file) means judging in place, logged once', async () => {
    const compiled = compileConfig({ ...defaultConfig(), hook: () => 1 } as ReturnType<typeof defaultConfig>);
    const { ts, logs } = await serverWith({}, { compiled });
    const c = client(ts);
    for (let i = 0; i < 2; i++) expect((await c.review(review(bigPod(800)))).allowed).toBe(false);
    expect(await worker(ts, 'declined')).toBe(2);
    expect(logs.lines.filter((l) => String(l.msg).startsWith('the config cannot be posted to the review worker'))).toHaveLength(1);
  });

  it('a hand-over that throws is judged in place, never thrown out of the body reader', async () => {
    const broken = {
      threshold: 0,
      submit: () => {
        throw new Error('cannot post');
      },
    } as unknown as ReviewOffload;
    const ts = await startTestServer({ offload: broken });
    servers.push(ts);
    expect((await client(ts).review(review(bigPod(1)))).allowed).toBe(false);
    expect(await worker(ts, 'declined')).toBe(1);
    expect(ts.logs.lines.some((l) => l.msg === 'could not hand a review to the review worker')).toBe(true);
  });

  it('after close, large reviews are judged in place', async () => {
    const { ts, offload } = await serverWith({});
    await offload.close();
    expect((await client(ts).review(review(bigPod(800)))).allowed).toBe(false);
    expect(await worker(ts, 'declined')).toBe(1);
  });
});
