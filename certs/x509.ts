// X.509 v3 certificates (RFC 5280) built with node:crypto and the DER encoder in asn1.ts:
// a CA for Bulwark, serving certificates for the webhook, and the development certificate
// that `npm start` uses. No dependency beyond Node itself.
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import {
  bitString,
  boolean,
  children,
  contextPrimitive,
  decode,
  decodeOid,
  decodeTime,
  explicit,
  implicit,
  integer,
  namedBitString,
  nullValue,
  octetString,
  oid,
  sequence,
  set,
  Tag,
  TagClass,
  time,
  utf8String,
  type Asn1Element,
} from './asn1.js';

export interface CertKeyPem { certPem: string; keyPem: string }
export interface CAOptions { commonName?: string; validityDays?: number; keyType?: 'ec' | 'rsa' }
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

const OID = {
  commonName: '2.5.4.3',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** keyUsage bit numbers (RFC 5280 4.2.1.3). */
const KeyUsage = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

// ----------------------------------------------------------------------------------------
// PEM

function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The DER of the first PEM block with this label. */
export function pemToDer(pem: string, label = 'CERTIFICATE'): Buffer {
  const m = pem.match(new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`));
  if (!m) throw new Error(`no ${label} PEM block found`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

// ----------------------------------------------------------------------------------------
// Keys and signatures

function generateKeyPair(keyType: 'ec' | 'rsa' = 'ec'): { privateKey: KeyObject; publicKey: KeyObject } {
  if (keyType === 'ec') return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  if (keyType === 'rsa') return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  throw new Error(`unsupported key type "${String(keyType)}" (use ec or rsa)`);
}

interface Signer { algorithm: Buffer; digest: string | null }

/** The signature AlgorithmIdentifier for a signing key (RFC 5758 3.2, RFC 4055 5, RFC 8410 3). */
function signerFor(key: KeyObject): Signer {
  switch (key.asymmetricKeyType) {
    case 'ec': // parameters MUST be absent
      return { algorithm: sequence(oid(OID.ecdsaWithSHA256)), digest: 'sha256' };
    case 'rsa': // parameters MUST be NULL
      return { algorithm: sequence(oid(OID.sha256WithRSAEncryption), nullValue()), digest: 'sha256' };
    case 'ed25519':
      return { algorithm: sequence(oid(OID.ed25519)), digest: null };
    default:
      throw new Error(`unsupported signing key type "${key.asymmetricKeyType ?? 'unknown'}" (ECDSA, RSA or Ed25519 expected)`);
  }
}

function spkiDer(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's value. */
function keyIdentifier(spki: Buffer): Buffer {
  const [, subjectPublicKey] = children(decode(spki));
  if (!subjectPublicKey || subjectPublicKey.tagNumber !== Tag.BIT_STRING) throw new Error('malformed SubjectPublicKeyInfo');
  return createHash('sha1').update(subjectPublicKey.value.subarray(1)).digest();
}

/** A random positive 128-bit serial number (RFC 5280 4.1.2.2: positive, at most 20 octets). */
function randomSerial(): Buffer {
  for (;;) {
    const bytes = randomBytes(16);
    if (bytes.some((b) => b !== 0)) return bytes; // integer() adds the 0x00 that keeps it positive
  }
}

// ----------------------------------------------------------------------------------------
// Names

function distinguishedName(commonName: string | undefined): Buffer {
  if (commonName === undefined || commonName === '') return sequence();
  if ([...commonName].length > MAX_COMMON_NAME) {
    throw new Error(`common name "${commonName}" is longer than ${MAX_COMMON_NAME} characters`);
  }
  return sequence(set(sequence(oid(OID.commonName), utf8String(commonName))));
}

const DNS_LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Lower-cases and checks a DNS name for a dNSName SAN; a leading "*." wildcard is allowed. */
export function normalizeDnsName(name: string): string {
  const n = name.toLowerCase();
  if (isIP(n)) throw new Error(`"${name}" is an IP address, not a DNS name`);
  const labels = n.split('.');
  const ok = n.length > 0 && n.length <= 253 &&
    labels.every((l, i) => DNS_LABEL.test(l) || (i === 0 && l === '*' && labels.length > 1));
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
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
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
  const names = [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
    ...extra,
  ];
  const seen = new Set<string>();
  return names.filter((n) => {
    const key = n.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ----------------------------------------------------------------------------------------
// Extensions

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  // critical is BOOLEAN DEFAULT FALSE: DER omits a default value.
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  // cA BOOLEAN DEFAULT FALSE is omitted for an end entity: the value is an empty SEQUENCE.
  const fields: Buffer[] = [];
  if (ca) fields.push(boolean(true));
  if (ca && pathLen !== undefined) fields.push(integer(pathLen));
  return extension(OID.basicConstraints, true, sequence(...fields));
}

function keyUsage(bits: number[]): Buffer {
  return extension(OID.keyUsage, true, namedBitString(bits));
}

function subjectKeyIdentifier(ski: Buffer): Buffer {
  return extension(OID.subjectKeyIdentifier, false, octetString(ski));
}

function authorityKeyIdentifier(ski: Buffer): Buffer {
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT KeyIdentifier OPTIONAL, ... }
  return extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, octetString(ski))));
}

function subjectAltName(dnsNames: string[], ipAddresses: Buffer[], critical: boolean): Buffer {
  const names = [
    ...dnsNames.map((n) => contextPrimitive(2, Buffer.from(n, 'latin1'))), // dNSName [2] IA5String
    ...ipAddresses.map((ip) => contextPrimitive(7, ip)), // iPAddress [7] OCTET STRING
  ];
  return extension(OID.subjectAltName, critical, sequence(...names));
}

// ----------------------------------------------------------------------------------------
// Building

interface TbsInput {
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Buffer[];
  signingKey: KeyObject;
}

function buildCertificate(input: TbsInput): string {
  const signer = signerFor(input.signingKey);
  const tbs = sequence(
    explicit(0, integer(2)), // version v3
    integer(randomSerial()),
    signer.algorithm,
    input.issuer,
    sequence(time(input.notBefore), time(input.notAfter)),
    input.subject,
    input.spki,
    explicit(3, sequence(...input.extensions)),
  );
  const signature = sign(signer.digest, tbs, input.signingKey); // ECDSA: DER Ecdsa-Sig-Value
  return toPem('CERTIFICATE', sequence(tbs, signer.algorithm, bitString(signature)));
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

/** A self-signed CA: basicConstraints critical CA:TRUE pathlen:0, keyUsage critical keyCertSign+cRLSign. */
export function createCA(opts: CAOptions = {}): CertKeyPem {
  const validity = validityMs(opts.validityDays, DEFAULT_CA_VALIDITY_DAYS);
  const { privateKey, publicKey } = generateKeyPair(opts.keyType ?? 'ec');
  const spki = spkiDer(publicKey);
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
      basicConstraints(true, 0),
      keyUsage([KeyUsage.keyCertSign, KeyUsage.cRLSign]),
      subjectKeyIdentifier(ski),
      authorityKeyIdentifier(ski),
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
  const validity = validityMs(opts.validityDays, DEFAULT_SERVING_VALIDITY_DAYS);

  const issuer = loadIssuer(ca);
  const keyType = opts.keyType ?? 'ec';
  const { privateKey, publicKey } = generateKeyPair(keyType);
  const spki = spkiDer(publicKey);
  const commonName = opts.commonName ??
    dnsNames.find((n) => n.length <= MAX_COMMON_NAME) ?? ipTexts[0];
  const now = Date.now();
  const notAfter = Math.min(now + validity, issuer.notAfter.getTime());
  if (notAfter <= now) throw new Error('the CA certificate has expired');
  const certPem = buildCertificate({
    issuer: issuer.subject,
    subject: distinguishedName(commonName),
    notBefore: wholeSeconds(now - CLOCK_SKEW_MS),
    notAfter: wholeSeconds(notAfter),
    spki,
    extensions: [
      basicConstraints(false),
      keyUsage(keyType === 'rsa' ? [KeyUsage.digitalSignature, KeyUsage.keyEncipherment] : [KeyUsage.digitalSignature]),
      extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
      subjectKeyIdentifier(keyIdentifier(spki)),
      authorityKeyIdentifier(issuer.keyId),
      subjectAltName(dnsNames, ipTexts.map(ipToBytes), !commonName),
    ],
    signingKey: issuer.key,
  });
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

interface Issuer { subject: Buffer; keyId: Buffer; notAfter: Date; key: KeyObject }

function loadIssuer(ca: CertKeyPem): Issuer {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(ca.certPem);
  } catch (err) {
    throw new Error(`cannot read the CA certificate: ${(err as Error).message}`);
  }
  try {
    key = createPrivateKey(ca.keyPem);
  } catch (err) {
    throw new Error(`cannot read the CA private key: ${(err as Error).message}`);
  }
  if (!cert.ca) throw new Error('the CA certificate is not a CA (basicConstraints CA:TRUE missing)');
  if (!cert.checkPrivateKey(key)) throw new Error('the CA private key does not match the CA certificate');
  signerFor(key); // fails early on an unsupported key type
  const parsed = parseCertificate(pemToDer(ca.certPem));
  const ku = parsed.extensions.get(OID.keyUsage);
  if (ku) {
    const bits = decode(ku.value);
    const keyCertSign = bits.value.length > 1 && (bits.value[1]! & (0x80 >> KeyUsage.keyCertSign)) !== 0;
    if (!keyCertSign) throw new Error('the CA certificate\'s keyUsage does not allow keyCertSign');
  }
  const skiExt = parsed.extensions.get(OID.subjectKeyIdentifier);
  const keyId = skiExt ? decode(skiExt.value).value : keyIdentifier(parsed.spki);
  if (parsed.notAfter.getTime() <= Date.now()) throw new Error(`the CA certificate expired on ${parsed.notAfter.toISOString()}`);
  return { subject: parsed.subject, keyId: Buffer.from(keyId), notAfter: parsed.notAfter, key };
}

// ----------------------------------------------------------------------------------------
// Reading

interface ParsedCertificate {
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Map<string, { critical: boolean; value: Buffer }>;
}

function parseCertificate(der: Buffer): ParsedCertificate {
  const [tbs] = children(decode(der));
  if (!tbs) throw new Error('malformed certificate');
  const fields = children(tbs);
  let i = 0;
  if (fields[0]?.tagClass === TagClass.CONTEXT && fields[0].tagNumber === 0) i++; // version
  const [, , issuer, validity, subject, spki] = fields.slice(i);
  if (!issuer || !validity || !subject || !spki) throw new Error('malformed certificate');
  const [notBefore, notAfter] = children(validity) as [Asn1Element, Asn1Element];
  const extensions = new Map<string, { critical: boolean; value: Buffer }>();
  const extField = fields.slice(i + 6).find((f) => f.tagClass === TagClass.CONTEXT && f.tagNumber === 3);
  if (extField) {
    const [list] = children(extField);
    for (const ext of list ? children(list) : []) {
      const parts = children(ext);
      const critical = parts.length === 3 && parts[1]!.value[0] !== 0;
      extensions.set(decodeOid(parts[0]!), { critical, value: Buffer.from(parts[parts.length - 1]!.value) });
    }
  }
  return {
    issuer: Buffer.from(issuer.raw),
    subject: Buffer.from(subject.raw),
    notBefore: decodeTime(notBefore),
    notAfter: decodeTime(notAfter),
    spki: Buffer.from(spki.raw),
    extensions,
  };
}

function subjectAltNames(parsed: ParsedCertificate): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const san = parsed.extensions.get(OID.subjectAltName);
  if (san) {
    for (const name of children(decode(san.value))) {
      if (name.tagClass !== TagClass.CONTEXT) continue;
      if (name.tagNumber === 2) dnsNames.push(name.value.toString('latin1'));
      else if (name.tagNumber === 7) ipAddresses.push(bytesToIp(name.value));
    }
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
  const parsed = parseCertificate(x509.raw);
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

function usableCA(certPem: string | undefined, keyPem: string | undefined): CertKeyPem | undefined {
  if (!certPem || !keyPem) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    const info = parseCertificate(cert.raw);
    const now = Date.now();
    if (!cert.ca || !cert.checkPrivateKey(key) || !cert.verify(cert.publicKey)) return undefined;
    if (info.notBefore.getTime() > now || info.notAfter.getTime() - now < RENEW_BEFORE_MS) return undefined;
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
    const parsed = parseCertificate(cert.raw);
    const now = Date.now();
    if (parsed.notBefore.getTime() > now || parsed.notAfter.getTime() - now < RENEW_BEFORE_MS) return false;
    const { dnsNames, ipAddresses } = subjectAltNames(parsed);
    return DEV_DNS_NAMES.every((n) => dnsNames.includes(n)) && DEV_IP_ADDRESSES.every((ip) => ipAddresses.includes(ip));
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A directory lock, so two processes starting together do not write a mixed set of files. */
function withDirLock<T>(dir: string, fn: () => T): T {
  const lock = path.join(dir, '.lock');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 10_000) fs.rmSync(lock, { recursive: true, force: true }); // stale
      } catch { /* removed meanwhile */ }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lock}`);
      sleepSync(50);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Makes sure `dir` holds a development CA (ca.crt, ca.key) and a serving certificate
 * (tls.crt, tls.key) for localhost, 127.0.0.1 and ::1. Reuses what is there while it is
 * valid for at least 7 more days and consistent; otherwise issues a new serving certificate
 * (from the same CA when the CA itself is still good, so a trusted dev CA stays trusted).
 */
export function ensureDevCertificates(dir: string): { certFile: string; keyFile: string; caFile: string; created: boolean } {
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
  return withDirLock(dir, () => {
    let { ca, leafOk } = current(); // another process may have done it meanwhile
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
