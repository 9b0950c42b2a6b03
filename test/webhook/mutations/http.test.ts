// POST /mutate against the real HTTPS server: AdmissionReviews in, base64 JSON patches out.
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../../certs/x509.js';
import type { K8sObject } from '../../../policies/types.js';
import type { AdmissionRequest, AdmissionResponse } from '../../../webhook/admission.js';
import { startWebhookServer, type WebhookServer } from '../../../webhook/server.js';
import { applyPatch, at, compiledWith, objectOf, requestFor } from './support.js';

let server: WebhookServer;
let ca: Buffer;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-mutate-'));
  const files = ensureDevCertificates(dir);
  ca = fs.readFileSync(files.caFile);
  server = await startWebhookServer({
    compiled: compiledWith({ exemptions: { namespaces: ['kube-system'], usernames: [], groups: [], images: [] } }),
    logger: pino({ level: 'silent' }),
    port: 0,
    address: '127.0.0.1',
    tls: { certFile: files.certFile, keyFile: files.keyFile },
    certPollIntervalMs: 0,
  });
});

afterAll(async () => {
  await server?.close(1000);
  fs.rmSync(dir, { recursive: true, force: true });
});

function post(pathname: string, body: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: server.port, path: pathname, method: 'POST', ca, servername: 'localhost', headers: { 'Content-Type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function review(request: AdmissionRequest): Promise<AdmissionResponse> {
  const { status, json } = await post('/mutate', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
  expect(status).toBe(200);
  const body = json as { apiVersion: string; kind: string; response: AdmissionResponse };
  expect(body.apiVersion).toBe('admission.k8s.io/v1');
  expect(body.kind).toBe('AdmissionReview');
  expect(body.response.uid).toBe(request.uid);
  expect(body.response.allowed).toBe(true);
  return body.response;
}

function decodePatch(response: AdmissionResponse): unknown[] {
  expect(response.patchType).toBe('JSONPatch');
  return JSON.parse(Buffer.from(response.patch!, 'base64').toString('utf8')) as unknown[];
}

const spec = () => ({ containers: [{ name: 'app', image: 'nginx:1.27' }] });

describe('POST /mutate over HTTPS', () => {
  it('answers a Pod CREATE with a base64 JSON patch that hardens the pod and annotates it', async () => {
    const pod = objectOf('Pod', spec());
    const response = await review(requestFor(pod, { uid: 'c1f0e5d2-1111-4000-8000-000000000001' }));
    const patched = applyPatch(pod, decodePatch(response) as never);
    expect(at(patched, 'spec', 'securityContext', 'seccompProfile')).toEqual({ type: 'RuntimeDefault' });
    expect(at(patched, 'spec', 'containers', 0, 'securityContext')).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(at(patched, 'metadata', 'annotations', 'bulwark.io/mutated')).toBe('drop-all-capabilities,no-privilege-escalation,seccomp-runtime-default');

    // Reinvocation: the patched pod gets no patch.
    const again = await review(requestFor(patched as K8sObject));
    expect(again.patch).toBeUndefined();
    expect(again.patchType).toBeUndefined();
  });

  it('never patches a Pod UPDATE (a kubectl label must not be rejected)', async () => {
    const pod = objectOf('Pod', spec());
    const response = await review(requestFor(pod, { operation: 'UPDATE', oldObject: pod }));
    expect(response.patch).toBeUndefined();
  });

  it('patches a Deployment UPDATE at spec.template.spec', async () => {
    const deployment = objectOf('Deployment', spec());
    const patch = decodePatch(await review(requestFor(deployment, { operation: 'UPDATE', oldObject: deployment })));
    expect(patch).toContainEqual({ op: 'add', path: '/spec/template/spec/securityContext', value: { seccompProfile: { type: 'RuntimeDefault' } } });
    expect(patch).toContainEqual({
      op: 'add',
      path: '/metadata/annotations',
      value: { 'bulwark.io/mutated': 'drop-all-capabilities,no-privilege-escalation,seccomp-runtime-default' },
    });
  });

  it('patches only the ephemeral container being added on the ephemeralcontainers subresource', async () => {
    const pod = (ephemeralContainers: unknown[]) => objectOf('Pod', { ...spec(), ephemeralContainers });
    const old = { name: 'debugger-1', image: 'busybox' };
    const request = requestFor(pod([old, { name: 'debugger-2', image: 'busybox' }]), {
      operation: 'UPDATE',
      subResource: 'ephemeralcontainers',
      oldObject: pod([old]),
    });
    expect(decodePatch(await review(request))).toEqual([
      { op: 'add', path: '/spec/ephemeralContainers/1/securityContext', value: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
    ]);
  });

  it('gives a dry run the same patch, and leaves an exempt namespace alone', async () => {
    const pod = objectOf('Pod', spec());
    const live = await review(requestFor(pod));
    const dry = await review(requestFor(pod, { dryRun: true }));
    expect(dry.patch).toBe(live.patch);
    const exempt = await review(requestFor(pod, { namespace: 'kube-system' }));
    expect(exempt.patch).toBeUndefined();
  });

  it('answers a body that is not an AdmissionReview with a 400 that says why', async () => {
    const { status, json } = await post('/mutate', JSON.stringify({ kind: 'Pod' }));
    expect(status).toBe(400);
    expect((json as { error: string }).error).toMatch(/AdmissionReview/);
  });
});
