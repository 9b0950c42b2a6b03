// exec-into-pod: when the rule fires and when it stays quiet, on events shaped like the API server's.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import { defaultConfig } from '../../../config/load.js';
import { ALICE, auditEvent } from '../helpers.js';
import { runCases, type Case, forbidden, execRef, execURI, nodeProxy } from './cases.js';

const cases: Case[] = [
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
];

describe('exec-into-pod', () => {
  runCases('exec-into-pod', cases);

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
});
