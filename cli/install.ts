// `bulwark manifests` (a static install YAML: the chart's defaults plus fresh certificates) and
// `bulwark register` (create, update or remove the webhook configurations through the API).
// Both start from the chart's own rendering in charts/static/, so the chart stays the one
// source of truth for what Bulwark registers.
import { existsSync, readFileSync, watch } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdmissionregistrationV1Api, KubeConfig } from '@kubernetes/client-node';
import { Command, Option } from 'commander';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { createCA, createServingCert, serviceDnsNames } from '../certs/x509.js';
import type { VapApiVersion } from '../vap/generate.js';
import { vapObjectsForInstall } from './vap.js';

type Obj = Record<string, any>;

export const DEFAULT_NAMESPACE = 'bulwark-system';
export const DEFAULT_NAME = 'bulwark';

/** The repository (or installed package) root: the nearest folder up with charts/static. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'charts', 'static', 'install.yaml'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('cannot find charts/static/install.yaml next to the bulwark installation');
}

function readDocs(file: string): Obj[] {
  const docs: Obj[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const value = doc.toJS();
    if (value && typeof value === 'object') docs.push(value as Obj);
  }
  return docs;
}

/** Rewrites the namespace the static rendering was made for into `namespace`. */
function moveToNamespace(docs: Obj[], namespace: string): void {
  if (namespace === DEFAULT_NAMESPACE) return;
  const swap = (v: unknown) => (v === DEFAULT_NAMESPACE ? namespace : v);
  for (const doc of docs) {
    if (doc.metadata?.namespace === DEFAULT_NAMESPACE) doc.metadata.namespace = namespace;
    for (const s of doc.subjects ?? []) s.namespace = swap(s.namespace);
    for (const w of doc.webhooks ?? []) {
      if (w.clientConfig?.service) w.clientConfig.service.namespace = namespace;
      for (const e of w.namespaceSelector?.matchExpressions ?? []) if (Array.isArray(e.values)) e.values = e.values.map(swap);
    }
    if (doc.kind === 'Deployment') {
      // nothing namespaced inside the pod template besides the downward API
    }
    if (doc.kind === 'ConfigMap' && typeof doc.data?.['config.yaml'] === 'string') {
      const config = parseYaml(doc.data['config.yaml']) as Obj;
      if (config.server) config.server.namespace = namespace;
      if (config.exemptions?.namespaces) config.exemptions.namespaces = config.exemptions.namespaces.map(swap);
      doc.data['config.yaml'] = stringify(config);
    }
  }
}

export interface ManifestOptions {
  namespace?: string;
  mode?: 'enforce' | 'warn' | 'audit';
  /** Append the ValidatingAdmissionPolicies compiled from the install's own config (`--vap`). */
  vap?: VapApiVersion;
}

/** The install YAML: the chart's defaults in `namespace`, a new CA and serving certificate, the CA bundle injected. */
export function renderInstallManifests(opts: ManifestOptions = {}): string {
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const docs = readDocs(join(projectRoot(), 'charts', 'static', 'install.yaml'));
  moveToNamespace(docs, namespace);
  const ca = createCA({ commonName: 'bulwark-ca' });
  const leaf = createServingCert(ca, { dnsNames: serviceDnsNames(DEFAULT_NAME, namespace) });
  const caBundle = Buffer.from(ca.certPem).toString('base64');
  for (const doc of docs) {
    for (const w of doc.webhooks ?? []) w.clientConfig.caBundle = caBundle;
    if (opts.mode && doc.kind === 'ConfigMap' && typeof doc.data?.['config.yaml'] === 'string') {
      const config = parseYaml(doc.data['config.yaml']) as Obj;
      config.defaultAction = opts.mode;
      doc.data['config.yaml'] = stringify(config);
    }
  }
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: 'bulwark-tls', namespace, labels: { 'app.kubernetes.io/name': 'bulwark', 'app.kubernetes.io/part-of': 'bulwark' } },
    stringData: { 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem, 'ca.crt': ca.certPem },
  };
  const namespaceDoc = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'bulwark.io/webhook': 'ignore' } } };
  const all = [namespaceDoc, secret, ...docs, ...(opts.vap ? vapObjectsForInstall(docs, opts.vap) : [])];
  return (
    '# Bulwark install manifests (the Helm chart\'s defaults), made by `bulwark manifests`.\n' +
    '# Contains a private key: apply it, do not commit it.\n' +
    all.map((d) => stringify(d, { lineWidth: 0 })).join('---\n')
  );
}

export interface RegisterOptions {
  name?: string;
  namespace?: string;
  /** PEM CA bundle that signed the webhook's serving certificate. */
  caBundle: string;
  /** Call the webhook at this base URL (`https://127.0.0.1:8443`) instead of through a Service. */
  url?: string;
  service?: string;
  servicePort?: number;
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  mutate?: boolean;
  observeKubeSystem?: boolean;
}

/** The webhook configurations `register` creates: the chart's, pointed at the URL or Service given. */
export function buildWebhookConfigurations(opts: RegisterOptions): { validating: Obj; mutating?: Obj } {
  const name = opts.name ?? DEFAULT_NAME;
  const docs = readDocs(join(projectRoot(), 'charts', 'static', 'webhooks.yaml'));
  moveToNamespace(docs, opts.namespace ?? DEFAULT_NAMESPACE);
  const caBundle = Buffer.from(opts.caBundle).toString('base64');
  const out: { validating?: Obj; mutating?: Obj } = {};
  for (const doc of docs) {
    const mutating = doc.kind === 'MutatingWebhookConfiguration';
    if (mutating && !opts.mutate) continue;
    doc.metadata = {
      name: mutating ? `${name}-mutate` : name,
      labels: { 'app.kubernetes.io/name': 'bulwark', 'app.kubernetes.io/part-of': 'bulwark', 'app.kubernetes.io/managed-by': 'bulwark-register' },
    };
    if (!mutating && opts.observeKubeSystem === false) doc.webhooks = doc.webhooks.filter((w: Obj) => w.name !== 'observe.bulwark.io');
    for (const w of doc.webhooks) {
      const path: string = w.clientConfig.service.path;
      w.clientConfig = opts.url
        ? { url: opts.url.replace(/\/+$/, '') + path, caBundle }
        : { service: { ...w.clientConfig.service, name: opts.service ?? name, port: opts.servicePort ?? w.clientConfig.service.port }, caBundle };
      if (opts.timeoutSeconds !== undefined) w.timeoutSeconds = opts.timeoutSeconds;
      if (opts.failurePolicy && w.name !== 'observe.bulwark.io' && !mutating) w.failurePolicy = opts.failurePolicy;
    }
    if (mutating) out.mutating = doc;
    else out.validating = doc;
  }
  if (!out.validating) throw new Error('charts/static/webhooks.yaml holds no ValidatingWebhookConfiguration');
  return out as { validating: Obj; mutating?: Obj };
}

/** True when every field of `want` is present with the same value in `have` (server defaults ignored). */
function isSubset(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) {
    return Array.isArray(have) && want.length === have.length && want.every((w, i) => isSubset(w, have[i]));
  }
  if (want && typeof want === 'object') {
    if (!have || typeof have !== 'object') return false;
    return Object.entries(want as Obj).every(([k, v]) => isSubset(v, (have as Obj)[k]));
  }
  return want === have;
}

type Outcome = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';

function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

function apiError(err: unknown, what: string): Error {
  const e = err as { code?: number; body?: unknown; message?: string };
  let detail = e?.message ?? String(err);
  try {
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    if (body && typeof body === 'object' && 'message' in body) detail = String((body as Obj).message);
  } catch {
    /* keep message */
  }
  return new Error(`${what}: ${e?.code ? `HTTP ${e.code}: ` : ''}${detail}`);
}

export class WebhookRegistrar {
  private readonly api: AdmissionregistrationV1Api;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(AdmissionregistrationV1Api);
  }

  async apply(kind: 'validating' | 'mutating', desired: Obj): Promise<Outcome> {
    const name: string = desired.metadata.name;
    const api = this.api;
    const read = kind === 'validating' ? (n: string) => api.readValidatingWebhookConfiguration({ name: n }) : (n: string) => api.readMutatingWebhookConfiguration({ name: n });
    let existing: Obj | undefined;
    try {
      existing = (await read(name)) as unknown as Obj;
    } catch (err) {
      if (statusCode(err) !== 404) throw apiError(err, `reading ${kind} webhook configuration ${name}`);
    }
    try {
      if (!existing) {
        if (kind === 'validating') await api.createValidatingWebhookConfiguration({ body: desired as never });
        else await api.createMutatingWebhookConfiguration({ body: desired as never });
        return 'created';
      }
      if (isSubset(desired.webhooks, existing.webhooks) && isSubset(desired.metadata.labels, existing.metadata?.labels)) return 'unchanged';
      const body = { ...desired, metadata: { ...desired.metadata, resourceVersion: existing.metadata?.resourceVersion } };
      if (kind === 'validating') await api.replaceValidatingWebhookConfiguration({ name, body: body as never });
      else await api.replaceMutatingWebhookConfiguration({ name, body: body as never });
      return 'updated';
    } catch (err) {
      throw apiError(err, `writing ${kind} webhook configuration ${name}`);
    }
  }

  async remove(kind: 'validating' | 'mutating', name: string): Promise<Outcome> {
    try {
      if (kind === 'validating') await this.api.deleteValidatingWebhookConfiguration({ name });
      else await this.api.deleteMutatingWebhookConfiguration({ name });
      return 'deleted';
    } catch (err) {
      if (statusCode(err) === 404) return 'absent';
      throw apiError(err, `deleting ${kind} webhook configuration ${name}`);
    }
  }

  /** Creates or updates both configurations (the mutating one only when asked); removes a stale mutating one otherwise. */
  async register(opts: RegisterOptions): Promise<Record<string, Outcome>> {
    const { validating, mutating } = buildWebhookConfigurations(opts);
    const result: Record<string, Outcome> = {};
    result[`validatingwebhookconfiguration/${validating.metadata.name}`] = await this.apply('validating', validating);
    const mutatingName = `${opts.name ?? DEFAULT_NAME}-mutate`;
    result[`mutatingwebhookconfiguration/${mutatingName}`] = mutating ? await this.apply('mutating', mutating) : await this.remove('mutating', mutatingName);
    return result;
  }

  async unregister(name = DEFAULT_NAME): Promise<Record<string, Outcome>> {
    return {
      [`validatingwebhookconfiguration/${name}`]: await this.remove('validating', name),
      [`mutatingwebhookconfiguration/${name}-mutate`]: await this.remove('mutating', `${name}-mutate`),
    };
  }
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error(path ? `${path}: no current cluster in the kubeconfig` : 'no cluster configured (use --kubeconfig, KUBECONFIG or run in a cluster)');
  return kc;
}

function parseIntOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function registerInstallCommands(program: Command): void {
  program
    .command('manifests')
    .description("print a static install YAML (the Helm chart's defaults) with a freshly generated certificate")
    .option('--namespace <ns>', 'namespace to install into', DEFAULT_NAMESPACE)
    .addOption(new Option('--mode <mode>', 'defaultAction: enforce, or audit-only warning mode (warn)').choices(['enforce', 'warn', 'audit']))
    .option('--vap', 'also print the ValidatingAdmissionPolicies + bindings compiled from the install\'s config (Kubernetes 1.30+)')
    .addOption(new Option('--vap-api-version <version>', 'admissionregistration.k8s.io version of the --vap objects').choices(['v1', 'v1beta1']).default('v1'))
    .action((opts: { namespace: string; mode?: 'enforce' | 'warn' | 'audit'; vap?: boolean; vapApiVersion: VapApiVersion }) => {
      process.stdout.write(renderInstallManifests({ namespace: opts.namespace, mode: opts.mode, vap: opts.vap ? opts.vapApiVersion : undefined }));
    });

  program
    .command('register')
    .description('create or update the webhook configurations in a cluster (idempotent); --unregister removes them')
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--ca-file <file>', 'PEM CA bundle that signed the serving certificate (default: certs/dev/ca.crt)')
    .option('--url <url>', 'call the webhook at this base URL (https://host:port) instead of through a Service')
    .option('--service <name>', 'Service name', DEFAULT_NAME)
    .option('--namespace <ns>', 'Service namespace (never matched by the enforcing webhook)', DEFAULT_NAMESPACE)
    .option('--service-port <port>', 'Service port', parseIntOption('--service-port'), 443)
    .option('--name <name>', 'name of the webhook configurations', DEFAULT_NAME)
    .addOption(new Option('--failure-policy <policy>', 'failurePolicy of the enforcing webhook').choices(['Fail', 'Ignore']).default('Fail'))
    .option('--timeout <seconds>', 'timeoutSeconds (1-30)', parseIntOption('--timeout'), 5)
    .option('--mutate', 'also register the mutating webhook')
    .option('--no-observe-kube-system', 'do not register the observing webhook for kube-system')
    .option('--unregister', 'remove the webhook configurations')
    .option('--watch-certs', 'keep running and update the caBundle whenever the CA file changes')
    .action(async (opts: Obj) => {
      const kc = loadKubeConfig(opts.kubeconfig);
      const registrar = new WebhookRegistrar(kc);
      const print = (r: Record<string, Outcome>) => {
        for (const [k, v] of Object.entries(r)) process.stdout.write(`${k} ${v}\n`);
      };
      if (opts.unregister) {
        print(await registrar.unregister(opts.name));
        return;
      }
      if (opts.timeout > 30) throw new Error('--timeout must be at most 30 seconds');
      const caFile: string = opts.caFile ?? 'certs/dev/ca.crt';
      const readCA = (): string => {
        try {
          return readFileSync(caFile, 'utf8');
        } catch (err) {
          throw new Error(`${caFile}: cannot read the CA bundle (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give --ca-file`);
        }
      };
      const build = (caBundle: string): RegisterOptions => ({
        name: opts.name, namespace: opts.namespace, caBundle, url: opts.url, service: opts.service, servicePort: opts.servicePort,
        failurePolicy: opts.failurePolicy, timeoutSeconds: opts.timeout, mutate: Boolean(opts.mutate), observeKubeSystem: opts.observeKubeSystem,
      });
      let current = readCA();
      print(await registrar.register(build(current)));
      if (!opts.watchCerts) return;
      await new Promise<void>((resolveDone) => {
        let busy = false;
        const check = async () => {
          if (busy) return;
          busy = true;
          try {
            const next = readCA();
            if (next !== current) {
              current = next;
              print(await registrar.register(build(next)));
            }
          } catch (err) {
            process.stderr.write(`bulwark register: ${(err as Error).message}\n`);
          } finally {
            busy = false;
          }
        };
        const watcher = watch(dirname(resolve(caFile)), () => void check());
        const timer = setInterval(() => void check(), 30_000);
        const stop = () => {
          watcher.close();
          clearInterval(timer);
          resolveDone();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
