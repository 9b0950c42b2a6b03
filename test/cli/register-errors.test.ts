// `bulwark register` failures each say, in one sentence, what to do (#18 item 7): no kubeconfig, a
// missing or broken file, an unreachable server, rejected credentials, a forbidden call, a plain-http
// server. Real files, a real refused port and a real HTTPS server answering like kube-apiserver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCA, createServingCert } from '../../certs/x509.js';
import { WebhookRegistrar, loadKubeConfig } from '../../cli/install.js';

const BIN = resolve(import.meta.dirname, '../../bin/bulwark.js');
const dir = mkdtempSync(join(tmpdir(), 'bulwark-register-errors-'));
const ca = createCA({ commonName: 'test-ca' });
const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
let server: Server;
let port = 0;
let answer = {
  code: 403,
  reason: 'Forbidden',
  message: 'validatingwebhookconfigurations.admissionregistration.k8s.io "bulwark" is forbidden: User "dev" cannot get resource',
};

const kubeconfig = (serverUrl: string, caData = true): string =>
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    '  cluster:',
    `    server: ${serverUrl}`,
    ...(caData ? [`    certificate-authority-data: ${Buffer.from(ca.certPem).toString('base64')}`] : []),
    'contexts:',
    '- name: x',
    '  context: {cluster: c, user: u}',
    'current-context: x',
    'users:',
    '- name: u',
    '  user: {token: abc}',
    '',
  ].join('\n');

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** `bulwark register ARGS` as a user runs it, with HOME and KUBECONFIG under control. */
function register(args: string[], env: Record<string, string | undefined> = {}): { code: number | null; stderr: string } {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const r = spawnSync(process.execPath, [BIN, 'register', '--ca-file', file('ca.crt', ca.certPem), ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: home, ...env },
    timeout: 30_000,
  });
  return { code: r.status, stderr: r.stderr };
}

beforeAll(async () => {
  server = createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => {
    res.writeHead(answer.code, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: answer.message, reason: answer.reason, code: answer.code }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('bulwark register: one sentence that says what to do', () => {
  it('no kubeconfig anywhere', () => {
    const r = register([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('bulwark register: no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run inside a cluster\n');
  });

  it('a --kubeconfig that does not exist, and a KUBECONFIG naming no file', () => {
    expect(register(['--kubeconfig', join(dir, 'nope')]).stderr).toMatch(
      /^bulwark register: kubeconfig .*nope does not exist: give the path of a kubeconfig file/,
    );
    expect(register([], { KUBECONFIG: `${join(dir, 'a')}:${join(dir, 'b')}` }).stderr).toMatch(/^bulwark register: KUBECONFIG names no file that exists/);
  });

  it('a kubeconfig that is not one', () => {
    const r = register(['--kubeconfig', file('broken', 'clusters: [\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bulwark register: kubeconfig .*broken is not a valid kubeconfig \(.*\): check it with kubectl config view/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a server that refuses the connection', () => {
    const r = register(['--kubeconfig', file('refused', kubeconfig('https://127.0.0.1:1'))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^bulwark register: reading validating webhook configuration bulwark: cannot reach the API server at https:\/\/127\.0\.0\.1:1 \(the connection was refused\): check that the cluster is up/,
    );
  });

  it('a plain http:// server: no word about skipTLSVerify', () => {
    const r = register(['--kubeconfig', file('http', kubeconfig('http://127.0.0.1:8080', false))]);
    expect(r.stderr).toMatch(/is a plain http:\/\/ address; the kubeconfig's server must be https:\/\//);
    expect(r.stderr).not.toMatch(/skipTLSVerify/);
  });

  it('a forbidden call (403) names the rights register needs', async () => {
    answer = {
      code: 403,
      reason: 'Forbidden',
      message: 'validatingwebhookconfigurations.admissionregistration.k8s.io "bulwark" is forbidden: User "dev" cannot get resource',
    };
    const registrar = new WebhookRegistrar(loadKubeConfig(file('forbidden', kubeconfig(`https://127.0.0.1:${port}`))));
    await expect(registrar.register({ caBundle: ca.certPem, url: 'https://127.0.0.1:8443' })).rejects.toThrow(
      /the kubeconfig's user may not do this \(403 Forbidden: .*is forbidden.*\); register needs get, create, update and delete on validatingwebhookconfigurations/,
    );
  });

  it("a server whose certificate the kubeconfig's CA did not sign", async () => {
    const other = createCA({ commonName: 'other' });
    const text = kubeconfig(`https://127.0.0.1:${port}`).replace(Buffer.from(ca.certPem).toString('base64'), Buffer.from(other.certPem).toString('base64'));
    const registrar = new WebhookRegistrar(loadKubeConfig(file('untrusted', text)));
    const err = await registrar.register({ caBundle: ca.certPem, url: 'https://127.0.0.1:8443' }).catch((e: Error) => e);
    expect(String(err)).toMatch(
      /the TLS certificate of the API server at https:\/\/127\.0\.0\.1:\d+ is not trusted \(.*unable to verify.*\): put the cluster's CA in the kubeconfig/,
    );
  });
});
