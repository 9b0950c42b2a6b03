// Request shapes shared by the benches: the 1 MB Deployment of bench/large-review.ts (hundreds of
// containers with env, args, probes, duplicate volume names, a deep annotation) and its review.

/** A Deployment of about `targetBytes` of JSON, full of findings. */
export function bigDeployment(targetBytes: number): Record<string, unknown> {
  const containers: Record<string, unknown>[] = [];
  const volumes: Record<string, unknown>[] = [];
  let deep: unknown = 'leaf';
  for (let i = 0; i < 200; i++) deep = { d: deep };
  const spec = { containers, volumes, initContainers: [] as unknown[] };
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'huge', namespace: 'team-a', annotations: { deep: JSON.stringify(deep) } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'huge' } }, template: { metadata: { labels: { app: 'huge' } }, spec } },
  };
  let i = 0;
  while (JSON.stringify(object).length < targetBytes) {
    volumes.push({ name: i % 3 === 0 ? 'shared' : `v${i}`, hostPath: { path: i % 5 === 0 ? '/var/run/docker.sock' : `/data/${i}` } });
    containers.push({
      name: `c${i}`,
      image: i % 7 === 0 ? 'xmrig/xmrig:6' : `registry.example.com/team/app-${i}:1.${i}`,
      args: Array.from({ length: 10 }, (_, k) => `--flag-${k}=$(VAR_${k})`),
      env: Array.from({ length: 20 }, (_, k) => ({ name: `VAR_${k}`, value: k === 3 ? 'stratum+tcp://' : `value-${i}-${k}` })),
      volumeMounts: [{ name: 'shared', mountPath: `/m${i}` }],
      securityContext: { privileged: i % 2 === 0, capabilities: { add: ['NET_ADMIN'] } },
      livenessProbe: { exec: { command: ['sh', '-c', `echo ${i}`] } },
    });
    i++;
  }
  return object;
}

/** An admission.k8s.io/v1 AdmissionReview of `object` (a Deployment CREATE by alice unless `overrides` say otherwise). */
export function reviewObject(object: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      namespace: 'team-a',
      operation: 'CREATE',
      userInfo: { username: 'alice', groups: ['system:authenticated'] },
      object,
      ...overrides,
    },
  };
}

/** The same, as the JSON text a server receives. */
export function review(object: unknown, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(reviewObject(object, overrides));
}
