// A local HTTPS stand-in for kube-apiserver: an in-memory object store behind the real REST
// paths, verbs, content types and Status errors, recording every request it receives.
// Kept honest against requests recorded from a real kube-apiserver (test/e2e, DESIGN.md notes).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCA, createServingCert } from '../../certs/x509.js';

type Obj = Record<string, any>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

export interface StandIn {
  url: string;
  caPem: string;
  token: string;
  requests: RecordedRequest[];
  objects: Map<string, Obj>;
  /** Extra handlers for POST-only review APIs (tokenreviews, subjectaccessreviews). */
  reviews: Map<string, (body: Obj) => Obj>;
  kubeconfig(): string;
  close(): Promise<void>;
}

/** Cluster-scoped resources the stand-in serves, by `group/version/resource` path prefix. */
const CLUSTER_RESOURCES: Record<string, { kind: string; group: string }> = {
  '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations': { kind: 'ValidatingWebhookConfiguration', group: 'admissionregistration.k8s.io' },
  '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations': { kind: 'MutatingWebhookConfiguration', group: 'admissionregistration.k8s.io' },
  '/api/v1/namespaces': { kind: 'Namespace', group: '' },
};

function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** The defaults kube-apiserver fills into webhook configurations (admissionregistration/v1). */
function defaultWebhooks(obj: Obj, mutating: boolean): void {
  for (const w of obj.webhooks ?? []) {
    w.matchPolicy ??= 'Equivalent';
    w.namespaceSelector ??= {};
    w.objectSelector ??= {};
    w.timeoutSeconds ??= 10;
    w.failurePolicy ??= 'Fail';
    if (mutating) w.reinvocationPolicy ??= 'Never';
    for (const r of w.rules ?? []) r.scope ??= '*';
    if (w.clientConfig?.service) w.clientConfig.service.port ??= 443;
  }
}

export async function startApiServerStandIn(): Promise<StandIn> {
  const ca = createCA({ commonName: 'standin-ca' });
  const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const token = randomUUID();
  const requests: RecordedRequest[] = [];
  const objects = new Map<string, Obj>();
  const reviews = new Map<string, (body: Obj) => Obj>();
  let resourceVersion = 1000;

  const server: Server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
      }
      requests.push({
        method: req.method ?? '', path: url.pathname, query: url.search, contentType: req.headers['content-type'],
        authorization: req.headers.authorization, body,
      });
      const send = (code: number, payload: Obj) => {
        const text = JSON.stringify(payload);
        res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));

      const review = reviews.get(url.pathname);
      if (review && req.method === 'POST') return send(201, review(body as Obj));

      const prefix = Object.keys(CLUSTER_RESOURCES).find((p) => url.pathname === p || url.pathname.startsWith(p + '/'));
      if (!prefix) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      const { kind, group } = CLUSTER_RESOURCES[prefix]!;
      const resource = prefix.slice(prefix.lastIndexOf('/') + 1);
      const name = url.pathname.slice(prefix.length + 1);
      const key = `${prefix}/${name}`;
      const qualified = group ? `${resource}.${group}` : resource;
      const notFound = () => send(404, status(404, 'NotFound', `${qualified} "${name}" not found`, { name, group, kind: resource }));
      const mutating = kind === 'MutatingWebhookConfiguration';

      if (req.method === 'GET' && !name) {
        const items = [...objects.entries()].filter(([k]) => k.startsWith(prefix + '/')).map(([, v]) => v);
        return send(200, { kind: `${kind}List`, apiVersion: prefix.split('/').slice(2, 4).join('/'), metadata: { resourceVersion: String(resourceVersion) }, items });
      }
      if (req.method === 'GET') return objects.has(key) ? send(200, objects.get(key)!) : notFound();
      if (req.method === 'DELETE') {
        if (!objects.has(key)) return notFound();
        objects.delete(key);
        return send(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group, kind: resource, uid: randomUUID() } });
      }
      if (req.headers['content-type'] !== 'application/json') return send(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`));
      const obj = structuredClone(body) as Obj;
      if (!obj || typeof obj !== 'object') return send(400, status(400, 'BadRequest', 'the object provided is unrecognized'));
      if (req.method === 'POST') {
        const newName = obj.metadata?.name;
        if (!newName) return send(422, status(422, 'Invalid', `${kind} "" is invalid: metadata.name: Required value: name or generateName is required`));
        const newKey = `${prefix}/${newName}`;
        if (objects.has(newKey)) return send(409, status(409, 'AlreadyExists', `${qualified} "${newName}" already exists`, { name: newName, group, kind: resource }));
        obj.metadata = { ...obj.metadata, uid: randomUUID(), resourceVersion: String(++resourceVersion), generation: 1, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
        defaultWebhooks(obj, mutating);
        objects.set(newKey, obj);
        return send(201, obj);
      }
      if (req.method === 'PUT') {
        const existing = objects.get(key);
        if (!existing) return notFound();
        if (obj.metadata?.resourceVersion !== existing.metadata.resourceVersion) {
          return send(409, status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group, kind: resource }));
        }
        obj.metadata = { ...obj.metadata, uid: existing.metadata.uid, creationTimestamp: existing.metadata.creationTimestamp, resourceVersion: String(++resourceVersion), generation: existing.metadata.generation + 1 };
        defaultWebhooks(obj, mutating);
        objects.set(key, obj);
        return send(200, obj);
      }
      return send(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  return {
    url,
    caPem: ca.certPem,
    token,
    requests,
    objects,
    reviews,
    kubeconfig: () => `apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster:
    server: ${url}
    certificate-authority-data: ${Buffer.from(ca.certPem).toString('base64')}
users:
- name: admin
  user:
    token: ${token}
contexts:
- name: standin
  context: {cluster: standin, user: admin}
current-context: standin
`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
