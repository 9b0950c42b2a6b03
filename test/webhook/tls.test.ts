// TLS: certificate reload without dropping connections, Kubernetes Secret volume updates,
// half-written pairs, mTLS, and the TLS 1.2 floor.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CertificateWatcher, loadTlsMaterial } from '../../webhook/tls.js';
import { createCA, createClientCert, createServingCert } from '../../certs/x509.js';
import { makeCerts, request, review, startTestServer, tempDir, waitFor, withPodSpec, cleanSpec, type TestServer } from './support.js';

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

/** Replaces a file the way an editor or cert-manager does: write aside, rename over. */
function replaceFile(file: string, data: string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

describe('certificate reload', () => {
  let ts: TestServer;
  afterEach(() => ts.close());

  it('new connections get the new certificate; an open keep-alive connection keeps working', async () => {
    ts = await startTestServer();
    const caPem = fs.readFileSync(ts.certs.caFile);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await request(ts.port, caPem, { path: '/healthz', agent });
    expect(first.status).toBe(200);
    const oldFingerprint = first.fingerprint;

    // A new serving certificate from a new CA (the worst case for the old connection).
    const ca2 = createCA({ commonName: 'test-ca-2' });
    const leaf = createServingCert(ca2, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    replaceFile(ts.certs.keyFile, leaf.keyPem);
    replaceFile(ts.certs.certFile, leaf.certPem);

    await waitFor(
      async () => {
        try {
          const r = await request(ts.port, ca2.certPem, { path: '/healthz' });
          return r.fingerprint === fingerprintOf(leaf.certPem);
        } catch {
          return false;
        }
      },
      5000,
      'the new certificate on new connections',
    );

    const again = await request(ts.port, caPem, { path: '/healthz', agent });
    expect(again.status).toBe(200);
    expect(again.reusedSocket).toBe(true);
    expect(again.fingerprint).toBe(oldFingerprint);
    const doc = review(withPodSpec('Pod', cleanSpec()));
    const res = await request(ts.port, caPem, {
      method: 'POST',
      path: '/validate',
      agent,
      body: JSON.stringify(doc),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.json().response.allowed).toBe(true);
    agent.destroy();
    // Clients that still trust only the old CA cannot complete a new handshake.
    await expect(request(ts.port, caPem, { path: '/healthz' })).rejects.toThrow();
  });

  it('follows a Kubernetes Secret volume update (the ..data symlink swap)', async () => {
    const dir = tempDir('bulwark-secret-');
    const ca = createCA();
    const write = (version: string) => {
      const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
      fs.mkdirSync(path.join(dir, version));
      fs.writeFileSync(path.join(dir, version, 'tls.crt'), leaf.certPem);
      fs.writeFileSync(path.join(dir, version, 'tls.key'), leaf.keyPem);
      fs.symlinkSync(version, path.join(dir, '..data_tmp'));
      fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      return leaf;
    };
    write('..v1');
    fs.symlinkSync('..data/tls.crt', path.join(dir, 'tls.crt'));
    fs.symlinkSync('..data/tls.key', path.join(dir, 'tls.key'));
    fs.writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
    ts = await startTestServer({
      certs: { dir, ca, certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key'), caFile: path.join(dir, 'ca.crt') },
      certPollIntervalMs: 0, // the directory watch alone must see it
    });
    const v2 = write('..v2');
    await waitFor(
      async () => (await request(ts.port, ca.certPem, { path: '/healthz' })).fingerprint === fingerprintOf(v2.certPem),
      5000,
      'the swapped certificate',
    );
    const m = await request(ts.port, ca.certPem, { path: '/metrics' });
    expect(m.text).toMatch(/bulwark_certificate_reloads_total\{result="success"\} [1-9]/);
  });

  it('keeps the current certificate while the pair is inconsistent, then switches', async () => {
    ts = await startTestServer();
    const ca = ts.certs.ca;
    const before = (await request(ts.port, ca.certPem, { path: '/healthz' })).fingerprint;
    const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    replaceFile(ts.certs.certFile, leaf.certPem); // new certificate, old key
    expect(ts.handle.reloadCertificates()).toBe(false);
    expect((await request(ts.port, ca.certPem, { path: '/healthz' })).fingerprint).toBe(before);
    replaceFile(ts.certs.keyFile, leaf.keyPem);
    await waitFor(
      async () => (await request(ts.port, ca.certPem, { path: '/healthz' })).fingerprint === fingerprintOf(leaf.certPem),
      5000,
      'the completed pair',
    );
  });

  it('the periodic stat alone picks up a change (no usable watch)', async () => {
    const certs = makeCerts();
    ts = await startTestServer({ certs, certPollIntervalMs: 100, certWatch: false });
    const leaf = createServingCert(certs.ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    fs.writeFileSync(certs.keyFile, leaf.keyPem); // in place: same inode, new size/mtime
    fs.writeFileSync(certs.certFile, leaf.certPem);
    await waitFor(
      async () => (await request(ts.port, certs.ca.certPem, { path: '/healthz' })).fingerprint === fingerprintOf(leaf.certPem),
      5000,
      'the rewritten certificate',
    );
  });
});

describe('certificate watcher and busy neighbours', () => {
  it('does not re-read the certificate when other files in its folder change (a store next to it), and still sees a new pair', async () => {
    const certs = makeCerts();
    const reads: string[] = [];
    const applied: string[] = [];
    const watcher = new CertificateWatcher({
      files: { certFile: certs.certFile, keyFile: certs.keyFile },
      current: loadTlsMaterial({ certFile: certs.certFile, keyFile: certs.keyFile }),
      apply: () => applied.push('applied'),
      pollIntervalMs: 0,
      debounceMs: 20,
    });
    const original = fs.readFileSync;
    const spy = vi.spyOn(fs, 'readFileSync').mockImplementation(((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
      if (typeof file === 'string' && file.startsWith(certs.dir)) reads.push(file);
      return (original as (...a: unknown[]) => unknown)(file, ...rest);
    }) as typeof fs.readFileSync);
    try {
      watcher.start();
      reads.length = 0;
      for (let i = 0; i < 20; i++) {
        fs.writeFileSync(path.join(certs.dir, 'alerts.db-wal'), `write ${i}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 150));
      expect(reads).toEqual([]);
      // A new pair in the folder is still read and applied.
      makeCerts(certs.dir);
      await waitFor(() => applied.length === 1, 3000, 'the new pair applied');
    } finally {
      watcher.stop();
      spy.mockRestore();
    }
  });
});

describe('mTLS and protocol floor', () => {
  let ts: TestServer;
  afterEach(() => ts.close());

  it('with --client-ca, the admission routes need a certificate from that CA; the probes and metrics do not', async () => {
    const clientCA = createCA({ commonName: 'apiserver-client-ca' });
    const dir = tempDir();
    const clientCAFile = path.join(dir, 'client-ca.crt');
    fs.writeFileSync(clientCAFile, clientCA.certPem);
    ts = await startTestServer({ clientCAFile });
    const caPem = fs.readFileSync(ts.certs.caFile);
    const body = JSON.stringify(review(withPodSpec('Pod', cleanSpec())));
    const post = { method: 'POST', path: '/validate', body, headers: { 'content-type': 'application/json' } };
    // The kubelet's probes carry no certificate.
    for (const probe of ['/healthz', '/readyz', '/metrics']) expect((await request(ts.port, caPem, { path: probe })).status).toBe(200);
    const none = await request(ts.port, caPem, post);
    expect(none.status).toBe(401);
    expect(none.json().error).toMatch(/client certificate/);
    expect((await request(ts.port, caPem, { ...post, path: '/validate?timeout=5s' })).status).toBe(401);
    expect((await request(ts.port, caPem, { ...post, path: '/mutate' })).status).toBe(401);
    // A path that merely starts like a probe is not one.
    expect((await request(ts.port, caPem, { path: '/healthz/../validate' })).status).toBe(401);
    const other = createCA({ commonName: 'someone-else' });
    const wrong = createClientCert(other, { commonName: 'kube-apiserver' });
    expect((await request(ts.port, caPem, { ...post, cert: wrong.certPem, key: wrong.keyPem })).status).toBe(401);
    const good = createClientCert(clientCA, { commonName: 'kube-apiserver' });
    const res = await request(ts.port, caPem, { ...post, cert: good.certPem, key: good.keyPem });
    expect(res.status).toBe(200);
    expect(res.json().response.allowed).toBe(true);
  });

  it('with --client-ca, a resumed TLS session without a certificate is still refused, and one with a certificate still served', async () => {
    // Node reports a resumed session's stored verify result, "OK" when no certificate was ever shown.
    const clientCA = createCA({ commonName: 'apiserver-client-ca' });
    const clientCAFile = path.join(tempDir(), 'client-ca.crt');
    fs.writeFileSync(clientCAFile, clientCA.certPem);
    ts = await startTestServer({ clientCAFile });
    const caPem = fs.readFileSync(ts.certs.caFile);
    const post = {
      method: 'POST',
      path: '/validate',
      body: JSON.stringify(review(withPodSpec('Pod', cleanSpec()))),
      headers: { 'content-type': 'application/json' },
    };
    const anonymous = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
    expect((await request(ts.port, caPem, { path: '/healthz', agent: anonymous })).status).toBe(200);
    const resumed = await request(ts.port, caPem, { ...post, agent: anonymous });
    expect(resumed.sessionReused, 'the second connection resumed the first TLS session').toBe(true);
    expect(resumed.status).toBe(401);
    const good = createClientCert(clientCA, { commonName: 'kube-apiserver' });
    const withCert = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
    expect((await request(ts.port, caPem, { ...post, agent: withCert, cert: good.certPem, key: good.keyPem })).status).toBe(200);
    const again = await request(ts.port, caPem, { ...post, agent: withCert, cert: good.certPem, key: good.keyPem });
    expect(again.sessionReused).toBe(true);
    expect(again.status).toBe(200);
    anonymous.destroy();
    withCert.destroy();
  });

  it('refuses TLS 1.1', async () => {
    ts = await startTestServer();
    const err = await new Promise<Error | undefined>((resolve) => {
      const s = tls.connect({
        host: '127.0.0.1',
        port: ts.port,
        servername: 'localhost',
        ca: fs.readFileSync(ts.certs.caFile),
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT:@SECLEVEL=0',
      });
      s.once('secureConnect', () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', resolve);
    });
    expect(err).toBeInstanceOf(Error);
  });
});
