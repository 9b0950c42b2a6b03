// The kube-apiserver's side of mTLS: a client CA and a client certificate for the API server, and
// the files that make the API server present it — the admission-control configuration and its
// kubeconfig (ValidatingAdmissionWebhook, MutatingAdmissionWebhook), the audit webhook's
// kubeconfig, and the recommended audit policy. Written by `bulwark certs` and `bulwark manifests`
// with `--apiserver-config DIR`.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { createCA, createClientCert, type CertKeyPem } from './x509.js';
import { preparePrivateDir, writeFileAtomic } from '../core/atomic-write.js';

/** The user name in the client certificate; RBAC never sees it (Bulwark only checks the CA). */
export const APISERVER_CLIENT_COMMON_NAME = 'kube-apiserver-bulwark-client';
/** Where the files go on a control-plane node by default (the admission configuration names it). */
export const DEFAULT_APISERVER_CONFIG_PATH = '/etc/kubernetes/bulwark';

export interface ApiserverConfigOptions {
  /** The CA that signed Bulwark's serving certificate (the audit kubeconfig trusts it). */
  servingCaPem: string;
  service: string;
  namespace: string;
  /** The Service port the webhook configurations name (443 unless changed). */
  servicePort: number;
  /** The base URL the API server calls Bulwark at, when the webhooks use `url` instead of a Service. */
  url?: string | undefined;
  /** The audit webhook's URL (default: the Service, or `url`, with /audit). */
  auditUrl?: string | undefined;
  /** The folder these files will be in on the control-plane node (admission-config.yaml names it). */
  installPath?: string | undefined;
  validityDays?: number | undefined;
  keyType?: 'ec' | 'rsa';
}

export interface ApiserverConfig {
  /** The client CA: `server.clientCA` (client-ca.crt) trusts it; its key signs later client certificates. */
  clientCA: CertKeyPem;
  /** Where the files go on the control-plane nodes. */
  installPath: string;
  files: Array<{ name: string; mode: number; text: string }>;
  /** The kube-apiserver flags that load the files. */
  flags: string[];
}

/** A checked https URL with no credentials, query or fragment. */
function httpsUrl(value: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error(`${what} is not a URL: ${JSON.stringify(value)}`);
  }
  if (u.protocol !== 'https:') throw new Error(`${what} must be https://, got ${JSON.stringify(value)}`);
  if (u.username || u.password || u.search || u.hash) throw new Error(`${what} must not carry credentials, a query or a fragment`);
  return u;
}

/**
 * The name the API server looks up in the admission kubeconfig for a webhook: the Service's DNS
 * name (with `:port` unless 443), or the URL's host and port. Never `*`: that would hand this
 * client certificate to every other webhook in the cluster.
 */
export function admissionUserName(opts: Pick<ApiserverConfigOptions, 'service' | 'namespace' | 'servicePort' | 'url'>): string {
  if (opts.url) {
    const u = httpsUrl(opts.url, '--url');
    return u.port && u.port !== '443' ? `${u.hostname}:${u.port}` : u.hostname;
  }
  const host = `${opts.service}.${opts.namespace}.svc`;
  return opts.servicePort === 443 ? host : `${host}:${opts.servicePort}`;
}

function auditServer(opts: ApiserverConfigOptions): string {
  if (opts.auditUrl) return httpsUrl(opts.auditUrl, '--audit-url').href;
  if (opts.url) {
    const u = httpsUrl(opts.url, '--url');
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}/audit`;
  }
  return `https://${admissionUserName({ ...opts, url: undefined })}/audit`;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** Reads the recommended audit policy shipped with the chart (the one source of it). */
export function recommendedAuditPolicy(root: string): string {
  return fs.readFileSync(path.join(root, 'charts', 'bulwark', 'files', 'audit-policy.yaml'), 'utf8');
}

/** A new client CA and client certificate, and the API server's files that carry it. */
export function apiserverConfig(opts: ApiserverConfigOptions, auditPolicy: string): ApiserverConfig {
  const installPath = opts.installPath ?? DEFAULT_APISERVER_CONFIG_PATH;
  if (!path.posix.isAbsolute(installPath)) throw new Error(`--apiserver-config-path must be an absolute path, got ${JSON.stringify(installPath)}`);
  const keyType = opts.keyType ?? 'ec';
  const clientCA = createCA({ commonName: 'bulwark-apiserver-client-ca', keyType, ...(opts.validityDays ? { validityDays: opts.validityDays } : {}) });
  const client = createClientCert(clientCA, { commonName: APISERVER_CLIENT_COMMON_NAME, keyType, validityDays: opts.validityDays });
  const credentials = { 'client-certificate-data': b64(client.certPem), 'client-key-data': b64(client.keyPem) };
  const admissionKubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    // The API server picks the entry whose name is the webhook's host (and port).
    users: [{ name: admissionUserName(opts), user: credentials }],
  };
  const plugin = (name: string) => ({
    name,
    // v1alpha1: every API server reads it (1.20 refuses v1 WebhookAdmission; current ones take both).
    configuration: {
      apiVersion: 'apiserver.config.k8s.io/v1alpha1',
      kind: 'WebhookAdmission',
      kubeConfigFile: path.posix.join(installPath, 'admission-kubeconfig.yaml'),
    },
  });
  const admissionConfig = {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [plugin('ValidatingAdmissionWebhook'), plugin('MutatingAdmissionWebhook')],
  };
  const auditKubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bulwark', cluster: { server: auditServer(opts), 'certificate-authority-data': b64(opts.servingCaPem) } }],
    users: [{ name: 'kube-apiserver', user: credentials }],
    contexts: [{ name: 'bulwark', context: { cluster: 'bulwark', user: 'kube-apiserver' } }],
    'current-context': 'bulwark',
  };
  const yaml = (header: string, doc: unknown) => `# ${header}\n${stringify(doc, { lineWidth: 0 })}`;
  const files = [
    { name: 'admission-config.yaml', mode: 0o644, text: yaml('kube-apiserver --admission-control-config-file (made by bulwark)', admissionConfig) },
    {
      name: 'admission-kubeconfig.yaml',
      mode: 0o600,
      text: yaml("the API server's client certificate for Bulwark's admission webhooks; holds a private key", admissionKubeconfig),
    },
    {
      name: 'audit-webhook-kubeconfig.yaml',
      mode: 0o600,
      text: yaml("kube-apiserver --audit-webhook-config-file: Bulwark's /audit, with the client certificate; holds a private key", auditKubeconfig),
    },
    { name: 'audit-policy.yaml', mode: 0o644, text: auditPolicy },
  ];
  const at = (name: string) => path.posix.join(installPath, name);
  const flags = [
    `--admission-control-config-file=${at('admission-config.yaml')}`,
    `--audit-webhook-config-file=${at('audit-webhook-kubeconfig.yaml')}`,
    `--audit-policy-file=${at('audit-policy.yaml')}`,
  ];
  return { clientCA, installPath, files, flags };
}

/** The names `apiserverConfig` writes. */
export const APISERVER_FILES = ['admission-config.yaml', 'admission-kubeconfig.yaml', 'audit-webhook-kubeconfig.yaml', 'audit-policy.yaml'] as const;

/** Throws when a file of `dir` would be overwritten: checked before anything is generated or written. */
export function refuseApiserverOverwrite(dir: string): void {
  const existing = APISERVER_FILES.map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
  if (existing.length) throw new Error(`refusing to overwrite ${existing.join(', ')} (use --force)`);
}

/**
 * Writes the files into `dir` (made 0700 when new; refuses to overwrite unless `force`) and returns
 * what to tell the administrator: where the files go and the kube-apiserver flags that load them.
 */
export function writeApiserverConfig(dir: string, config: ApiserverConfig, force = false): string {
  if (!force) refuseApiserverOverwrite(dir);
  preparePrivateDir(dir, '--apiserver-config');
  for (const f of config.files) writeFileAtomic(path.join(dir, f.name), f.text, f.mode);
  return [
    `wrote the API server's files in ${dir}: ${config.files.map((f) => f.name).join(', ')}`,
    `copy them to ${config.installPath} on every control-plane node and add to kube-apiserver:`,
    ...config.flags.map((f) => `  ${f}`),
    'an admission configuration you already have (PodSecurity, EventRateLimit) gets these two plugins added to it; the kubeconfigs hold a private key (mode 0600).',
  ].join('\n');
}
