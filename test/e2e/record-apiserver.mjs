// Records what a real kube-apiserver answers to the requests Bulwark makes (webhook registration,
// errors), into test/fixtures/apiserver/recorded.json. test/support/apiserver-standin.test.ts replays them
// against the unit tests' stand-in, so the stand-in stays honest.
//
//   bash test/e2e/cluster.sh start /tmp/rec && node test/e2e/record-apiserver.mjs /tmp/rec && bash test/e2e/cluster.sh stop /tmp/rec
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node test/e2e/record-apiserver.mjs CLUSTER_DIR');
  process.exit(2);
}
const kubeconfig = readFileSync(join(dir, 'kubeconfig'), 'utf8');
const server = /server: (\S+)/.exec(kubeconfig)[1];
const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
const ca = readFileSync(join(dir, 'pki/ca.crt'));

function call(method, path, { body, contentType = 'application/json', auth = `Bearer ${token}` } = {}) {
  return new Promise((resolvePromise, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers = { Accept: 'application/json', Authorization: auth };
    if (payload !== undefined) headers['Content-Type'] = contentType;
    const req = request(new URL(path, server), { method, ca, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        resolvePromise({ status: res.statusCode, contentType: res.headers['content-type'], body: parsed });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

const { buildWebhookConfigurations } = await import(join(root, 'dist/cli/install.js'));
// Any CA will do for the caBundle the recorded configurations carry: a fresh one, never a committed file.
const { createCA } = await import(join(root, 'dist/certs/x509.js'));
const caPem = createCA({ commonName: 'recording-ca' }).certPem;
const { validating, mutating } = buildWebhookConfigurations({ caBundle: caPem, url: 'https://127.0.0.1:8443', mutate: true, name: 'bulwark-rec' });
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

const steps = [];
async function step(name, method, path, opts = {}) {
  const response = await call(method, path, opts);
  steps.push({
    name,
    request: {
      method,
      path,
      contentType: opts.body === undefined ? undefined : (opts.contentType ?? 'application/json'),
      badToken: opts.auth !== undefined,
      body: opts.body,
    },
    response,
  });
  return response;
}

await step('read absent', 'GET', `${VWC}/bulwark-rec`);
const created = await step('create validating', 'POST', VWC, { body: validating });
await step('create mutating', 'POST', MWC, { body: mutating });
await step('create again', 'POST', VWC, { body: validating });
await step('read', 'GET', `${VWC}/bulwark-rec`);
await step('replace with a stale resourceVersion', 'PUT', `${VWC}/bulwark-rec`, {
  body: { ...validating, metadata: { ...validating.metadata, resourceVersion: '1' } },
});
await step('replace', 'PUT', `${VWC}/bulwark-rec`, {
  body: { ...validating, metadata: { ...validating.metadata, resourceVersion: created.body.metadata.resourceVersion } },
});
await step('delete', 'DELETE', `${VWC}/bulwark-rec`);
await step('delete mutating', 'DELETE', `${MWC}/bulwark-rec-mutate`);
await step('delete absent', 'DELETE', `${VWC}/bulwark-rec`);
await step('bad token', 'GET', `${VWC}/bulwark-rec`, { auth: 'Bearer not-a-token' });
await step('wrong content type', 'POST', VWC, { body: 'name: x', contentType: 'text/plain' });

// The alerts API's Kubernetes mode: TokenReview (who) and SubjectAccessReview (may they) as the
// real API server answers them, for a token-file user in group security-readers bound to a
// ClusterRole that may get/list alerts.bulwark.io.
const reviews = {};
const rbac = '/apis/rbac.authorization.k8s.io/v1';
await call('POST', `${rbac}/clusterroles`, {
  body: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'rec-alerts-reader' },
    rules: [{ apiGroups: ['bulwark.io'], resources: ['alerts'], verbs: ['get', 'list'] }],
  },
});
await call('POST', `${rbac}/clusterrolebindings`, {
  body: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'rec-alerts-reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rec-alerts-reader' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'security-readers' }],
  },
});
const readerToken = readFileSync(join(dir, 'reader.token'), 'utf8').trim();
// Audiences: a ServiceAccount token minted for audience "bulwark" (TokenRequest), reviewed for
// "bulwark"; the reader's static token-file token (audience-agnostic) reviewed for "bulwark" too.
await call('POST', '/api/v1/namespaces/default/serviceaccounts', { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'rec-alerts-bot' } } });
const minted = await call('POST', '/api/v1/namespaces/default/serviceaccounts/rec-alerts-bot/token', {
  body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['bulwark'], expirationSeconds: 600 } },
});
const botToken = minted.body?.status?.token;
if (!botToken) throw new Error(`TokenRequest failed: ${JSON.stringify(minted.body)}`);
const redact = (x) => JSON.parse(JSON.stringify(x).split(readerToken).join('REDACTED-READER-TOKEN').split(botToken).join('REDACTED-BOT-TOKEN'));
const tokenReview = (t, audiences) => ({
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenReview',
  spec: { token: t, ...(audiences ? { audiences } : {}) },
});
const sar = (verb) => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: {
    user: 'alice',
    uid: 'alice-uid',
    groups: ['security-readers', 'system:authenticated'],
    resourceAttributes: { group: 'bulwark.io', resource: 'alerts', verb },
  },
});
for (const [name, path, body] of [
  ['token review, valid token', '/apis/authentication.k8s.io/v1/tokenreviews', tokenReview(readerToken)],
  ['token review, unknown token', '/apis/authentication.k8s.io/v1/tokenreviews', tokenReview('not-a-token')],
  ['token review, bound token for bulwark', '/apis/authentication.k8s.io/v1/tokenreviews', tokenReview(botToken, ['bulwark'])],
  ['token review, token-file token for bulwark', '/apis/authentication.k8s.io/v1/tokenreviews', tokenReview(readerToken, ['bulwark'])],
  ['token review, bound token for another audience', '/apis/authentication.k8s.io/v1/tokenreviews', tokenReview(botToken, ['vault'])],
  ['access review, list allowed', '/apis/authorization.k8s.io/v1/subjectaccessreviews', sar('list')],
  ['access review, update denied', '/apis/authorization.k8s.io/v1/subjectaccessreviews', sar('update')],
]) {
  const response = await call('POST', path, { body });
  reviews[name] = redact({ request: { method: 'POST', path, body }, response });
}

const version = await call('GET', '/version');
mkdirSync(join(root, 'test/fixtures/apiserver'), { recursive: true });
writeFileSync(
  join(root, 'test/fixtures/apiserver/recorded.json'),
  JSON.stringify({ recordedFrom: `kube-apiserver ${version.body.gitVersion}`, recordedAt: new Date().toISOString(), steps, reviews }, null, 2) + '\n',
);
console.log(`recorded ${steps.length} exchanges from kube-apiserver ${version.body.gitVersion}`);
