// `bulwark certs`: a CA and a serving certificate for the webhook's Service, as files or as
// a kubernetes.io/tls Secret manifest.
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import {
  certificateInfo,
  createCA,
  createServingCert,
  DEFAULT_CA_VALIDITY_DAYS,
  DEFAULT_SERVING_VALIDITY_DAYS,
  serviceDnsNames,
  type CertKeyPem,
} from './x509.js';
import { preparePrivateDir, writeFileAtomic } from '../core/atomic-write.js';
import { projectRoot } from '../core/paths.js';
import {
  apiserverConfig,
  DEFAULT_APISERVER_CONFIG_PATH,
  recommendedAuditPolicy,
  refuseApiserverOverwrite,
  writeApiserverConfig,
  type ApiserverConfig,
} from './apiserver.js';
import { describe } from '../core/command-descriptions.js';

export const CERTS_USAGE_EXIT = 2;

interface CertsOptions {
  service: string;
  namespace: string;
  san: string[];
  outDir?: string;
  force?: boolean;
  caCert?: string;
  caKey?: string;
  validityDays?: string;
  keyType: string;
  format: string;
  secretName: string;
  apiserverConfig?: string;
  apiserverConfigPath?: string;
  url?: string;
  auditUrl?: string;
  servicePort: string;
}

function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

function parseValidityDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0 || n > 36500) {
    throw new Error(`--validity-days must be a whole number of days from 1 to 36500, got ${JSON.stringify(value)}`);
  }
  return n;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The certificates `bulwark certs` makes, before they are written or printed. */
function generateCertificates(opts: CertsOptions): { ca: CertKeyPem; caGenerated: boolean; leaf: CertKeyPem } {
  const validityDays = parseValidityDays(opts.validityDays);
  const keyType = opts.keyType === 'rsa' ? 'rsa' : 'ec';
  const extraDns = opts.san.filter((s) => !isIP(s));
  const ips = opts.san.filter((s) => isIP(s));
  const dnsNames = serviceDnsNames(opts.service, opts.namespace, extraDns);

  let ca: CertKeyPem;
  let caGenerated = false;
  if (opts.caCert && opts.caKey) {
    ca = { certPem: readFile(opts.caCert, 'CA certificate'), keyPem: readFile(opts.caKey, 'CA key') };
  } else {
    ca = createCA({
      validityDays: Math.max(DEFAULT_CA_VALIDITY_DAYS, validityDays ?? 0),
      keyType,
    });
    caGenerated = true;
  }
  const svcName = `${opts.service}.${opts.namespace}.svc`;
  const leaf = createServingCert(ca, {
    dnsNames,
    ipAddresses: ips,
    ...(svcName.length <= 64 ? { commonName: svcName } : {}),
    validityDays: validityDays ?? DEFAULT_SERVING_VALIDITY_DAYS,
    keyType,
  });
  return { ca, caGenerated, leaf };
}

function secretManifest(name: string, namespace: string, ca: CertKeyPem, leaf: CertKeyPem, clientCA: CertKeyPem | undefined): string {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'bulwark' } },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': b64(leaf.certPem),
        'tls.key': b64(leaf.keyPem),
        'ca.crt': b64(ca.certPem),
        ...(clientCA ? { 'client-ca.crt': b64(clientCA.certPem) } : {}),
      },
    },
    { lineWidth: 0 },
  );
}

type Generated = ReturnType<typeof generateCertificates> & { apiserver?: ApiserverConfig | undefined };

function run(opts: CertsOptions): void {
  if (opts.format !== 'files' && opts.format !== 'secret') throw new Error(`--format must be files or secret, got ${JSON.stringify(opts.format)}`);
  if (opts.keyType !== 'ec' && opts.keyType !== 'rsa') throw new Error(`--key-type must be ec or rsa, got ${JSON.stringify(opts.keyType)}`);
  if (!!opts.caCert !== !!opts.caKey) throw new Error('--ca-cert and --ca-key go together');
  parseValidityDays(opts.validityDays);
  if (opts.format === 'files' && !opts.outDir) throw new Error('--out-dir is required with --format files (or use --format secret)');
  if (opts.format === 'secret' && !DNS_SUBDOMAIN.test(opts.secretName)) throw new Error(`invalid --secret-name ${JSON.stringify(opts.secretName)}`);

  // Refuse to overwrite before generating anything.
  const outputs: Array<{ name: string; mode: number; pick: (r: Generated) => string }> = [
    { name: 'ca.crt', mode: 0o644, pick: (r) => r.ca.certPem },
    ...(opts.caCert ? [] : [{ name: 'ca.key', mode: 0o600, pick: (r: Generated) => r.ca.keyPem }]),
    { name: 'tls.crt', mode: 0o644, pick: (r) => r.leaf.certPem },
    { name: 'tls.key', mode: 0o600, pick: (r) => r.leaf.keyPem },
  ];
  if (opts.apiserverConfig) {
    outputs.push(
      { name: 'client-ca.crt', mode: 0o644, pick: (r) => r.apiserver!.clientCA.certPem },
      { name: 'client-ca.key', mode: 0o600, pick: (r) => r.apiserver!.clientCA.keyPem },
    );
  }
  const servicePort = parseServicePort(opts.servicePort);
  if (opts.outDir && !opts.force) {
    const existing = outputs.map((o) => path.join(opts.outDir!, o.name)).filter((f) => fs.existsSync(f));
    if (existing.length) throw new Error(`refusing to overwrite ${existing.join(', ')} (use --force)`);
  }
  if (opts.apiserverConfig && !opts.force) refuseApiserverOverwrite(opts.apiserverConfig);

  const certs = generateCertificates(opts);
  const result = {
    ...certs,
    apiserver: opts.apiserverConfig
      ? apiserverConfig(
          {
            servingCaPem: certs.ca.certPem,
            service: opts.service,
            namespace: opts.namespace,
            servicePort,
            url: opts.url,
            auditUrl: opts.auditUrl,
            installPath: opts.apiserverConfigPath,
            keyType: opts.keyType === 'rsa' ? 'rsa' : 'ec',
          },
          recommendedAuditPolicy(projectRoot()),
        )
      : undefined,
  };
  const info = certificateInfo(result.leaf.certPem);
  const requested = Date.now() + (parseValidityDays(opts.validityDays) ?? DEFAULT_SERVING_VALIDITY_DAYS) * 86_400_000;
  if (info.notAfter.getTime() < requested - 600_000) {
    process.stderr.write(`bulwark certs: warning: the serving certificate expires with its CA, on ${info.notAfter.toISOString()}\n`);
  }

  if (opts.outDir) {
    preparePrivateDir(opts.outDir, '--out-dir');
    const written: string[] = [];
    for (const o of outputs) {
      const file = path.join(opts.outDir, o.name);
      writeFileAtomic(file, o.pick(result), o.mode);
      written.push(file);
    }
    const summary = [
      `wrote ${written.join(', ')}`,
      `serving certificate: ${info.subject}; DNS ${info.dnsNames.join(', ')}${info.ipAddresses.length ? `; IP ${info.ipAddresses.join(', ')}` : ''}`,
      `valid until ${info.notAfter.toISOString()}; SHA-256 fingerprint ${info.fingerprint256}`,
      `caBundle for the webhook configuration: base64 -w0 ${path.join(opts.outDir, 'ca.crt')}`,
    ].join('\n');
    // With --format secret, stdout carries the manifest alone.
    (opts.format === 'secret' ? process.stderr : process.stdout).write(`${summary}\n`);
  }
  if (opts.format === 'secret') {
    process.stdout.write(secretManifest(opts.secretName, opts.namespace, result.ca, result.leaf, result.apiserver?.clientCA));
    if (result.caGenerated && !opts.outDir) {
      process.stderr.write('bulwark certs: note: the generated CA key is not kept (give --out-dir to keep it)\n');
    }
  }
  if (opts.apiserverConfig && result.apiserver) {
    process.stderr.write(`${writeApiserverConfig(opts.apiserverConfig, result.apiserver, opts.force)}\n`);
    process.stderr.write(
      'bulwark serve needs server.clientCA (--client-ca) set to client-ca.crt; with the chart: --set-file apiserverClientCA=client-ca.crt\n',
    );
  }
}

/** A --service-port value: a whole number from 1 to 65535. */
export function parseServicePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 65535) throw new Error(`--service-port must be a port number from 1 to 65535, got ${JSON.stringify(value)}`);
  return n;
}

/** The API-server options of `bulwark certs` and `bulwark manifests`. */
export function apiserverOptions(command: Command): Command {
  return command
    .option('--apiserver-config <dir>', "also make a client CA and the API server's client certificate, and write the API server's files here (mTLS)")
    .option('--apiserver-config-path <path>', 'where those files will be on the control-plane nodes', DEFAULT_APISERVER_CONFIG_PATH)
    .option('--url <url>', 'the API server calls Bulwark at this base URL (https://host:port) instead of through the Service')
    .option('--audit-url <url>', "the audit webhook's URL (default: the Service's, or --url's, /audit)")
    .option('--service-port <port>', 'the Service port the webhook configurations name', '443');
}

export function registerCerts(program: Command): void {
  const command = program
    .command('certs')
    .description(describe('certs'))
    .option('--service <name>', 'Service name', 'bulwark')
    .option('--namespace <ns>', "Service namespace (also the Secret's namespace)", 'bulwark-system')
    .option('--san <name>', 'extra DNS name or IP address (repeatable, or comma-separated)', collect, [] as string[])
    .option('--out-dir <dir>', 'write ca.crt, ca.key, tls.crt and tls.key here')
    .option('--force', 'overwrite existing files in --out-dir')
    .option('--ca-cert <file>', 'sign with this existing CA certificate (PEM) ...')
    .option('--ca-key <file>', '... and its private key (PEM); ca.key is then not written')
    .option(
      '--validity-days <n>',
      `serving certificate validity in days (default ${DEFAULT_SERVING_VALIDITY_DAYS}; a generated CA gets ${DEFAULT_CA_VALIDITY_DAYS})`,
    )
    .option('--key-type <type>', 'key type: ec (ECDSA P-256) or rsa (RSA 2048)', 'ec')
    .option('--format <format>', 'files, or secret (print a kubernetes.io/tls Secret manifest to stdout)', 'files')
    .option('--secret-name <name>', 'name of the Secret with --format secret', 'bulwark-tls');
  apiserverOptions(command).action((opts: CertsOptions) => {
    try {
      run(opts);
    } catch (err) {
      process.stderr.write(`bulwark certs: ${(err as Error).message}\n`);
      process.exitCode = CERTS_USAGE_EXIT;
    }
  });
}
