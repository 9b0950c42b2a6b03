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
import { writeFileAtomic } from '../core/atomic-write.js';
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

/**
 * The folder for the keys: a new one is made 0700 whatever the umask (mkdir's mode is masked by
 * it, so it is set again with chmod, which is not). An existing folder is left as it is, but not
 * one that every user can write to (they could swap the files after we write them).
 */
function prepareOutDir(dir: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!stat) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    return;
  }
  if (stat.isSymbolicLink()) stat = fs.statSync(dir);
  if (!stat.isDirectory()) throw new Error(`--out-dir ${dir} exists and is not a folder`);
  if ((stat.mode & 0o002) !== 0) {
    throw new Error(`--out-dir ${dir} is writable by every user (mode ${(stat.mode & 0o7777).toString(8)}); use a private folder`);
  }
}

function secretManifest(name: string, namespace: string, ca: CertKeyPem, leaf: CertKeyPem): string {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'bulwark' } },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(leaf.certPem), 'tls.key': b64(leaf.keyPem), 'ca.crt': b64(ca.certPem) },
    },
    { lineWidth: 0 },
  );
}

function run(opts: CertsOptions): void {
  if (opts.format !== 'files' && opts.format !== 'secret') throw new Error(`--format must be files or secret, got ${JSON.stringify(opts.format)}`);
  if (opts.keyType !== 'ec' && opts.keyType !== 'rsa') throw new Error(`--key-type must be ec or rsa, got ${JSON.stringify(opts.keyType)}`);
  if (!!opts.caCert !== !!opts.caKey) throw new Error('--ca-cert and --ca-key go together');
  parseValidityDays(opts.validityDays);
  if (opts.format === 'files' && !opts.outDir) throw new Error('--out-dir is required with --format files (or use --format secret)');
  if (opts.format === 'secret' && !DNS_SUBDOMAIN.test(opts.secretName)) throw new Error(`invalid --secret-name ${JSON.stringify(opts.secretName)}`);

  // Refuse to overwrite before generating anything.
  const outputs: Array<{ name: string; mode: number; pick: (r: ReturnType<typeof generateCertificates>) => string }> = [
    { name: 'ca.crt', mode: 0o644, pick: (r) => r.ca.certPem },
    ...(opts.caCert ? [] : [{ name: 'ca.key', mode: 0o600, pick: (r: ReturnType<typeof generateCertificates>) => r.ca.keyPem }]),
    { name: 'tls.crt', mode: 0o644, pick: (r) => r.leaf.certPem },
    { name: 'tls.key', mode: 0o600, pick: (r) => r.leaf.keyPem },
  ];
  if (opts.outDir && !opts.force) {
    const existing = outputs.map((o) => path.join(opts.outDir!, o.name)).filter((f) => fs.existsSync(f));
    if (existing.length) throw new Error(`refusing to overwrite ${existing.join(', ')} (use --force)`);
  }

  const result = generateCertificates(opts);
  const info = certificateInfo(result.leaf.certPem);
  const requested = Date.now() + (parseValidityDays(opts.validityDays) ?? DEFAULT_SERVING_VALIDITY_DAYS) * 86_400_000;
  if (info.notAfter.getTime() < requested - 600_000) {
    process.stderr.write(`bulwark certs: warning: the serving certificate expires with its CA, on ${info.notAfter.toISOString()}\n`);
  }

  if (opts.outDir) {
    prepareOutDir(opts.outDir);
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
    process.stdout.write(secretManifest(opts.secretName, opts.namespace, result.ca, result.leaf));
    if (result.caGenerated && !opts.outDir) {
      process.stderr.write('bulwark certs: note: the generated CA key is not kept (give --out-dir to keep it)\n');
    }
  }
}

export function registerCerts(program: Command): void {
  program
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
    .option('--secret-name <name>', 'name of the Secret with --format secret', 'bulwark-tls')
    .action((opts: CertsOptions) => {
      try {
        run(opts);
      } catch (err) {
        process.stderr.write(`bulwark certs: ${(err as Error).message}\n`);
        process.exitCode = CERTS_USAGE_EXIT;
      }
    });
}
