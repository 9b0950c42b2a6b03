// X.509 v3 certificates (RFC 5280): a CA for Bulwark, serving certificates for the webhook, and
// the development certificate that `npm start` uses. Encoding and decoding are the maintained
// PKI.js successor @peculiar/x509 (extensions, names, algorithm identifiers, parsing) on its own
// ASN.1 schema (@peculiar/asn1-x509); keys and signatures are node:crypto. Node's X509Certificate
// does the checks it is good at (CA flag, issuer, signature, key match).
//
// Why not X509CertificateGenerator.create(): it signs through WebCrypto, which is asynchronous,
// and every caller (`bulwark serve`, `bulwark install`, the alerts API, the tests) uses these
// functions synchronously at start-up. Assembling the same TBSCertificate from the library's own
// schema classes and signing it with node:crypto's synchronous sign() keeps that API; nothing
// here writes a DER byte by hand.
import 'reflect-metadata'; // tsyringe, which @peculiar/x509 uses for its algorithm registry, needs it first
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import * as pkix from '@peculiar/x509';
import { writeFileAtomic } from '../core/atomic-write.js';

export interface CertKeyPem {
  certPem: string;
  keyPem: string;
}
export interface CAOptions {
  commonName?: string;
  validityDays?: number;
  keyType?: 'ec' | 'rsa';
}
export interface ServingOptions {
  dnsNames: string[];
  ipAddresses?: string[];
  commonName?: string;
  validityDays?: number;
  keyType?: 'ec' | 'rsa';
}
export interface CertificateInfo {
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
  isCA: boolean;
  fingerprint256: string;
}

export const DEFAULT_CA_COMMON_NAME = 'bulwark-ca';
export const DEFAULT_CA_VALIDITY_DAYS = 3650;
export const DEFAULT_SERVING_VALIDITY_DAYS = 365;
/** notBefore is set this far in the past, so that a peer whose clock lags still accepts the certificate. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** ensureDevCertificates() renews certificates that expire within this window. */
export const RENEW_BEFORE_MS = 7 * 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** X.520 ub-common-name. */
const MAX_COMMON_NAME = 64;

// ----------------------------------------------------------------------------------------
// Keys and signatures

function generateKeyPair(keyType: 'ec' | 'rsa' = 'ec'): { privateKey: KeyObject; publicKey: KeyObject } {
  if (keyType === 'ec') return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  if (keyType === 'rsa') return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  throw new Error(`unsupported key type "${String(keyType)}" (use ec or rsa)`);
}

interface Signer {
  algorithm: asn1X509.AlgorithmIdentifier;
  digest: string | null;
}

/**
 * The signature AlgorithmIdentifier for a signing key, from the library's algorithm registry
 * (ECDSA: parameters absent, RFC 5758 3.2; RSA: parameters NULL, RFC 4055 5; Ed25519: RFC 8410 3).
 */
function signerFor(key: KeyObject): Signer {
  const provider = new pkix.AlgorithmProvider();
  switch (key.asymmetricKeyType) {
    case 'ec':
      return {
        algorithm: provider.toAsnAlgorithm({ name: 'ECDSA', hash: { name: 'SHA-256' } } as Parameters<typeof provider.toAsnAlgorithm>[0]),
        digest: 'sha256',
      };
    case 'rsa':
      return {
        algorithm: provider.toAsnAlgorithm({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } } as Parameters<typeof provider.toAsnAlgorithm>[0]),
        digest: 'sha256',
      };
    case 'ed25519':
      return { algorithm: provider.toAsnAlgorithm({ name: 'Ed25519' }), digest: null };
    default:
      throw new Error(`unsupported signing key type "${key.asymmetricKeyType ?? 'unknown'}" (ECDSA, RSA or Ed25519 expected)`);
  }
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's value, as hex. */
function keyIdentifier(spki: Buffer): string {
  const info = AsnConvert.parse(spki, asn1X509.SubjectPublicKeyInfo);
  return createHash('sha1').update(Buffer.from(info.subjectPublicKey)).digest('hex');
}

/**
 * A random positive serial of 16 octets (RFC 5280 4.1.2.2: positive, at most 20 octets): the
 * top bit cleared keeps it positive, the next one set keeps the encoding 16 octets long.
 */
function randomSerial(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return new Uint8Array(bytes).buffer;
}

// ----------------------------------------------------------------------------------------
// Names

function distinguishedName(commonName: string | undefined): asn1X509.Name {
  if (commonName !== undefined && [...commonName].length > MAX_COMMON_NAME) {
    throw new Error(`common name "${commonName}" is longer than ${MAX_COMMON_NAME} characters`);
  }
  const name = commonName ? new pkix.Name([{ '2.5.4.3': [{ utf8String: commonName }] }]) : new pkix.Name([]);
  return AsnConvert.parse(name.toArrayBuffer(), asn1X509.Name);
}

const DNS_LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Lower-cases and checks a DNS name for a dNSName SAN; a leading "*." wildcard is allowed. */
export function normalizeDnsName(name: string): string {
  const n = name.toLowerCase();
  if (isIP(n)) throw new Error(`"${name}" is an IP address, not a DNS name`);
  const labels = n.split('.');
  const ok = n.length > 0 && n.length <= 253 && labels.every((l, i) => DNS_LABEL.test(l) || (i === 0 && l === '*' && labels.length > 1));
  if (!ok) throw new Error(`invalid DNS name "${name}"`);
  return n;
}

/** An IP address as the 4 (IPv4) or 16 (IPv6) octets an iPAddress SAN holds. */
export function ipToBytes(address: string): Buffer {
  const version = isIP(address);
  if (version === 4) return Buffer.from(address.split('.').map(Number));
  if (version !== 6 || address.includes('%')) throw new Error(`invalid IP address "${address}"`);
  let text = address;
  const tail: number[] = [];
  const v4 = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4[2]!.split('.').map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    text = `${v4[1]!}`;
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  const [head, rest] = text.split('::') as [string, string | undefined];
  if (rest === undefined) {
    groups = [...parse(head), ...tail];
  } else {
    const left = parse(head);
    const right = [...parse(rest), ...tail];
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`invalid IP address "${address}"`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** Text form of 4 or 16 address octets; IPv6 in RFC 5952 canonical form. */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) throw new Error(`an IP address has 4 or 16 octets, not ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

function normalizeIp(address: string): string {
  return bytesToIp(ipToBytes(address));
}

/** The DNS names of a Kubernetes Service: svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local, then `extra`. */
export function serviceDnsNames(service: string, namespace: string, extra: string[] = []): string[] {
  const label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
  if (!label.test(service)) throw new Error(`invalid service name "${service}" (an RFC 1123 label is expected)`);
  if (!label.test(namespace)) throw new Error(`invalid namespace "${namespace}" (an RFC 1123 label is expected)`);
  const names = [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, ...extra];
  const seen = new Set<string>();
  return names.filter((n) => {
    const key = n.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ----------------------------------------------------------------------------------------
// Building

interface TbsInput {
  issuer: asn1X509.Name;
  subject: asn1X509.Name;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: pkix.Extension[];
  signingKey: KeyObject;
}

function buildCertificate(input: TbsInput): string {
  const signer = signerFor(input.signingKey);
  const tbs = new asn1X509.TBSCertificate({
    version: asn1X509.Version.v3,
    serialNumber: randomSerial(),
    signature: signer.algorithm,
    issuer: input.issuer,
    validity: new asn1X509.Validity({ notBefore: input.notBefore, notAfter: input.notAfter }),
    subject: input.subject,
    subjectPublicKeyInfo: AsnConvert.parse(input.spki, asn1X509.SubjectPublicKeyInfo),
    extensions: new asn1X509.Extensions(input.extensions.map((e) => AsnConvert.parse(e.rawData, asn1X509.Extension))),
  });
  // ECDSA: node:crypto returns the DER Ecdsa-Sig-Value that X.509 carries (RFC 5758 3.2).
  const signature = sign(signer.digest, Buffer.from(AsnConvert.serialize(tbs)), input.signingKey);
  const certificate = new asn1X509.Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: signer.algorithm,
    signatureValue: new Uint8Array(signature).buffer,
  });
  return new pkix.X509Certificate(AsnConvert.serialize(certificate)).toString('pem').replace(/\r\n/g, '\n').trimEnd() + '\n';
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function validityMs(days: number | undefined, fallback: number): number {
  const d = days ?? fallback;
  if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0) throw new Error(`validity must be a positive number of days, got ${String(d)}`);
  const ms = d * DAY_MS;
  if (Date.now() + ms > Date.UTC(9999, 11, 31, 23, 59, 59)) throw new Error(`validity of ${d} days goes past the year 9999`);
  return ms;
}

const KU = pkix.KeyUsageFlags;

/** A self-signed CA: basicConstraints critical CA:TRUE pathlen:0, keyUsage critical keyCertSign+cRLSign. */
export function createCA(opts: CAOptions = {}): CertKeyPem {
  const validity = validityMs(opts.validityDays, DEFAULT_CA_VALIDITY_DAYS);
  const { privateKey, publicKey } = generateKeyPair(opts.keyType ?? 'ec');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const ski = keyIdentifier(spki);
  const name = distinguishedName(opts.commonName ?? DEFAULT_CA_COMMON_NAME);
  const now = Date.now();
  const certPem = buildCertificate({
    issuer: name,
    subject: name,
    notBefore: wholeSeconds(now - CLOCK_SKEW_MS),
    notAfter: wholeSeconds(now + validity),
    spki,
    extensions: [
      new pkix.BasicConstraintsExtension(true, 0, true),
      new pkix.KeyUsagesExtension(KU.keyCertSign | KU.cRLSign, true),
      new pkix.SubjectKeyIdentifierExtension(ski),
      new pkix.AuthorityKeyIdentifierExtension(ski),
    ],
    signingKey: privateKey,
  });
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/**
 * A serving (TLS server) certificate signed by `ca`. Its notAfter never passes the CA's.
 * The subject CN defaults to the first DNS name that fits in a CN (or the first IP); with
 * neither, the subject is empty and the SAN extension critical (RFC 5280 4.2.1.6).
 */
export function createServingCert(ca: CertKeyPem, opts: ServingOptions): CertKeyPem {
  const dnsNames = unique((opts.dnsNames ?? []).map(normalizeDnsName));
  const ipTexts = unique((opts.ipAddresses ?? []).map(normalizeIp));
  if (dnsNames.length === 0 && ipTexts.length === 0) throw new Error('a serving certificate needs at least one DNS name or IP address');
  const commonName = opts.commonName ?? dnsNames.find((n) => n.length <= MAX_COMMON_NAME) ?? ipTexts[0];
  const sans: pkix.JsonGeneralNames = [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipTexts.map((value) => ({ type: 'ip' as const, value })),
  ];
  return signLeaf(ca, {
    commonName,
    validityDays: opts.validityDays ?? DEFAULT_SERVING_VALIDITY_DAYS,
    keyType: opts.keyType ?? 'ec',
    usages: [pkix.ExtendedKeyUsage.serverAuth, pkix.ExtendedKeyUsage.clientAuth],
    extra: [new pkix.SubjectAlternativeNameExtension(sans, !commonName)],
  });
}

export interface ClientOptions {
  /** The user name the certificate stands for (the subject CN). */
  commonName: string;
  validityDays?: number;
  keyType?: 'ec' | 'rsa';
}

/** A client certificate (extendedKeyUsage clientAuth only, no SAN) signed by `ca`: the API server's, for mTLS. */
export function createClientCert(ca: CertKeyPem, opts: ClientOptions): CertKeyPem {
  if (!opts.commonName) throw new Error('a client certificate needs a common name');
  return signLeaf(ca, {
    commonName: opts.commonName,
    validityDays: opts.validityDays ?? DEFAULT_SERVING_VALIDITY_DAYS,
    keyType: opts.keyType ?? 'ec',
    usages: [pkix.ExtendedKeyUsage.clientAuth],
    extra: [],
  });
}

/** An end-entity certificate signed by `ca`, its notAfter never past the CA's. */
function signLeaf(
  ca: CertKeyPem,
  leaf: { commonName: string | undefined; validityDays: number; keyType: 'ec' | 'rsa'; usages: pkix.ExtendedKeyUsageType[]; extra: pkix.Extension[] },
): CertKeyPem {
  const validity = validityMs(leaf.validityDays, DEFAULT_SERVING_VALIDITY_DAYS);
  const issuer = loadIssuer(ca);
  const { privateKey, publicKey } = generateKeyPair(leaf.keyType);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const notAfter = Math.min(now + validity, issuer.notAfter.getTime());
  if (notAfter <= now) throw new Error('the CA certificate has expired');
  const certPem = buildCertificate({
    issuer: issuer.subject,
    subject: distinguishedName(leaf.commonName),
    notBefore: wholeSeconds(now - CLOCK_SKEW_MS),
    notAfter: wholeSeconds(notAfter),
    spki,
    extensions: [
      new pkix.BasicConstraintsExtension(false, undefined, true),
      new pkix.KeyUsagesExtension(leaf.keyType === 'rsa' ? KU.digitalSignature | KU.keyEncipherment : KU.digitalSignature, true),
      new pkix.ExtendedKeyUsageExtension(leaf.usages),
      new pkix.SubjectKeyIdentifierExtension(keyIdentifier(spki)),
      new pkix.AuthorityKeyIdentifierExtension(issuer.keyId),
      ...leaf.extra,
    ],
    signingKey: issuer.key,
  });
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

interface Issuer {
  subject: asn1X509.Name;
  keyId: string;
  notAfter: Date;
  key: KeyObject;
}

function loadIssuer(ca: CertKeyPem): Issuer {
  let cert: X509Certificate;
  let parsed: pkix.X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(ca.certPem);
    parsed = new pkix.X509Certificate(cert.raw);
  } catch (err) {
    throw new Error(`cannot read the CA certificate: ${(err as Error).message}`, { cause: err });
  }
  try {
    key = createPrivateKey(ca.keyPem);
  } catch (err) {
    throw new Error(`cannot read the CA private key: ${(err as Error).message}`, { cause: err });
  }
  if (!cert.ca) throw new Error('the CA certificate is not a CA (basicConstraints CA:TRUE missing)');
  if (!cert.checkPrivateKey(key)) throw new Error('the CA private key does not match the CA certificate');
  signerFor(key); // fails early on an unsupported key type
  const ku = parsed.getExtension(pkix.KeyUsagesExtension);
  if (ku && (ku.usages & KU.keyCertSign) === 0) throw new Error("the CA certificate's keyUsage does not allow keyCertSign");
  const keyId = parsed.getExtension(pkix.SubjectKeyIdentifierExtension)?.keyId ?? keyIdentifier(Buffer.from(parsed.publicKey.rawData));
  if (parsed.notAfter.getTime() <= Date.now()) throw new Error(`the CA certificate expired on ${parsed.notAfter.toISOString()}`);
  // The issuer name is the CA's subject exactly as the CA encodes it (RFC 5280 7.1 compares
  // names, and Go and OpenSSL compare them byte for byte): re-parse its own DER.
  const subject = AsnConvert.parse(parsed.subjectName.toArrayBuffer(), asn1X509.Name);
  return { subject, keyId, notAfter: parsed.notAfter, key };
}

// ----------------------------------------------------------------------------------------
// Reading

function subjectAltNames(cert: pkix.X509Certificate): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const name of cert.getExtension(pkix.SubjectAlternativeNameExtension)?.names.items ?? []) {
    if (name.type === 'dns') dnsNames.push(name.value);
    else if (name.type === 'ip') ipAddresses.push(normalizeIp(name.value));
  }
  return { dnsNames, ipAddresses };
}

/** Node gives "CN=a\nO=b" (and undefined for an empty name); one line reads better. */
function formatName(name: string | undefined): string {
  return (name ?? '').split('\n').filter(Boolean).join(', ');
}

/** What a certificate says, from its PEM (the first certificate of a chain). */
export function certificateInfo(certPem: string): CertificateInfo {
  const x509 = new X509Certificate(certPem);
  const parsed = new pkix.X509Certificate(x509.raw);
  return {
    subject: formatName(x509.subject),
    issuer: formatName(x509.issuer),
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    ...subjectAltNames(parsed),
    isCA: x509.ca,
    fingerprint256: x509.fingerprint256,
  };
}

// ----------------------------------------------------------------------------------------
// Development certificates

const DEV_DNS_NAMES = ['localhost'];
const DEV_IP_ADDRESSES = ['127.0.0.1', '::1'];

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function currentlyValid(cert: pkix.X509Certificate): boolean {
  const now = Date.now();
  return cert.notBefore.getTime() <= now && cert.notAfter.getTime() - now >= RENEW_BEFORE_MS;
}

function usableCA(certPem: string | undefined, keyPem: string | undefined): CertKeyPem | undefined {
  if (!certPem || !keyPem) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    if (!cert.ca || !cert.checkPrivateKey(key) || !cert.verify(cert.publicKey)) return undefined;
    if (!currentlyValid(new pkix.X509Certificate(cert.raw))) return undefined;
    return { certPem, keyPem };
  } catch {
    return undefined;
  }
}

function usableLeaf(ca: CertKeyPem, certPem: string | undefined, keyPem: string | undefined): boolean {
  if (!certPem || !keyPem) return false;
  try {
    const cert = new X509Certificate(certPem);
    const caCert = new X509Certificate(ca.certPem);
    if (cert.ca || !cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    const parsed = new pkix.X509Certificate(cert.raw);
    if (!currentlyValid(parsed)) return false;
    const { dnsNames, ipAddresses } = subjectAltNames(parsed);
    return DEV_DNS_NAMES.every((n) => dnsNames.includes(n)) && DEV_IP_ADDRESSES.every((ip) => ipAddresses.includes(ip));
  } catch {
    return false;
  }
}

// ----------------------------------------------------------------------------------------
// The directory lock

/** A lock older than this is stale whoever holds it: making the four files takes well under a second. */
export const LOCK_STALE_MS = 60_000;
/** How long ensureDevCertificates() waits for another process's lock by default. */
export const LOCK_TIMEOUT_MS = 30_000;

interface LockOwner {
  pid: number;
  host: string;
  created: number;
  nonce: string;
}

function readLockOwner(file: string): LockOwner | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    if (text.length > 1024) return undefined;
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.created === 'number' && typeof v.nonce === 'string') return v as LockOwner;
  } catch {
    /* unreadable, half written or gone */
  }
  return undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Stale: its holder on this host has exited, or it is older than LOCK_STALE_MS (also an unreadable one, judged by mtime). */
function lockIsStale(file: string, owner: LockOwner | undefined): boolean {
  if (owner) {
    if (owner.host === hostname() && owner.pid !== process.pid && !processAlive(owner.pid)) return true;
    return Date.now() - owner.created > LOCK_STALE_MS;
  }
  try {
    return Date.now() - fs.statSync(file).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false; // gone: the next attempt takes it
  }
}

/** Sleeps without spinning (the caller is synchronous start-up code; nothing else runs meanwhile). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Removes a stale lock. Two waiters may judge the same lock stale; the rename to a private name
 * is atomic, so only one of them gets it, and a lock that was replaced meanwhile (another nonce)
 * is put back rather than broken.
 */
function breakStaleLock(file: string, seen: LockOwner | undefined): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else broke or released it
  }
  const moved = readLockOwner(aside);
  if (seen && moved && moved.nonce !== seen.nonce && !lockIsStale(aside, moved)) {
    try {
      fs.linkSync(aside, file); // put a live lock back; fails if a third process already holds the name
    } catch {
      /* the name is taken again: that holder goes on, so does this one's owner */
    }
  }
  fs.rmSync(aside, { force: true });
}

/**
 * An exclusive lock on `dir` between processes: `dir/.lock` created with O_CREAT|O_EXCL (which
 * also refuses to follow a symlink planted there), holding the owner's pid, host, time and a
 * nonce. Waits with a growing pause, up to `timeoutMs`; a stale lock is broken.
 */
function withDirLock<T>(dir: string, timeoutMs: number, fn: () => T): T {
  const file = path.join(dir, '.lock');
  const me: LockOwner = { pid: process.pid, host: hostname(), created: Date.now(), nonce: randomBytes(8).toString('hex') };
  const deadline = Date.now() + timeoutMs;
  let pause = 10;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      me.created = Date.now();
      fs.writeSync(fd, JSON.stringify(me));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the lock ${file}: ${(err as Error).message}`, { cause: err });
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
    const owner = readLockOwner(file);
    if (lockIsStale(file, owner)) {
      breakStaleLock(file, owner);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = owner ? `process ${owner.pid} on ${owner.host}` : 'another process';
      throw new Error(`timed out after ${timeoutMs} ms waiting for the lock ${file}, held by ${who} (remove it if that process is gone)`);
    }
    sleepSync(Math.min(pause, Math.max(1, deadline - Date.now())));
    pause = Math.min(pause * 2, 250);
  }
  try {
    return fn();
  } finally {
    if (readLockOwner(file)?.nonce === me.nonce) fs.rmSync(file, { force: true });
  }
}

/**
 * Makes sure `dir` holds a development CA (ca.crt, ca.key) and a serving certificate
 * (tls.crt, tls.key) for localhost, 127.0.0.1 and ::1. Reuses what is there while it is
 * valid for at least 7 more days and consistent; otherwise issues a new serving certificate
 * (from the same CA when the CA itself is still good, so a trusted dev CA stays trusted).
 * Processes starting together serialise on a lock file in `dir` and end up with one set.
 */
export function ensureDevCertificates(
  dir: string,
  options: { lockTimeoutMs?: number } = {},
): { certFile: string; keyFile: string; caFile: string; created: boolean } {
  const files = {
    caFile: path.join(dir, 'ca.crt'),
    caKeyFile: path.join(dir, 'ca.key'),
    certFile: path.join(dir, 'tls.crt'),
    keyFile: path.join(dir, 'tls.key'),
  };
  const result = (created: boolean) => ({ certFile: files.certFile, keyFile: files.keyFile, caFile: files.caFile, created });
  const current = (): { ca: CertKeyPem | undefined; leafOk: boolean } => {
    const ca = usableCA(readIfExists(files.caFile), readIfExists(files.caKeyFile));
    return { ca, leafOk: !!ca && usableLeaf(ca, readIfExists(files.certFile), readIfExists(files.keyFile)) };
  };
  if (current().leafOk) return result(false);

  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return withDirLock(dir, options.lockTimeoutMs ?? LOCK_TIMEOUT_MS, () => {
    const found = current(); // another process may have done it meanwhile
    let ca = found.ca;
    const leafOk = found.leafOk;
    if (leafOk) return result(false);
    if (!ca) {
      ca = createCA({ commonName: 'bulwark-dev-ca' });
      writeFileAtomic(files.caKeyFile, ca.keyPem, 0o600);
      writeFileAtomic(files.caFile, ca.certPem, 0o644);
    }
    const leaf = createServingCert(ca, { dnsNames: DEV_DNS_NAMES, ipAddresses: DEV_IP_ADDRESSES, commonName: 'localhost' });
    writeFileAtomic(files.keyFile, leaf.keyPem, 0o600);
    writeFileAtomic(files.certFile, leaf.certPem, 0o644);
    return result(true);
  });
}
