// The API server's side of mTLS: the client CA and certificate, the admission and audit kubeconfigs
// that carry it (`--apiserver-config`), Bulwark requiring it, and the chart's apiserverClientCA.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { admissionUserName, apiserverConfig, APISERVER_CLIENT_COMMON_NAME, recommendedAuditPolicy } from '../../certs/apiserver.js';
import { registerCerts } from '../../certs/cli.js';
import { createCA } from '../../certs/x509.js';
import { installManifests, projectRoot, registerManifests } from '../../cli/install.js';
import { parseConfig } from '../../config/load.js';
import { runCommand } from '../support/command.js';
import { chartDir, helm } from '../support/helm.js';
import { request, review, startTestServer, withPodSpec, cleanSpec, type TestServer } from '../webhook/support.js';

type Obj = Record<string, any>;

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-apiserver-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(tmpRoot, `d${n++}`);

const cli = runCommand;

const yamlFile = (dir: string, name: string): Obj => parseYaml(fs.readFileSync(path.join(dir, name), 'utf8')) as Obj;
const fromB64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('the API server files (certs/apiserver.ts)', () => {
  const servingCA = createCA({ commonName: 'serving' });
  const base = { servingCaPem: servingCA.certPem, service: 'bulwark', namespace: 'sec', servicePort: 443 };

  it('names the webhook as the API server looks it up: the Service DNS name (with a port unless 443) or the URL host and port, never *', () => {
    expect(admissionUserName(base)).toBe('bulwark.sec.svc');
    expect(admissionUserName({ ...base, servicePort: 8443 })).toBe('bulwark.sec.svc:8443');
    expect(admissionUserName({ ...base, url: 'https://10.0.0.5:18443' })).toBe('10.0.0.5:18443');
    expect(admissionUserName({ ...base, url: 'https://bulwark.example.com' })).toBe('bulwark.example.com');
    expect(() => admissionUserName({ ...base, url: 'http://10.0.0.5:80' })).toThrow(/--url must be https/);
    expect(() => admissionUserName({ ...base, url: 'https://u:p@h' })).toThrow(/credentials/);
    expect(() => admissionUserName({ ...base, url: 'not a url' })).toThrow(/--url is not a URL/);
  });

  it('makes a client certificate for clientAuth only, signed by a new client CA, carried by both kubeconfigs', () => {
    const cfg = apiserverConfig({ ...base, installPath: '/etc/k/b' }, 'policy');
    const byName = Object.fromEntries(cfg.files.map((f) => [f.name, f]));
    expect(Object.keys(byName).sort()).toEqual(['admission-config.yaml', 'admission-kubeconfig.yaml', 'audit-policy.yaml', 'audit-webhook-kubeconfig.yaml']);
    expect(byName['admission-kubeconfig.yaml']!.mode).toBe(0o600);
    expect(byName['audit-webhook-kubeconfig.yaml']!.mode).toBe(0o600);
    expect(byName['audit-policy.yaml']!.text).toBe('policy');

    const admission = parseYaml(byName['admission-config.yaml']!.text) as Obj;
    expect(admission).toMatchObject({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AdmissionConfiguration' });
    expect(admission.plugins.map((p: Obj) => p.name)).toEqual(['ValidatingAdmissionWebhook', 'MutatingAdmissionWebhook']);
    for (const p of admission.plugins) {
      expect(p.configuration).toEqual({
        apiVersion: 'apiserver.config.k8s.io/v1alpha1',
        kind: 'WebhookAdmission',
        kubeConfigFile: '/etc/k/b/admission-kubeconfig.yaml',
      });
    }
    const kc = parseYaml(byName['admission-kubeconfig.yaml']!.text) as Obj;
    expect(kc.users).toHaveLength(1);
    expect(kc.users[0].name).toBe('bulwark.sec.svc');
    const cert = new X509Certificate(fromB64(kc.users[0].user['client-certificate-data']));
    const clientCA = new X509Certificate(cfg.clientCA.certPem);
    expect(cert.checkIssued(clientCA)).toBe(true);
    expect(cert.verify(clientCA.publicKey)).toBe(true);
    expect(cert.subject).toBe(`CN=${APISERVER_CLIENT_COMMON_NAME}`);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only: it cannot serve TLS
    expect(cert.ca).toBe(false);
    expect(clientCA.ca).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(fromB64(kc.users[0].user['client-key-data'])))).toBe(true);

    const audit = parseYaml(byName['audit-webhook-kubeconfig.yaml']!.text) as Obj;
    expect(audit.clusters[0].cluster.server).toBe('https://bulwark.sec.svc/audit');
    expect(fromB64(audit.clusters[0].cluster['certificate-authority-data'])).toBe(servingCA.certPem);
    expect(audit.users[0].user).toEqual(kc.users[0].user);
    expect(audit['current-context']).toBe('bulwark');
    expect(cfg.flags).toEqual([
      '--admission-control-config-file=/etc/k/b/admission-config.yaml',
      '--audit-webhook-config-file=/etc/k/b/audit-webhook-kubeconfig.yaml',
      '--audit-policy-file=/etc/k/b/audit-policy.yaml',
    ]);
  });

  it('points the audit webhook at --audit-url, or at --url with /audit; refuses a relative install path', () => {
    const audit = (o: Obj) => parseYaml(apiserverConfig({ ...base, ...o }, '').files.find((f) => f.name === 'audit-webhook-kubeconfig.yaml')!.text) as Obj;
    expect(audit({ url: 'https://127.0.0.1:18443/' }).clusters[0].cluster.server).toBe('https://127.0.0.1:18443/audit');
    expect(audit({ auditUrl: 'https://10.96.0.20/audit' }).clusters[0].cluster.server).toBe('https://10.96.0.20/audit');
    expect(audit({ servicePort: 8443 }).clusters[0].cluster.server).toBe('https://bulwark.sec.svc:8443/audit');
    expect(() => apiserverConfig({ ...base, installPath: 'etc/bulwark' }, '')).toThrow(/absolute path/);
  });

  it('ships the recommended audit policy as a valid audit.k8s.io/v1 Policy that never logs secret bodies', () => {
    const policy = parseYaml(recommendedAuditPolicy(projectRoot())) as Obj;
    expect(policy).toMatchObject({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'] });
    const secretsRule = policy.rules.findIndex((r: Obj) => r.resources?.some((g: Obj) => g.resources.includes('secrets')));
    const bodiesRule = policy.rules.findIndex((r: Obj) => r.level === 'RequestResponse');
    expect(policy.rules[secretsRule].level).toBe('Metadata');
    expect(secretsRule).toBeLessThan(bodiesRule); // the first matching rule wins
  });
});

describe('bulwark certs --apiserver-config', () => {
  it('writes the client CA next to the serving pair and the API server files, private ones 0600, and never overwrites', async () => {
    const out = freshDir();
    const api = freshDir();
    const r = await cli(registerCerts, 'certs', ['--out-dir', out, '--apiserver-config', api, '--url', 'https://127.0.0.1:18443']);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key', 'client-ca.crt', 'client-ca.key']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    expect(mode(path.join(out, 'client-ca.key'))).toBe(0o600);
    expect(mode(api)).toBe(0o700);
    expect(mode(path.join(api, 'admission-kubeconfig.yaml'))).toBe(0o600);
    expect(mode(path.join(api, 'audit-webhook-kubeconfig.yaml'))).toBe(0o600);
    expect(r.stderr).toMatch(/--admission-control-config-file=\/etc\/kubernetes\/bulwark\/admission-config.yaml/);
    // The audit kubeconfig trusts the serving CA written in the same run; the client certificate chains to client-ca.crt.
    const audit = yamlFile(api, 'audit-webhook-kubeconfig.yaml');
    expect(fromB64(audit.clusters[0].cluster['certificate-authority-data'])).toBe(fs.readFileSync(path.join(out, 'ca.crt'), 'utf8'));
    const kc = yamlFile(api, 'admission-kubeconfig.yaml');
    expect(kc.users[0].name).toBe('127.0.0.1:18443');
    const client = new X509Certificate(fromB64(kc.users[0].user['client-certificate-data']));
    expect(client.checkIssued(new X509Certificate(fs.readFileSync(path.join(out, 'client-ca.crt'))))).toBe(true);

    const untouched = freshDir();
    const again = await cli(registerCerts, 'certs', ['--out-dir', untouched, '--apiserver-config', api]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/refusing to overwrite .*admission-config.yaml/);
    // Refused before anything was made: no half of a set of certificates in --out-dir.
    expect(fs.existsSync(untouched)).toBe(false);
    const badPort = await cli(registerCerts, 'certs', ['--out-dir', freshDir(), '--apiserver-config', freshDir(), '--service-port', '70000']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/--service-port must be a port number/);
  });

  it('adds client-ca.crt to the Secret of --format secret', async () => {
    const r = await cli(registerCerts, 'certs', ['--format', 'secret', '--apiserver-config', freshDir()]);
    expect(r.code, r.stderr).toBe(0);
    const secret = parseYaml(r.stdout) as Obj;
    expect(fromB64(secret.data['client-ca.crt'])).toMatch(/BEGIN CERTIFICATE/);
  });
});

describe('bulwark manifests --apiserver-config', () => {
  let ts: TestServer | undefined;
  afterEach(async () => {
    await ts?.close();
    ts = undefined;
  });

  it('makes Bulwark require the client CA (server.clientCA) and the API server present a certificate it accepts', async () => {
    const out = installManifests({ namespace: 'sec', apiserver: { servicePort: 443 } });
    const docs = parseAllDocuments(out.yaml)
      .map((d) => d.toJS() as Obj)
      .filter(Boolean);
    const cm = docs.find((d) => d.kind === 'ConfigMap')!;
    const config = parseConfig(cm.data['config.yaml']);
    expect(config.server.clientCA).toBe('/etc/bulwark/client-ca.crt');
    expect(cm.data['client-ca.crt']).toBe(out.apiserver!.clientCA.certPem);
    // The config volume mounts every key of the ConfigMap at /etc/bulwark.
    const deploy = docs.find((d) => d.kind === 'Deployment')!;
    const volume = deploy.spec.template.spec.volumes.find((v: Obj) => v.configMap);
    expect(volume.configMap.items).toBeUndefined();
    expect(deploy.spec.template.spec.containers[0].volumeMounts.find((m: Obj) => m.name === volume.name).mountPath).toBe('/etc/bulwark');
    // The client certificate in the admission kubeconfig is accepted by a server with that client CA.
    const kc = parseYaml(out.apiserver!.files.find((f) => f.name === 'admission-kubeconfig.yaml')!.text) as Obj;
    expect(kc.users[0].name).toBe('bulwark.sec.svc');
    const dir = freshDir();
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'client-ca.crt'), cm.data['client-ca.crt']);
    ts = await startTestServer({ clientCAFile: path.join(dir, 'client-ca.crt') });
    const caPem = fs.readFileSync(ts.certs.caFile);
    const body = JSON.stringify(review(withPodSpec('Pod', cleanSpec())));
    const post = { method: 'POST', path: '/validate', body, headers: { 'content-type': 'application/json' } };
    expect((await request(ts.port, caPem, post)).status).toBe(401);
    const user = kc.users[0].user;
    const ok = await request(ts.port, caPem, { ...post, cert: fromB64(user['client-certificate-data']), key: fromB64(user['client-key-data']) });
    expect(ok.status).toBe(200);
  });

  it('writes the files from the command line and says where they go', async () => {
    const api = freshDir();
    const r = await cli(registerManifests, 'manifests', ['--apiserver-config', api, '--apiserver-config-path', '/srv/bulwark']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kind: ConfigMap/);
    expect(r.stderr).toMatch(/copy them to \/srv\/bulwark/);
    expect(yamlFile(api, 'admission-config.yaml').plugins[0].configuration.kubeConfigFile).toBe('/srv/bulwark/admission-kubeconfig.yaml');
    const bad = await cli(registerManifests, 'manifests', ['--apiserver-config', freshDir(), '--audit-url', 'http://x/audit']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--audit-url must be https/);
    expect(bad.stdout).toBe('');
  });
});

describe('the chart: apiserverClientCA', () => {
  const render = (args: string[]) =>
    helm(['template', 'rel', chartDir, '--namespace', 'bulwark-system', '--set', 'certificates.generate.allowTemplateRender=true', ...args]);

  it('puts the bundle next to config.yaml and sets server.clientCA; refuses what is not PEM', () => {
    const pem = createCA({ commonName: 'apiserver-client-ca' }).certPem;
    const file = path.join(tmpRoot, 'client-ca.crt');
    fs.writeFileSync(file, pem);
    const r = render(['--set-file', `apiserverClientCA=${file}`]);
    expect(r.code, r.stderr).toBe(0);
    const cm = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as Obj)
      .find((d) => d?.kind === 'ConfigMap' && d.data?.['config.yaml'])!;
    expect(cm.data['client-ca.crt'].trim()).toBe(pem.trim());
    expect(parseConfig(cm.data['config.yaml']).server.clientCA).toBe('/etc/bulwark/client-ca.crt');
    const without = render([]);
    expect(without.stdout).not.toMatch(/clientCA|client-ca\.crt/);
    const bad = render(['--set', 'apiserverClientCA=not-a-certificate']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/apiserverClientCA must be a PEM certificate bundle/);
  });
});
