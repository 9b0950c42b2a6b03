// Each audit rule, firing and not firing, on events shaped like the API server's.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../audit/analyser.js';
import type { AuditEvent } from '../../audit/event.js';
import { findCredentials } from '../../audit/rules/configmap-credentials.js';
import { DEFAULT_CREDENTIAL_KEY_NAMES } from '../../audit/config.js';
import { defaultConfig } from '../../config/load.js';
import { ALICE, auditEvent } from './helpers.js';

function typesOf(ev: AuditEvent, audit: Record<string, unknown> = {}): string[] {
  const analyser = new AuditAnalyser({ config: { ...defaultConfig(), audit } });
  return analyser.analyse(ev).map((a) => a.type);
}

const forbidden = { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403 } as AuditEvent['responseStatus'];
const execRef = { resource: 'pods', namespace: 'kube-system', name: 'etcd-0', apiVersion: 'v1', subresource: 'exec' };
const execURI = '/api/v1/namespaces/kube-system/pods/etcd-0/exec?command=sh&command=-c&command=id&container=etcd&stdin=true&stdout=true';
const cm = (data: Record<string, string>) => ({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'app', namespace: 'prod' }, data });
const cmRef = { resource: 'configmaps', namespace: 'prod', name: 'app', apiVersion: 'v1' };
const svc = (type: string) => ({
  kind: 'Service',
  apiVersion: 'v1',
  metadata: { name: 'web', namespace: 'prod' },
  spec: { type, ports: [{ port: 80, nodePort: 30080 }] },
});
const svcRef = { resource: 'services', namespace: 'prod', name: 'web', apiVersion: 'v1' };
const webhookRef = { resource: 'validatingwebhookconfigurations', name: 'bulwark', apiGroup: 'admissionregistration.k8s.io', apiVersion: 'v1' };
const sa = (name: string) => ({ username: `system:serviceaccount:${name}`, groups: ['system:serviceaccounts', 'system:authenticated'] });
const anonymous = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
const nodeProxy = (verb: string, kubeletPath: string) => ({
  stage: 'ResponseStarted' as const,
  verb,
  requestURI: `/api/v1/nodes/worker-1/proxy${kubeletPath}`,
  objectRef: { resource: 'nodes', name: 'worker-1', subresource: 'proxy', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 101 },
});

interface Case {
  name: string;
  event: Partial<AuditEvent> & Record<string, unknown>;
  fires: boolean;
  audit?: Record<string, unknown>;
}

const cases: Record<string, Case[]> = {
  'exec-into-pod': [
    {
      name: 'SPDY exec (create) at ResponseStarted',
      event: { stage: 'ResponseStarted', verb: 'create', requestURI: execURI, objectRef: execRef, responseStatus: { metadata: {}, code: 101 } },
      fires: true,
    },
    {
      name: 'WebSocket exec (get)',
      event: { stage: 'ResponseStarted', verb: 'get', requestURI: execURI, objectRef: execRef, responseStatus: { metadata: {}, code: 101 } },
      fires: true,
    },
    {
      name: 'attach',
      event: {
        stage: 'ResponseStarted',
        verb: 'create',
        requestURI: '/api/v1/namespaces/prod/pods/web-0/attach?stdin=true',
        objectRef: { ...execRef, namespace: 'prod', name: 'web-0', subresource: 'attach' },
        responseStatus: { metadata: {}, code: 101 },
      },
      fires: true,
    },
    { name: 'forbidden exec', event: { verb: 'create', requestURI: execURI, objectRef: execRef, responseStatus: forbidden }, fires: false },
    {
      name: 'pod logs',
      event: { verb: 'get', requestURI: '/api/v1/namespaces/prod/pods/web-0/log', objectRef: { ...execRef, subresource: 'log' } },
      fires: false,
    },
    {
      name: 'port-forward',
      event: { stage: 'ResponseStarted', verb: 'create', objectRef: { ...execRef, subresource: 'portforward' }, responseStatus: { metadata: {}, code: 101 } },
      fires: false,
    },
    {
      name: 'kubelet /exec/ through nodes/proxy (WebSocket get)',
      event: nodeProxy('get', '/exec/kube-system/etcd-0/etcd?command=sh&input=1&output=1&tty=1'),
      fires: true,
    },
    {
      name: 'kubelet /exec/ with the pod uid through nodes/proxy (create)',
      event: nodeProxy('create', '/exec/prod/web-0/0b6c1d4e-1111-2222-3333-444455556666/app?command=id'),
      fires: true,
    },
    { name: 'kubelet /attach/ through nodes/proxy', event: nodeProxy('create', '/attach/prod/web-0/app?input=1&output=1'), fires: true },
    {
      name: 'kubelet /run/ through nodes/proxy',
      event: nodeProxy('create', '/run/prod/web-0/app?cmd=cat+/var/run/secrets/kubernetes.io/serviceaccount/token'),
      fires: true,
    },
    { name: 'kubelet /portForward/ through nodes/proxy', event: nodeProxy('create', '/portForward/prod/web-0?port=5432'), fires: true },
    { name: 'a percent-encoded kubelet path (%65xec)', event: nodeProxy('get', '/%65xec/prod/web-0/app?command=sh'), fires: true },
    { name: 'a doubled slash before exec', event: nodeProxy('get', '//exec/prod/web-0/app?command=sh'), fires: true },
    {
      name: 'nodes/proxy on the kubelet port (name:port)',
      event: {
        ...nodeProxy('create', '/run/prod/web-0/app?cmd=id'),
        requestURI: '/api/v1/nodes/worker-1:10250/proxy/run/prod/web-0/app?cmd=id',
        objectRef: { resource: 'nodes', name: 'worker-1:10250', subresource: 'proxy', apiVersion: 'v1' },
      },
      fires: true,
    },
    { name: 'kubelet /pods through nodes/proxy (a read, not exec)', event: nodeProxy('get', '/pods'), fires: false },
    { name: 'kubelet /metrics through nodes/proxy', event: nodeProxy('get', '/metrics/cadvisor'), fires: false },
    { name: 'kubelet container logs', event: nodeProxy('get', '/containerLogs/prod/web-0/app'), fires: false },
    { name: 'a forbidden kubelet exec', event: { ...nodeProxy('create', '/exec/prod/web-0/app?command=id'), responseStatus: forbidden }, fires: false },
  ],
  'kube-events-deleted': [
    {
      name: 'core events deletecollection',
      event: { verb: 'deletecollection', requestURI: '/api/v1/namespaces/prod/events', objectRef: { resource: 'events', namespace: 'prod', apiVersion: 'v1' } },
      fires: true,
    },
    {
      name: 'events.k8s.io delete',
      event: {
        verb: 'delete',
        requestURI: '/apis/events.k8s.io/v1/namespaces/prod/events/web.17d',
        objectRef: { resource: 'events', namespace: 'prod', name: 'web.17d', apiGroup: 'events.k8s.io', apiVersion: 'v1' },
      },
      fires: true,
    },
    {
      name: 'by a system: identity',
      event: {
        verb: 'delete',
        user: sa('kube-system:namespace-controller'),
        objectRef: { resource: 'events', namespace: 'prod', name: 'x', apiVersion: 'v1' },
      },
      fires: false,
    },
    {
      name: 'failed delete',
      event: { verb: 'delete', responseStatus: forbidden, objectRef: { resource: 'events', namespace: 'prod', name: 'x', apiVersion: 'v1' } },
      fires: false,
    },
    { name: 'listing events', event: { verb: 'list', objectRef: { resource: 'events', namespace: 'prod', apiVersion: 'v1' } }, fires: false },
    {
      name: 'a dry run',
      event: {
        verb: 'delete',
        requestURI: '/api/v1/namespaces/prod/events/x?dryRun=All',
        objectRef: { resource: 'events', namespace: 'prod', name: 'x', apiVersion: 'v1' },
      },
      fires: false,
    },
  ],
  'pentest-tool': [
    { name: 'kube-hunter, forbidden', event: { userAgent: 'kube-hunter/0.6.8', user: anonymous, responseStatus: forbidden }, fires: true },
    { name: 'peirates (case-insensitive)', event: { userAgent: 'Peirates/1.1.13 (linux/amd64)' }, fires: true },
    {
      name: 'a 401 from kubeletctl',
      event: { stage: 'ResponseStarted', userAgent: 'kubeletctl', user: {}, responseStatus: { metadata: {}, code: 401 } },
      fires: true,
    },
    { name: 'kubectl', event: {}, fires: false },
    { name: 'kube-bench is defensive', event: { userAgent: 'kube-bench/v0.7.0' }, fires: false },
    { name: 'a tool added in config', event: { userAgent: 'evil-scanner/1.0' }, fires: true, audit: { attackToolUserAgents: ['evil-scanner'] } },
  ],
  'anonymous-request-allowed': [
    {
      name: 'anonymous list of namespaces',
      event: { user: anonymous, verb: 'list', requestURI: '/api/v1/namespaces', objectRef: { resource: 'namespaces', apiVersion: 'v1' } },
      fires: true,
    },
    { name: 'anonymous non-resource path', event: { user: anonymous, requestURI: '/metrics', objectRef: undefined }, fires: true },
    {
      name: 'authorizer allowed (decision annotation), error response',
      event: { user: anonymous, requestURI: '/api/v1/namespaces/x/pods/y', responseStatus: { metadata: {}, code: 404 } },
      fires: true,
    },
    { name: '/healthz', event: { user: anonymous, requestURI: '/healthz', objectRef: undefined }, fires: false },
    { name: '/livez/etcd sub-path', event: { user: anonymous, requestURI: '/livez/etcd?verbose', objectRef: undefined }, fires: false },
    { name: '/version', event: { user: anonymous, requestURI: '/version?timeout=32s', objectRef: undefined }, fires: false },
    { name: '/versions is not /version', event: { user: anonymous, requestURI: '/versions', objectRef: undefined }, fires: true },
    { name: 'forbidden', event: { user: anonymous, responseStatus: forbidden, annotations: { 'authorization.k8s.io/decision': 'forbid' } }, fires: false },
    { name: 'an authenticated user', event: { requestURI: '/api/v1/namespaces' }, fires: false },
    {
      name: 'an anonymous client impersonating someone (the authenticated user is anonymous)',
      event: {
        user: anonymous,
        impersonatedUser: { username: 'system:serviceaccount:kube-system:default', groups: [] },
        requestURI: '/api/v1/namespaces/kube-system/secrets',
        objectRef: { resource: 'secrets', namespace: 'kube-system', apiVersion: 'v1' },
      },
      fires: true,
    },
    { name: 'a user impersonating system:anonymous', event: { impersonatedUser: anonymous, requestURI: '/api/v1/namespaces' }, fires: false },
  ],
  'admission-webhook-modified': [
    { name: 'patch by a user', event: { verb: 'patch', objectRef: webhookRef }, fires: true },
    { name: 'delete of a mutating webhook', event: { verb: 'delete', objectRef: { ...webhookRef, resource: 'mutatingwebhookconfigurations' } }, fires: true },
    {
      name: 'by cert-manager cainjector (default admin)',
      event: { verb: 'update', user: sa('cert-manager:cert-manager-cainjector'), objectRef: webhookRef },
      fires: false,
    },
    {
      name: 'by a configured admin (glob)',
      event: { verb: 'update', user: { username: 'argo-admin', groups: [] }, objectRef: webhookRef },
      fires: false,
      audit: { webhookAdmins: ['argo-*'] },
    },
    { name: 'a get', event: { verb: 'get', objectRef: webhookRef }, fires: false },
    { name: 'a failed update', event: { verb: 'update', objectRef: webhookRef, responseStatus: forbidden }, fires: false },
  ],
  'coredns-modified': [
    {
      name: 'update',
      event: { verb: 'update', objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'coredns', apiVersion: 'v1' } },
      fires: true,
    },
    {
      name: 'delete',
      event: { verb: 'delete', objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'coredns', apiVersion: 'v1' } },
      fires: true,
    },
    { name: 'a get', event: { verb: 'get', objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'coredns', apiVersion: 'v1' } }, fires: false },
    {
      name: 'another configmap',
      event: { verb: 'update', objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'kube-proxy', apiVersion: 'v1' } },
      fires: false,
    },
    {
      name: 'coredns in another namespace',
      event: { verb: 'update', objectRef: { resource: 'configmaps', namespace: 'dns', name: 'coredns', apiVersion: 'v1' } },
      fires: false,
    },
  ],
  'secrets-enumerated': [
    {
      name: 'list across namespaces',
      event: { verb: 'list', requestURI: '/api/v1/secrets?limit=500', objectRef: { resource: 'secrets', apiVersion: 'v1' } },
      fires: true,
    },
    {
      name: 'watch across namespaces',
      event: { stage: 'ResponseStarted', verb: 'watch', requestURI: '/api/v1/secrets?watch=true', objectRef: { resource: 'secrets', apiVersion: 'v1' } },
      fires: true,
    },
    { name: 'list in one namespace', event: { verb: 'list', objectRef: { resource: 'secrets', namespace: 'prod', apiVersion: 'v1' } }, fires: false },
    {
      name: 'the controller manager (control plane)',
      event: { verb: 'list', user: { username: 'system:kube-controller-manager', groups: [] }, objectRef: { resource: 'secrets', apiVersion: 'v1' } },
      fires: false,
    },
    {
      name: 'a control-plane controller service account',
      event: { verb: 'list', user: sa('kube-system:namespace-controller'), objectRef: { resource: 'secrets', apiVersion: 'v1' } },
      fires: false,
    },
    {
      name: 'a stolen service-account token (not control plane)',
      event: { verb: 'list', user: sa('prod:web'), objectRef: { resource: 'secrets', apiVersion: 'v1' } },
      fires: true,
    },
    {
      name: 'a node (system:node:*) listing every secret',
      event: { verb: 'list', user: { username: 'system:node:worker-1', groups: ['system:nodes'] }, objectRef: { resource: 'secrets', apiVersion: 'v1' } },
      fires: false,
    },
    {
      name: 'a system: name outside the control-plane list',
      event: {
        verb: 'watch',
        stage: 'ResponseStarted',
        user: { username: 'system:serviceaccount:kube-system:default', groups: [] },
        objectRef: { resource: 'secrets', apiVersion: 'v1' },
      },
      fires: true,
    },
    {
      name: 'impersonating the controller manager',
      event: {
        verb: 'list',
        impersonatedUser: { username: 'system:kube-controller-manager', groups: [] },
        objectRef: { resource: 'secrets', apiVersion: 'v1' },
      },
      fires: true,
    },
    { name: 'forbidden', event: { verb: 'list', responseStatus: forbidden, objectRef: { resource: 'secrets', apiVersion: 'v1' } }, fires: false },
  ],
  'configmap-credentials': [
    { name: 'password key', event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ DB_PASSWORD: 'hunter2' }) }, fires: true },
    {
      name: 'AWS key ID in a file',
      event: {
        level: 'RequestResponse',
        verb: 'update',
        objectRef: cmRef,
        requestObject: cm({ 'credentials.ini': '[default]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\n' }),
      },
      fires: true,
    },
    {
      name: 'private key block',
      event: {
        level: 'RequestResponse',
        verb: 'create',
        objectRef: cmRef,
        requestObject: cm({ 'tls.key': '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n' }),
      },
      fires: true,
    },
    {
      name: 'patch: read from the response object',
      event: {
        level: 'RequestResponse',
        verb: 'patch',
        objectRef: cmRef,
        requestObject: { data: { api_key: 'x' } },
        responseObject: cm({ api_key: 'sk_live_123' }),
      },
      fires: true,
    },
    {
      name: 'passphrase key',
      event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ GPG_PASSPHRASE: 'correct horse' }) },
      fires: true,
    },
    {
      name: 'passphrase setting in a file',
      event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ 'ssh.conf': 'key_passphrase = s3cret\n' }) },
      fires: true,
    },
    {
      name: 'camelCase secretAccessKey (ends in access_key)',
      event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ secretAccessKey: 'abc' }) },
      fires: true,
    },
    {
      name: 'an aws_secret_access_key line with a short value',
      event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ 'aws.ini': '[default]\naws_secret_access_key = short-one\n' }) },
      fires: true,
    },
    {
      name: 'S3_ACCESS_KEY data key',
      event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ S3_ACCESS_KEY: 'minio' }) },
      fires: true,
    },
    { name: 'empty password', event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ password: '' }) }, fires: false },
    {
      name: 'placeholder',
      event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ 'app.conf': 'db.password=${DB_PASSWORD}\n' }) },
      fires: false,
    },
    {
      name: 'harmless data',
      event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ token_ttl: '3600', log_level: 'debug' }) },
      fires: false,
    },
    { name: 'Metadata level (no body)', event: { verb: 'create', objectRef: cmRef }, fires: false },
    {
      name: 'a dry run',
      event: {
        level: 'RequestResponse',
        verb: 'create',
        requestURI: '/api/v1/namespaces/prod/configmaps?dryRun=All',
        objectRef: cmRef,
        requestObject: cm({ DB_PASSWORD: 'hunter2' }),
      },
      fires: false,
    },
  ],
  'nodeport-service': [
    { name: 'NodePort create', event: { level: 'RequestResponse', verb: 'create', objectRef: svcRef, requestObject: svc('NodePort') }, fires: true },
    {
      name: 'NodePort from the response (level Request kept nothing else)',
      event: { level: 'RequestResponse', verb: 'create', objectRef: svcRef, responseObject: svc('NodePort') },
      fires: true,
    },
    { name: 'ClusterIP', event: { level: 'RequestResponse', verb: 'create', objectRef: svcRef, requestObject: svc('ClusterIP') }, fires: false },
    {
      name: 'failed create',
      event: { level: 'RequestResponse', verb: 'create', objectRef: svcRef, requestObject: svc('NodePort'), responseStatus: forbidden },
      fires: false,
    },
    {
      name: 'dry run',
      event: {
        level: 'RequestResponse',
        verb: 'create',
        requestURI: '/api/v1/namespaces/prod/services?dryRun=All',
        objectRef: svcRef,
        requestObject: svc('NodePort'),
      },
      fires: false,
    },
  ],
};

describe.each(Object.entries(cases))('%s', (type, table) => {
  it.each(table)('$name → fires: $fires', ({ event, fires, audit }) => {
    const types = typesOf(auditEvent(event), audit);
    if (fires) expect(types).toContain(type);
    else expect(types).not.toContain(type);
  });
});

describe('alert content', () => {
  it('exec: the message names the user, the pod and the command; kube-system is high', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const [alert] = analyser.analyse(
      auditEvent({ stage: 'ResponseStarted', verb: 'create', requestURI: execURI, objectRef: execRef, responseStatus: { metadata: {}, code: 101 } }),
    );
    expect(alert!.message).toBe(`alice@example.com exec'd into pod kube-system/etcd-0 ("sh -c id") in container "etcd"`);
    expect(alert!.severity).toBe('high');
    expect(alert!.resource).toEqual({ group: '', version: 'v1', kind: 'Pod', name: 'etcd-0' });
    expect(alert!.evidence).toMatchObject({ verb: 'create', stage: 'ResponseStarted', responseCode: 101, command: ['sh', '-c', 'id'], container: 'etcd' });
    expect(alert).toMatchObject({
      source: 'audit',
      status: 'active',
      count: 1,
      user: ALICE,
      sourceIPs: ['10.0.0.5'],
      userAgent: expect.stringContaining('kubectl'),
    });
    expect(alert!.tactics).toEqual(['Execution']);
  });

  it('exec through the kubelet API names the node, the pod and the command; it is high', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const [alert] = analyser.analyse(auditEvent(nodeProxy('get', '/exec/prod/web-0/app?command=sh&command=-c&command=id&input=1')));
    expect(alert!.type).toBe('exec-into-pod');
    expect(alert!.message).toBe(
      `alice@example.com exec'd into pod prod/web-0 ("sh -c id") in container "app" through the kubelet API of node worker-1 (nodes/proxy)`,
    );
    expect(alert!.severity).toBe('high');
    expect(alert!.namespace).toBe('prod');
    expect(alert!.resource).toEqual({ group: '', version: 'v1', kind: 'Pod', name: 'web-0' });
    expect(alert!.evidence).toMatchObject({
      node: 'worker-1',
      kubeletPath: '/exec/prod/web-0/app',
      command: ['sh', '-c', 'id'],
      container: 'app',
      via: 'nodes/proxy',
    });
    const [run] = analyser.analyse(auditEvent(nodeProxy('create', '/run/kube-system/etcd-0/etcd?cmd=cat%20/etc/kubernetes/pki/etcd/server.key')));
    expect(run!.message).toBe(
      `alice@example.com ran a command in pod kube-system/etcd-0 ("cat /etc/kubernetes/pki/etcd/server.key") in container "etcd" through the kubelet API of node worker-1 (nodes/proxy)`,
    );
  });

  it('exec elsewhere is medium', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const [alert] = analyser.analyse(
      auditEvent({
        stage: 'ResponseStarted',
        verb: 'create',
        requestURI: '/api/v1/namespaces/prod/pods/web-0/exec?command=bash',
        objectRef: { ...execRef, namespace: 'prod', name: 'web-0' },
        responseStatus: { metadata: {}, code: 101 },
      }),
    );
    expect(alert!.severity).toBe('medium');
  });

  it('configmap-credentials names the keys, never the values', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const secrets = ['hunter2', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'MIIEpAIBAAKCAQEA'];
    const [alert] = analyser.analyse(
      auditEvent({
        level: 'RequestResponse',
        verb: 'create',
        objectRef: cmRef,
        requestObject: cm({
          DB_PASSWORD: secrets[0]!,
          aws: `[default]\naws_access_key_id=${secrets[1]}\naws_secret_access_key=${secrets[2]}\n`,
          'id.pem': `-----BEGIN PRIVATE KEY-----\n${secrets[3]}\n-----END PRIVATE KEY-----`,
        }),
        responseObject: cm({ DB_PASSWORD: secrets[0]! }),
      }),
    );
    expect(alert!.type).toBe('configmap-credentials');
    const text = JSON.stringify(alert);
    for (const s of secrets) expect(text).not.toContain(s);
    expect(alert!.message).toContain('"DB_PASSWORD"');
    expect(alert!.evidence.credentials).toEqual([
      { key: 'DB_PASSWORD', reason: 'the key names a credential and has a value' },
      { key: 'aws', reason: 'an AWS access key ID' },
      { key: 'aws', reason: 'an aws_secret_access_key setting' },
      { key: 'id.pem', reason: 'a PEM private key block' },
    ]);
  });

  it('findCredentials reads embedded settings (properties, YAML, JSON)', () => {
    const hits = findCredentials(
      { 'app.yaml': 'db:\n  host: x\n  password: "s3cret"\n', 'app.json': '{\n  "apiKey": "abc123"\n}', ok: 'user=admin' },
      DEFAULT_CREDENTIAL_KEY_NAMES,
    );
    expect(hits).toEqual([
      { key: 'app.yaml', reason: 'sets password' },
      { key: 'app.json', reason: 'sets apiKey' },
    ]);
  });

  it('pentest-tool alerts once per user and tool, not per object touched', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const a = analyser.analyse(auditEvent({ userAgent: 'kube-hunter', objectRef: { resource: 'pods', namespace: 'a', name: 'x', apiVersion: 'v1' } }))[0]!;
    const b = analyser.analyse(auditEvent({ userAgent: 'kube-hunter', objectRef: { resource: 'secrets', namespace: 'b', name: 'y', apiVersion: 'v1' } }))[0]!;
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('audit.disabled switches a rule off', () => {
    expect(typesOf(auditEvent({ userAgent: 'kube-hunter' }), { disabled: ['pentest-tool'] })).toEqual([]);
  });
});
