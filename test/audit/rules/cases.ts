// The shared shape of the audit-rule case tables (one test file per rule in this folder): events
// shaped like the API server's, and a runner that checks a rule fires or stays quiet.
import { expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import type { AuditEvent } from '../../../audit/event.js';
import { defaultConfig } from '../../../config/load.js';
import { auditEvent } from '../helpers.js';

export function typesOf(ev: AuditEvent, audit: Record<string, unknown> = {}): string[] {
  const analyser = new AuditAnalyser({ config: { ...defaultConfig(), audit } });
  return analyser.analyse(ev).map((a) => a.type);
}

export const forbidden = { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403 } as AuditEvent['responseStatus'];
export const execRef = { resource: 'pods', namespace: 'kube-system', name: 'etcd-0', apiVersion: 'v1', subresource: 'exec' };
export const execURI = '/api/v1/namespaces/kube-system/pods/etcd-0/exec?command=sh&command=-c&command=id&container=etcd&stdin=true&stdout=true';
export const cm = (data: Record<string, string>) => ({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'app', namespace: 'prod' }, data });
export const cmRef = { resource: 'configmaps', namespace: 'prod', name: 'app', apiVersion: 'v1' };
export const svc = (type: string) => ({
  kind: 'Service',
  apiVersion: 'v1',
  metadata: { name: 'web', namespace: 'prod' },
  spec: { type, ports: [{ port: 80, nodePort: 30080 }] },
});
export const svcRef = { resource: 'services', namespace: 'prod', name: 'web', apiVersion: 'v1' };
export const webhookRef = { resource: 'validatingwebhookconfigurations', name: 'bulwark', apiGroup: 'admissionregistration.k8s.io', apiVersion: 'v1' };
export const sa = (name: string) => ({ username: `system:serviceaccount:${name}`, groups: ['system:serviceaccounts', 'system:authenticated'] });
export const anonymous = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
export const nodeProxy = (verb: string, kubeletPath: string) => ({
  stage: 'ResponseStarted' as const,
  verb,
  requestURI: `/api/v1/nodes/worker-1/proxy${kubeletPath}`,
  objectRef: { resource: 'nodes', name: 'worker-1', subresource: 'proxy', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 101 },
});

export interface Case {
  name: string;
  event: Partial<AuditEvent> & Record<string, unknown>;
  fires: boolean;
  audit?: Record<string, unknown>;
}

/** One `it` per case: the rule `type` fires (or not) on the case's event. */
export function runCases(type: string, table: Case[]): void {
  it.each(table)('$name → fires: $fires', ({ event, fires, audit }) => {
    const types = typesOf(auditEvent(event), audit);
    if (fires) expect(types).toContain(type);
    else expect(types).not.toContain(type);
  });
}
