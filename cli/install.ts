// `bulwark manifests` (a static install YAML: the chart's defaults plus fresh certificates) and
// `bulwark register` (create, update or remove the webhook configurations through the API).
// Both start from the chart's own rendering in charts/static/, so the chart stays the one
// source of truth for what Bulwark registers.
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, watch } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { AdmissionregistrationV1Api, KubeConfig } from '@kubernetes/client-node';
import { Command, Option } from 'commander';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { projectRoot as coreProjectRoot } from '../core/paths.js';
import { kubeconfigSource } from '../core/kubeconfig.js';
import { createCA, createServingCert, serviceDnsNames } from '../certs/x509.js';
import { apiserverConfig, recommendedAuditPolicy, writeApiserverConfig, type ApiserverConfig, type ApiserverConfigOptions } from '../certs/apiserver.js';
import { apiserverOptions, parseServicePort } from '../certs/cli.js';
import type { VapApiVersion } from '../vap/generate.js';
import { vapObjectsForInstall } from './vap.js';
import { describe } from '../core/command-descriptions.js';

type Obj = Record<string, any>;

export const DEFAULT_NAMESPACE = 'bulwark-system';
export const DEFAULT_NAME = 'bulwark';
/** The label `register` and `manifests` set on what they own; Helm sets `Helm` on what it owns. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'bulwark';
/** What `register` set before it took the name above: still its own. */
const LEGACY_MANAGED_BY = ['bulwark-register'];

/** The repository (or installed package) root, which holds charts/static (core/paths.ts). */
export function projectRoot(): string {
  const root = coreProjectRoot();
  if (!existsSync(join(root, 'charts', 'static', 'install.yaml'))) throw new Error('cannot find charts/static/install.yaml next to the bulwark installation');
  return root;
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
  /** Include the PolicyReport CRDs of the chart's crds/ (default true; `--no-crds` when another tool installed them). */
  crds?: boolean;
  /** Also make the API server's client CA and files (`--apiserver-config`); Bulwark then requires mTLS. */
  apiserver?: Omit<ApiserverConfigOptions, 'servingCaPem' | 'service' | 'namespace'>;
}

/** The install YAML (see installManifests). */
export function renderInstallManifests(opts: ManifestOptions = {}): string {
  return installManifests(opts).yaml;
}

/** The chart's crds/ (the PolicyReport and ClusterPolicyReport CRDs the background scan writes), in name order. */
function policyReportCrds(): Obj[] {
  const dir = join(projectRoot(), 'charts', 'bulwark', 'crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => readDocs(join(dir, f)));
}

/** Where the chart (and `manifests`) mount the client CA: a key of the config ConfigMap. */
const CLIENT_CA_PATH = '/etc/bulwark/client-ca.crt';

/**
 * The install YAML: the chart's defaults in `namespace`, a new CA and serving certificate, the CA
 * bundle injected; with `apiserver`, also a client CA that Bulwark requires (server.clientCA) and
 * the API server's files that present its client certificate.
 */
export function installManifests(opts: ManifestOptions = {}): { yaml: string; apiserver?: ApiserverConfig } {
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const docs = readDocs(join(projectRoot(), 'charts', 'static', 'install.yaml'));
  moveToNamespace(docs, namespace);
  const ca = createCA({ commonName: 'bulwark-ca' });
  const leaf = createServingCert(ca, { dnsNames: serviceDnsNames(DEFAULT_NAME, namespace) });
  const caBundle = Buffer.from(ca.certPem).toString('base64');
  const apiserver = opts.apiserver
    ? apiserverConfig({ ...opts.apiserver, servingCaPem: ca.certPem, service: DEFAULT_NAME, namespace }, recommendedAuditPolicy(projectRoot()))
    : undefined;
  for (const doc of docs) {
    // Applied with kubectl, not Helm: `bulwark register` may later keep these up to date.
    if (doc.metadata?.labels?.[MANAGED_BY_LABEL]) doc.metadata.labels[MANAGED_BY_LABEL] = MANAGED_BY;
    for (const w of doc.webhooks ?? []) w.clientConfig.caBundle = caBundle;
    if ((opts.mode || apiserver) && doc.kind === 'ConfigMap' && typeof doc.data?.['config.yaml'] === 'string') {
      const config = parseYaml(doc.data['config.yaml']) as Obj;
      if (opts.mode) config.defaultAction = opts.mode;
      if (apiserver) {
        // The same as the chart's apiserverClientCA: the bundle in the ConfigMap, mounted with config.yaml.
        config.server = { ...config.server, clientCA: CLIENT_CA_PATH };
        doc.data['client-ca.crt'] = apiserver.clientCA.certPem;
      }
      doc.data['config.yaml'] = stringify(config);
    }
  }
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: 'bulwark-tls',
      namespace,
      labels: { 'app.kubernetes.io/name': 'bulwark', 'app.kubernetes.io/part-of': 'bulwark', [MANAGED_BY_LABEL]: MANAGED_BY },
    },
    stringData: { 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem, 'ca.crt': ca.certPem },
  };
  const namespaceDoc = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'bulwark.io/webhook': 'ignore' } } };
  const crds = opts.crds === false ? [] : policyReportCrds();
  const all = [...crds, namespaceDoc, secret, ...docs, ...(opts.vap ? vapObjectsForInstall(docs, opts.vap) : [])];
  const yaml =
    "# Bulwark install manifests (the Helm chart's defaults), made by `bulwark manifests`.\n" +
    '# Contains a private key: apply it, do not commit it.\n' +
    all.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  return apiserver ? { yaml, apiserver } : { yaml };
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

/**
 * Checks a CA bundle before it goes into a webhook configuration: PEM, every certificate in it
 * parses and is a CA certificate (basicConstraints CA:TRUE). A wrong bundle under
 * failurePolicy=Fail refuses every matching request in the cluster.
 */
export function validateCABundle(pem: string, source = 'the CA bundle'): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${source}: no PEM certificate (-----BEGIN CERTIFICATE-----) found`);
  const outside = pem.replace(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g, '').trim();
  if (/-----BEGIN /.test(outside))
    throw new Error(
      `${source}: holds something other than certificates (${/-----BEGIN ([A-Z ]+)-----/.exec(outside)?.[1] ?? 'unknown'}): give the CA certificate only, never a key`,
    );
  blocks.forEach((block, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (err) {
      throw new Error(`${source}: certificate ${i + 1} does not parse: ${(err as Error).message}`, { cause: err });
    }
    if (!cert.ca)
      throw new Error(
        `${source}: certificate ${i + 1} (${cert.subject.replace(/\n/g, ', ')}) is not a CA certificate: give the CA that signed the serving certificate, not the serving certificate`,
      );
  });
}

/** A webhook URL as the API server accepts it, and only over TLS: https://host[:port][/path], no query, fragment or user info. */
export function validateWebhookUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--url ${JSON.stringify(url)} is not a URL: give https://host:port`);
  }
  if (parsed.protocol !== 'https:') throw new Error(`--url ${JSON.stringify(url)} must use https:// (the API server sends admission reviews only over TLS)`);
  if (parsed.username || parsed.password) throw new Error(`--url ${JSON.stringify(url)} must not carry user information`);
  if (parsed.search || parsed.hash || url.includes('?') || url.includes('#')) throw new Error(`--url ${JSON.stringify(url)} must not have a query or fragment`);
  if (!parsed.hostname) throw new Error(`--url ${JSON.stringify(url)} has no host`);
  return parsed;
}

/** The webhook configurations `register` creates: the chart's, pointed at the URL or Service given. */
export function buildWebhookConfigurations(opts: RegisterOptions): { validating: Obj; mutating?: Obj } {
  const name = opts.name ?? DEFAULT_NAME;
  validateCABundle(opts.caBundle);
  if (opts.url !== undefined) validateWebhookUrl(opts.url);
  const docs = readDocs(join(projectRoot(), 'charts', 'static', 'webhooks.yaml'));
  moveToNamespace(docs, opts.namespace ?? DEFAULT_NAMESPACE);
  const caBundle = Buffer.from(opts.caBundle).toString('base64');
  const out: { validating?: Obj; mutating?: Obj } = {};
  for (const doc of docs) {
    const mutating = doc.kind === 'MutatingWebhookConfiguration';
    if (mutating && !opts.mutate) continue;
    doc.metadata = {
      name: mutating ? `${name}-mutate` : name,
      labels: { 'app.kubernetes.io/name': 'bulwark', 'app.kubernetes.io/part-of': 'bulwark', [MANAGED_BY_LABEL]: MANAGED_BY },
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

/**
 * The defaults kube-apiserver fills into admissionregistration/v1 webhooks: applied before comparing.
 * (test/support/apiserver.ts fills the same on its own, on purpose: the stand-in must not borrow the
 * code it checks; recorded answers of the real server keep both honest.)
 */
function withServerDefaults(webhooks: Obj[], mutating: boolean): Obj[] {
  return structuredClone(webhooks).map((w: Obj) => {
    w.matchPolicy ??= 'Equivalent';
    w.namespaceSelector ??= {};
    w.objectSelector ??= {};
    w.timeoutSeconds ??= 10;
    w.failurePolicy ??= 'Fail';
    if (mutating) w.reinvocationPolicy ??= 'Never';
    for (const r of w.rules ?? []) r.scope ??= '*';
    if (w.clientConfig?.service) w.clientConfig.service.port ??= 443;
    return w;
  });
}

const MAX_DIFF_LINES = 12;

function short(value: unknown): string {
  const text = value === undefined ? '(absent)' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Where `have` differs from `want`, field by field over the WHOLE webhook spec (selectors,
 * matchConditions, rules, policies, client config...): `path: have -> want` lines.
 */
export function webhookDiff(want: unknown, have: unknown, path = 'webhooks', out: string[] = []): string[] {
  if (out.length > MAX_DIFF_LINES) return out;
  const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
  if (Array.isArray(want) && Array.isArray(have)) {
    for (let i = 0; i < Math.max(want.length, have.length); i++) {
      const label = isObj(want[i]) && typeof want[i].name === 'string' ? `[${want[i].name}]` : `[${i}]`;
      webhookDiff(want[i], have[i], `${path}${label}`, out);
    }
    return out;
  }
  if (isObj(want) && isObj(have)) {
    for (const key of new Set([...Object.keys(want), ...Object.keys(have)])) webhookDiff(want[key], have[key], `${path}.${key}`, out);
    return out;
  }
  if (JSON.stringify(want) !== JSON.stringify(have)) out.push(`${path}: ${short(have)} -> ${short(want)}`);
  return out;
}

export type Outcome = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent' | 'not-owned';

export interface OutcomeDetail {
  outcome: Outcome;
  /** For `updated`: what was restored (`path: found -> restored`). */
  diff?: string[];
  /** For `not-owned`: why it was left alone. */
  message?: string;
}

function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

/**
 * One sentence for a failed API call that says what to do: unreachable server, untrusted or plain-HTTP
 * server, rejected credentials, missing rights. Never the client library's own wording alone.
 */
export function apiError(err: unknown, what: string, server = 'the API server'): Error {
  const e = err as { code?: number | string; body?: unknown; message?: string; cause?: { code?: string } };
  let detail = e?.message ?? String(err);
  try {
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    if (body && typeof body === 'object' && 'message' in body) detail = String((body as Obj).message);
  } catch {
    /* keep message */
  }
  const status = typeof e?.code === 'number' ? e.code : undefined;
  const text = `${detail} ${typeof e?.code === 'string' ? e.code : ''} ${e?.cause?.code ?? ''}`;
  let sentence: string;
  if (status === 401) sentence = `${server} rejected the kubeconfig's credentials (401 Unauthorized): log in again or refresh the token in the kubeconfig`;
  else if (status === 403)
    sentence = `the kubeconfig's user may not do this (403 Forbidden: ${detail}); register needs get, create, update and delete on validatingwebhookconfigurations and mutatingwebhookconfigurations (admissionregistration.k8s.io), as a cluster administrator has`;
  else if (/HTTP protocol is not allowed/.test(detail))
    sentence = `${server} is a plain http:// address; the kubeconfig's server must be https:// (fix the cluster's server in the kubeconfig, or pass --kubeconfig, set KUBECONFIG, or run inside a cluster)`;
  else if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN/.test(text)) {
    const why = /ENOTFOUND|EAI_AGAIN/.test(text)
      ? 'its name does not resolve'
      : /ETIMEDOUT/.test(text)
        ? 'the connection timed out'
        : 'the connection was refused';
    sentence = `cannot reach ${server} (${why}): check that the cluster is up and that the kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config) points at it`;
  } else if (/self[- ]signed|unable to verify|UNABLE_TO_GET_ISSUER|CERT_|certificate/i.test(text))
    sentence = `the TLS certificate of ${server} is not trusted (${detail}): put the cluster's CA in the kubeconfig (certificate-authority-data)`;
  else sentence = `${status ? `HTTP ${status}: ` : ''}${detail}`;
  return new Error(`${what}: ${sentence}`, { cause: err });
}

/** Why `register` must leave an existing configuration alone; undefined when it is its own. */
function notOwned(kind: string, name: string, existing: Obj): string | undefined {
  const by = existing.metadata?.labels?.[MANAGED_BY_LABEL];
  if (by === MANAGED_BY || LEGACY_MANAGED_BY.includes(by)) return undefined;
  if (by === 'Helm') {
    const release = existing.metadata?.annotations?.['meta.helm.sh/release-name'];
    return `${kind} webhook configuration ${name} is managed by Helm${release ? ` (release ${release})` : ''}: left to Helm (helm upgrade restores it; helm uninstall removes it)`;
  }
  return `${kind} webhook configuration ${name} was not made by bulwark (${MANAGED_BY_LABEL}: ${by === undefined ? 'absent' : JSON.stringify(by)}): left alone; delete it, or label it ${MANAGED_BY_LABEL}=${MANAGED_BY} to let bulwark register own it`;
}

/**
 * The Kubernetes client library, loaded on first use: it costs most of a second to load, and
 * only `register` needs it (`bulwark --help` and `scan` must start fast).
 */
function k8s(): typeof import('@kubernetes/client-node') {
  return createRequire(import.meta.url)('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
}

export class WebhookRegistrar {
  private readonly api: AdmissionregistrationV1Api;

  private readonly server: string;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(k8s().AdmissionregistrationV1Api);
    const url = kc.getCurrentCluster()?.server;
    this.server = url ? `the API server at ${url}` : 'the API server';
  }

  private async read(kind: 'validating' | 'mutating', name: string): Promise<Obj | undefined> {
    try {
      return (kind === 'validating'
        ? await this.api.readValidatingWebhookConfiguration({ name })
        : await this.api.readMutatingWebhookConfiguration({ name })) as unknown as Obj;
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw apiError(err, `reading ${kind} webhook configuration ${name}`, this.server);
    }
  }

  async apply(kind: 'validating' | 'mutating', desired: Obj): Promise<Outcome> {
    return (await this.applyDetailed(kind, desired)).outcome;
  }

  /**
   * Creates the configuration, or restores the whole of its spec when anything differs (someone
   * added an objectSelector, a matchCondition, widened a rule...). Configurations bulwark does
   * not own (Helm's, anyone else's) are never replaced.
   */
  async applyDetailed(kind: 'validating' | 'mutating', desired: Obj): Promise<OutcomeDetail> {
    const name: string = desired.metadata.name;
    const api = this.api;
    const existing = await this.read(kind, name);
    try {
      if (!existing) {
        if (kind === 'validating') await api.createValidatingWebhookConfiguration({ body: desired as never });
        else await api.createMutatingWebhookConfiguration({ body: desired as never });
        return { outcome: 'created' };
      }
      const refusal = notOwned(kind, name, existing);
      if (refusal) return { outcome: 'not-owned', message: refusal };
      const mutating = kind === 'mutating';
      const diff = webhookDiff(withServerDefaults(desired.webhooks, mutating), existing.webhooks ?? []);
      for (const [k, v] of Object.entries(desired.metadata.labels as Record<string, string>)) {
        if (existing.metadata?.labels?.[k] !== v) diff.push(`metadata.labels.${k}: ${short(existing.metadata?.labels?.[k])} -> ${short(v)}`);
      }
      if (diff.length === 0) return { outcome: 'unchanged' };
      const body = {
        ...desired,
        metadata: {
          ...desired.metadata,
          labels: { ...(existing.metadata?.labels ?? {}), ...desired.metadata.labels },
          resourceVersion: existing.metadata?.resourceVersion,
        },
      };
      if (kind === 'validating') await api.replaceValidatingWebhookConfiguration({ name, body: body as never });
      else await api.replaceMutatingWebhookConfiguration({ name, body: body as never });
      return { outcome: 'updated', diff: diff.length > MAX_DIFF_LINES ? [...diff.slice(0, MAX_DIFF_LINES), `... and more`] : diff };
    } catch (err) {
      throw apiError(err, `writing ${kind} webhook configuration ${name}`, this.server);
    }
  }

  async remove(kind: 'validating' | 'mutating', name: string): Promise<Outcome> {
    return (await this.removeDetailed(kind, name)).outcome;
  }

  /** Deletes the configuration when bulwark owns it (checked first, then deleted at that resourceVersion). */
  async removeDetailed(kind: 'validating' | 'mutating', name: string): Promise<OutcomeDetail> {
    const existing = await this.read(kind, name);
    if (!existing) return { outcome: 'absent' };
    const refusal = notOwned(kind, name, existing);
    if (refusal) return { outcome: 'not-owned', message: refusal };
    // The precondition makes the delete fail if someone replaced the object since it was read.
    const body = { preconditions: { resourceVersion: existing.metadata?.resourceVersion, uid: existing.metadata?.uid } };
    try {
      if (kind === 'validating') await this.api.deleteValidatingWebhookConfiguration({ name, body: body as never });
      else await this.api.deleteMutatingWebhookConfiguration({ name, body: body as never });
      return { outcome: 'deleted' };
    } catch (err) {
      if (statusCode(err) === 404) return { outcome: 'absent' };
      throw apiError(err, `deleting ${kind} webhook configuration ${name}`, this.server);
    }
  }

  /** Creates or updates both configurations (the mutating one only when asked); removes a stale mutating one otherwise. */
  async registerDetailed(opts: RegisterOptions): Promise<Record<string, OutcomeDetail>> {
    const { validating, mutating } = buildWebhookConfigurations(opts);
    const result: Record<string, OutcomeDetail> = {};
    result[`validatingwebhookconfiguration/${validating.metadata.name}`] = await this.applyDetailed('validating', validating);
    const mutatingName = `${opts.name ?? DEFAULT_NAME}-mutate`;
    result[`mutatingwebhookconfiguration/${mutatingName}`] = mutating
      ? await this.applyDetailed('mutating', mutating)
      : await this.removeDetailed('mutating', mutatingName);
    return result;
  }

  async register(opts: RegisterOptions): Promise<Record<string, Outcome>> {
    return outcomes(await this.registerDetailed(opts));
  }

  async unregisterDetailed(name = DEFAULT_NAME): Promise<Record<string, OutcomeDetail>> {
    return {
      [`validatingwebhookconfiguration/${name}`]: await this.removeDetailed('validating', name),
      [`mutatingwebhookconfiguration/${name}-mutate`]: await this.removeDetailed('mutating', `${name}-mutate`),
    };
  }

  async unregister(name = DEFAULT_NAME): Promise<Record<string, Outcome>> {
    return outcomes(await this.unregisterDetailed(name));
  }
}

function outcomes(detailed: Record<string, OutcomeDetail>): Record<string, Outcome> {
  return Object.fromEntries(Object.entries(detailed).map(([k, v]) => [k, v.outcome]));
}

/** The lines `register` prints: one per configuration, the restored fields indented below. */
export function formatOutcomes(result: Record<string, OutcomeDetail>): string {
  let text = '';
  for (const [k, v] of Object.entries(result)) {
    text += v.outcome === 'not-owned' ? `${k} left alone: ${v.message}\n` : `${k} ${v.outcome}\n`;
    for (const line of v.diff ?? []) text += `  ${line}\n`;
  }
  return text;
}

const NO_KUBECONFIG = 'no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run inside a cluster';

/** The kubeconfig `register` uses, or an error that says in one sentence what to do. */
export function loadKubeConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new (k8s().KubeConfig)();
  const load = (file: string, how: string): void => {
    if (!existsSync(file)) throw new Error(`${how} ${file} does not exist: give the path of a kubeconfig file (--kubeconfig FILE or KUBECONFIG)`);
    try {
      kc.loadFromFile(file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(
        e.code === 'EACCES' || e.code === 'EISDIR'
          ? `${how} ${file} cannot be read (${e.code}): give a kubeconfig file you can read`
          : `${how} ${file} is not a valid kubeconfig (${(e.message ?? '').split('\n')[0]}): check it with kubectl config view --kubeconfig ${file}`,
        { cause: err },
      );
    }
  };
  if (path) load(path, 'kubeconfig');
  else {
    // A KUBECONFIG that names nothing is a mistake to report, not a reason to look elsewhere.
    if (env.KUBECONFIG && env.KUBECONFIG.split(delimiter).every((f) => f === '' || !existsSync(f))) {
      throw new Error(`KUBECONFIG names no file that exists (${env.KUBECONFIG}): fix KUBECONFIG or pass --kubeconfig FILE`);
    }
    const source = kubeconfigSource(env);
    if (!source) throw new Error(NO_KUBECONFIG);
    if (source.kind === 'in-cluster') kc.loadFromCluster();
    else if (source.kind === 'home') load(source.file, 'kubeconfig');
    else if (source.files.length === 1) load(source.files[0]!, 'KUBECONFIG file');
    else kc.loadFromDefault();
  }
  if (!kc.getCurrentCluster())
    throw new Error(`${path ?? 'the kubeconfig'}: no current cluster (current-context is unset or names no cluster): set one with kubectl config use-context`);
  return kc;
}

function parseIntOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
}

interface ManifestsFlags {
  namespace: string;
  mode?: 'enforce' | 'warn' | 'audit';
  vap?: boolean;
  vapApiVersion: VapApiVersion;
  crds: boolean;
  apiserverConfig?: string;
  apiserverConfigPath: string;
  url?: string;
  auditUrl?: string;
  servicePort: string;
  force?: boolean;
}

export function registerManifests(program: Command): void {
  const command = program
    .command('manifests')
    .description(describe('manifests'))
    .option('--namespace <ns>', 'namespace to install into', DEFAULT_NAMESPACE)
    .addOption(new Option('--mode <mode>', 'defaultAction: enforce, or audit-only warning mode (warn)').choices(['enforce', 'warn', 'audit']))
    .option('--vap', "also print the ValidatingAdmissionPolicies + bindings compiled from the install's config (Kubernetes 1.30+)")
    .addOption(new Option('--vap-api-version <version>', 'admissionregistration.k8s.io version of the --vap objects').choices(['v1', 'v1beta1']).default('v1'))
    .option('--no-crds', 'leave out the PolicyReport CRDs (when the cluster has them from another tool: kubectl apply would replace theirs)')
    .option('--force', 'overwrite existing files in --apiserver-config');
  apiserverOptions(command).action((opts: ManifestsFlags) => {
    try {
      const servicePort = parseServicePort(opts.servicePort);
      const out = installManifests({
        namespace: opts.namespace,
        mode: opts.mode,
        vap: opts.vap ? opts.vapApiVersion : undefined,
        crds: opts.crds,
        ...(opts.apiserverConfig ? { apiserver: { servicePort, url: opts.url, auditUrl: opts.auditUrl, installPath: opts.apiserverConfigPath } } : {}),
      });
      if (opts.apiserverConfig && out.apiserver) process.stderr.write(`${writeApiserverConfig(opts.apiserverConfig, out.apiserver, opts.force)}\n`);
      process.stdout.write(out.yaml);
    } catch (err) {
      process.stderr.write(`bulwark manifests: ${(err as Error).message}\n`);
      process.exitCode = 2;
    }
  });
}

export function registerRegister(program: Command): void {
  program
    .command('register')
    .description(describe('register'))
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
      const print = (r: Record<string, OutcomeDetail>) => {
        process.stdout.write(formatOutcomes(r));
        // Something was left as it is although it differs from what was asked: say so in the exit code.
        if (Object.values(r).some((v) => v.outcome === 'not-owned')) process.exitCode = 1;
      };
      if (opts.unregister) {
        print(await registrar.unregisterDetailed(opts.name));
        return;
      }
      if (opts.url !== undefined) validateWebhookUrl(opts.url);
      if (opts.timeout > 30) throw new Error('--timeout must be at most 30 seconds');
      const caFile: string = opts.caFile ?? 'certs/dev/ca.crt';
      const readCA = (): string => {
        let pem: string;
        try {
          pem = readFileSync(caFile, 'utf8');
        } catch (err) {
          throw new Error(`${caFile}: cannot read the CA bundle (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give --ca-file`, {
            cause: err,
          });
        }
        validateCABundle(pem, caFile);
        return pem;
      };
      const build = (caBundle: string): RegisterOptions => ({
        name: opts.name,
        namespace: opts.namespace,
        caBundle,
        url: opts.url,
        service: opts.service,
        servicePort: opts.servicePort,
        failurePolicy: opts.failurePolicy,
        timeoutSeconds: opts.timeout,
        mutate: Boolean(opts.mutate),
        observeKubeSystem: opts.observeKubeSystem,
      });
      let current = readCA();
      print(await registrar.registerDetailed(build(current)));
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
              print(await registrar.registerDetailed(build(next)));
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
