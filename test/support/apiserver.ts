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
  /**
   * Adds an object of a judged kind (Pod, Deployment, ClusterRole, …: apiVersion and kind set),
   * served by the list endpoints `/api/v1/pods`, `/api/v1/namespaces/NS/pods`, `/apis/apps/v1/…`.
   * Fills uid and resourceVersion; returns the stored object.
   */
  addObject(obj: Obj): Obj;
  /** Replaces (or adds) an object of a judged kind; watchers see MODIFIED (or ADDED). */
  updateObject(obj: Obj): Obj;
  /** Deletes an object of a judged kind; watchers see DELETED. */
  deleteObject(apiVersion: string, kind: string, namespace: string, name: string): void;
  /** Whether the wgpolicyk8s.io CRDs are installed (else their paths answer 404 as an unserved API). */
  crds: { installed: boolean };
  /** When set, writes of policyreports answer this status (413, 422, 500, …). */
  reportWrites: { failWith?: number };
  /** Open watch connections. */
  watchers(): number;
  /** Resources (`pods`, `clusterroles`) whose list answers 403 Forbidden. */
  forbidden: Set<string>;
  /** `apiVersion|resource` pairs this server does not serve (404), as `batch/v1|cronjobs` on Kubernetes 1.20. */
  unserved: Set<string>;
  kubeconfig(context?: string): string;
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
  const forbidden = new Set<string>();
  const unserved = new Set<string>();
  // Judged kinds: `apiVersion|resource` → namespaced? (served at /api/v1 or /apis/<group>/<version>).
  const LISTED: Record<string, { resource: string; namespaced: boolean }> = {
    'v1|Pod': { resource: 'pods', namespaced: true },
    'v1|PodTemplate': { resource: 'podtemplates', namespaced: true },
    'v1|ReplicationController': { resource: 'replicationcontrollers', namespaced: true },
    'v1|Service': { resource: 'services', namespaced: true },
    'apps/v1|Deployment': { resource: 'deployments', namespaced: true },
    'apps/v1|ReplicaSet': { resource: 'replicasets', namespaced: true },
    'apps/v1|StatefulSet': { resource: 'statefulsets', namespaced: true },
    'apps/v1|DaemonSet': { resource: 'daemonsets', namespaced: true },
    'batch/v1|Job': { resource: 'jobs', namespaced: true },
    'batch/v1|CronJob': { resource: 'cronjobs', namespaced: true },
    'batch/v1beta1|CronJob': { resource: 'cronjobs', namespaced: true },
    'rbac.authorization.k8s.io/v1|Role': { resource: 'roles', namespaced: true },
    'rbac.authorization.k8s.io/v1|RoleBinding': { resource: 'rolebindings', namespaced: true },
    'rbac.authorization.k8s.io/v1|ClusterRole': { resource: 'clusterroles', namespaced: false },
    'rbac.authorization.k8s.io/v1|ClusterRoleBinding': { resource: 'clusterrolebindings', namespaced: false },
    'networking.k8s.io/v1|Ingress': { resource: 'ingresses', namespaced: true },
  };
  const listed = new Map<string, Obj>(); // `apiVersion|resource|namespace|name` → object
  const LIST_PATH = /^\/(?:api\/(v1)|apis\/([^/]+\/v1(?:beta1)?))\/(?:namespaces\/([^/]+)\/)?([a-z]+)$/;
  // Watch: every change is an event with its resourceVersion; a watch replays those after the
  // resourceVersion it asks for, then streams new ones (one JSON object per line, as the real server).
  const events: { rv: number; type: string; apiVersion: string; resource: string; namespace: string; obj: Obj }[] = [];
  const watches = new Set<{ apiVersion: string; resource: string; namespace: string | undefined; res: import('node:http').ServerResponse }>();
  const crds = { installed: true };
  const reportWrites: { failWith?: number } = {};
  const emit = (type: string, apiVersion: string, resource: string, namespace: string, obj: Obj): void => {
    const event = { rv: resourceVersion, type, apiVersion, resource, namespace, obj: structuredClone(obj) };
    events.push(event);
    for (const w of watches) {
      if (w.apiVersion === apiVersion && w.resource === resource && (w.namespace === undefined || w.namespace === namespace)) {
        w.res.write(JSON.stringify({ type, object: event.obj }) + '\n');
      }
    }
  };
  const keyOf = (obj: Obj): { key: string; resource: string; namespace: string } => {
    const entry = LISTED[`${obj.apiVersion}|${obj.kind}`];
    if (!entry) throw new Error(`the stand-in does not serve ${obj.apiVersion} ${obj.kind}`);
    const namespace = entry.namespaced ? (obj.metadata?.namespace ?? 'default') : '';
    return { key: `${obj.apiVersion}|${entry.resource}|${namespace}|${obj.metadata?.name}`, resource: entry.resource, namespace };
  };
  const updateObject = (input: Obj): Obj => {
    const obj = structuredClone(input);
    const { key, resource, namespace } = keyOf(obj);
    const existing = listed.get(key);
    obj.metadata = { ...obj.metadata, uid: existing?.metadata.uid ?? obj.metadata?.uid ?? randomUUID(), resourceVersion: String(++resourceVersion) };
    if (entryNamespaced(obj) && !obj.metadata.namespace) obj.metadata.namespace = namespace;
    listed.set(key, obj);
    emit(existing ? 'MODIFIED' : 'ADDED', obj.apiVersion, resource, namespace, obj);
    return obj;
  };
  const entryNamespaced = (obj: Obj): boolean => !!LISTED[`${obj.apiVersion}|${obj.kind}`]?.namespaced;
  const addObject = (input: Obj): Obj => updateObject(input);
  const deleteObject = (apiVersion: string, kind: string, namespace: string, name: string): void => {
    const { key, resource, namespace: ns } = keyOf({ apiVersion, kind, metadata: { name, namespace } });
    const existing = listed.get(key);
    if (!existing) return;
    listed.delete(key);
    resourceVersion++;
    emit('DELETED', apiVersion, resource, ns, { ...existing, metadata: { ...existing.metadata, resourceVersion: String(resourceVersion) } });
  };
  const STORED =
    /^\/apis\/(wgpolicyk8s\.io\/v1alpha2|coordination\.k8s\.io\/v1)\/(?:namespaces\/([^/]+)\/)?(policyreports|clusterpolicyreports|leases)(?:\/([^/]+))?$/;

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
        method: req.method ?? '',
        path: url.pathname,
        query: url.search,
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body,
      });
      const send = (code: number, payload: Obj) => {
        const text = JSON.stringify(payload);
        res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));

      const list = req.method === 'GET' ? LIST_PATH.exec(url.pathname) : null;
      const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
      if (isWatch && (!list || list[4] === 'namespaces')) {
        // Watches of what the stand-in does not change by events (namespaces): open, silent.
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
        return;
      }
      const stored = STORED.exec(url.pathname);
      if (stored) {
        const [, apiVersion, namespace, resource, objName] = stored as unknown as [string, string, string | undefined, string, string | undefined];
        const group = apiVersion.split('/')[0]!;
        if (group === 'wgpolicyk8s.io' && !crds.installed) return send(404, status(404, 'NotFound', 'the server could not find the requested resource', {}));
        const kind = resource === 'leases' ? 'Lease' : resource === 'policyreports' ? 'PolicyReport' : 'ClusterPolicyReport';
        const collection = `${apiVersion}|${resource}|${namespace ?? ''}`;
        const key = `${collection}|${objName ?? ''}`;
        const missing = (n: string) => send(404, status(404, 'NotFound', `${resource}.${group} "${n}" not found`, { name: n, group, kind: resource }));
        if (req.method === 'GET' && objName) return objects.has(key) ? send(200, objects.get(key)!) : missing(objName);
        if (req.method === 'DELETE' && objName) {
          if (!objects.has(key)) return missing(objName);
          objects.delete(key);
          return send(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
        }
        if (req.method === 'GET') {
          const items = [...objects.entries()].filter(([k]) => k.startsWith(collection + '|')).map(([, v]) => v);
          return send(200, { kind: `${kind}List`, apiVersion, metadata: { resourceVersion: String(resourceVersion) }, items });
        }
        const obj = structuredClone(body) as Obj;
        if (!obj || typeof obj !== 'object') return send(400, status(400, 'BadRequest', 'the object provided is unrecognized'));
        if (group === 'wgpolicyk8s.io' && reportWrites.failWith) {
          const code = reportWrites.failWith;
          return send(
            code,
            status(
              code,
              code === 413 ? 'RequestEntityTooLarge' : code === 422 ? 'Invalid' : 'InternalError',
              code === 413 ? 'Request entity too large: limit is 3145728' : `${kind} "${obj.metadata?.name}" is invalid: request is too large`,
            ),
          );
        }
        if (req.method === 'POST' && !objName) {
          const n = obj.metadata?.name;
          const newKey = `${collection}|${n}`;
          if (objects.has(newKey))
            return send(409, status(409, 'AlreadyExists', `${resource}.${group} "${n}" already exists`, { name: n, group, kind: resource }));
          obj.metadata = {
            ...obj.metadata,
            ...(namespace ? { namespace } : {}),
            uid: randomUUID(),
            resourceVersion: String(++resourceVersion),
            creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          };
          objects.set(newKey, obj);
          return send(201, obj);
        }
        if (req.method === 'PUT' && objName) {
          const existing = objects.get(key);
          if (!existing) return missing(objName);
          if (obj.metadata?.resourceVersion !== existing.metadata.resourceVersion) {
            return send(
              409,
              status(
                409,
                'Conflict',
                `Operation cannot be fulfilled on ${resource}.${group} "${objName}": the object has been modified; please apply your changes to the latest version and try again`,
                { name: objName, group, kind: resource },
              ),
            );
          }
          obj.metadata = {
            ...obj.metadata,
            uid: existing.metadata.uid,
            creationTimestamp: existing.metadata.creationTimestamp,
            resourceVersion: String(++resourceVersion),
          };
          objects.set(key, obj);
          return send(200, obj);
        }
        return send(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
      }
      if (list && list[4] !== 'namespaces' && !(list[3] && url.pathname.startsWith('/api/v1/namespaces/') && !list[4])) {
        const apiVersion = list[1] ?? list[2]!;
        const namespace = list[3];
        const resource = list[4]!;
        const entry = Object.entries(LISTED).find(([k, v]) => k.startsWith(apiVersion + '|') && v.resource === resource);
        if (entry && unserved.has(`${apiVersion}|${resource}`)) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
        if (entry) {
          const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
          if (forbidden.has(resource)) {
            const user = 'system:serviceaccount:standin:reader';
            return send(
              403,
              status(
                403,
                'Forbidden',
                `${resource}${group ? '.' + group : ''} is forbidden: User "${user}" cannot list resource "${resource}" in API group "${group}"${namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope'}`,
                { kind: resource, group },
              ),
            );
          }
          if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
            const from = Number(url.searchParams.get('resourceVersion') ?? 0);
            const w = { apiVersion, resource, namespace, res };
            res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
            for (const e of events) {
              if (e.rv > from && e.apiVersion === apiVersion && e.resource === resource && (namespace === undefined || e.namespace === namespace)) {
                res.write(JSON.stringify({ type: e.type, object: e.obj }) + '\n');
              }
            }
            watches.add(w);
            res.on('close', () => watches.delete(w));
            return;
          }
          const all = [...listed.entries()]
            .filter(([k]) => k.startsWith(`${apiVersion}|${resource}|${namespace ?? ''}`))
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([, v]) => v);
          // Paging as the real server does: limit, and an opaque continue token (here an offset).
          const limit = Number(url.searchParams.get('limit') ?? 0) || all.length;
          const offset = Number(Buffer.from(url.searchParams.get('continue') ?? '', 'base64').toString() || 0);
          const items = all.slice(offset, offset + limit).map((o) => {
            const { kind: _k, apiVersion: _a, ...rest } = o;
            return rest;
          });
          const more = offset + limit < all.length;
          const kind = entry[0].split('|')[1]!;
          return send(200, {
            kind: `${kind}List`,
            apiVersion,
            metadata: { resourceVersion: String(resourceVersion), ...(more ? { continue: Buffer.from(String(offset + limit)).toString('base64') } : {}) },
            items,
          });
        }
      }
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
        return send(200, {
          kind: `${kind}List`,
          apiVersion: prefix.split('/').slice(2, 4).join('/'),
          metadata: { resourceVersion: String(resourceVersion) },
          items,
        });
      }
      if (req.method === 'GET') return objects.has(key) ? send(200, objects.get(key)!) : notFound();
      if (req.method === 'DELETE') {
        if (!objects.has(key)) return notFound();
        objects.delete(key);
        return send(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group, kind: resource, uid: randomUUID() } });
      }
      if (req.headers['content-type'] !== 'application/json')
        return send(
          415,
          status(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
          ),
        );
      const obj = structuredClone(body) as Obj;
      if (!obj || typeof obj !== 'object') return send(400, status(400, 'BadRequest', 'the object provided is unrecognized'));
      if (req.method === 'POST') {
        const newName = obj.metadata?.name;
        if (!newName) return send(422, status(422, 'Invalid', `${kind} "" is invalid: metadata.name: Required value: name or generateName is required`));
        const newKey = `${prefix}/${newName}`;
        if (objects.has(newKey))
          return send(409, status(409, 'AlreadyExists', `${qualified} "${newName}" already exists`, { name: newName, group, kind: resource }));
        obj.metadata = {
          ...obj.metadata,
          uid: randomUUID(),
          resourceVersion: String(++resourceVersion),
          generation: 1,
          creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        };
        defaultWebhooks(obj, mutating);
        objects.set(newKey, obj);
        return send(201, obj);
      }
      if (req.method === 'PUT') {
        const existing = objects.get(key);
        if (!existing) return notFound();
        if (obj.metadata?.resourceVersion !== existing.metadata.resourceVersion) {
          return send(
            409,
            status(
              409,
              'Conflict',
              `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
              { name, group, kind: resource },
            ),
          );
        }
        obj.metadata = {
          ...obj.metadata,
          uid: existing.metadata.uid,
          creationTimestamp: existing.metadata.creationTimestamp,
          resourceVersion: String(++resourceVersion),
          generation: existing.metadata.generation + 1,
        };
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
    addObject,
    updateObject,
    deleteObject,
    crds,
    reportWrites,
    watchers: () => watches.size,
    forbidden,
    unserved,
    kubeconfig: (context = 'standin') => `apiVersion: v1
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
- name: ${context}
  context: {cluster: standin, user: admin}
current-context: ${context}
`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
