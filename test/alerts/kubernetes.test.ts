// Kubernetes mode: TokenReview and SubjectAccessReview against a local HTTPS stand-in for the
// API server, asserting that what Bulwark sends has the shape kube-apiserver expects.
import fs from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, createServingCert } from '../../certs/x509.js';
import { defaultConfig } from '../../config/load.js';
import { startAlertsService, type AlertsService } from '../../alerts/service.js';
import { startApiServerStandIn, type StandIn } from '../support/apiserver.js';
import { makeAlert, memoryLogger, request, tempDir } from './support.js';

const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
const ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

/**
 * Who each token is, what it was minted for, and what RBAC grants (the chart's ClusterRoles bound
 * to groups). `audiences` are the token's own (a bound service-account token); none: an
 * audience-agnostic authenticator (token file, OIDC), which kube-apiserver treats as valid for its
 * own API audiences only.
 */
const API_AUDIENCES = ['https://kubernetes.default.svc'];
const USERS: Record<string, { username: string; uid: string; groups: string[]; audiences?: string[] }> = {
  'sa-reader-token': {
    username: 'system:serviceaccount:sec:reader',
    uid: 'c0ffee-1',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:sec', 'system:authenticated'],
    audiences: ['bulwark'],
  },
  'oidc-admin-token': { username: 'alice@example.com', uid: '', groups: ['security-admins', 'system:authenticated'], audiences: ['bulwark', 'other'] },
  'nobody-token': { username: 'mallory', uid: 'm-1', groups: ['system:authenticated'], audiences: ['bulwark'] },
  // An admin's own API-server token (audience-agnostic): valid against the API server, not for Bulwark.
  'apiserver-admin-token': { username: 'admin', uid: 'a-1', groups: ['security-admins', 'system:authenticated'] },
  'sa-token-for-vault': { username: 'system:serviceaccount:sec:reader', uid: 'c0ffee-1', groups: ['system:serviceaccounts:sec'], audiences: ['vault'] },
};
const GRANTS: Record<string, string[]> = { 'system:serviceaccounts:sec': ['get', 'list'], 'security-admins': ['get', 'list', 'update'] };
/** A TokenReview server that is not audience-aware: authenticated, and no status.audiences. */
const UNAWARE = 'unaware-server-token';

let standIn: StandIn;
let service: AlertsService;
const ca = createCA();
const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });

beforeAll(async () => {
  standIn = await startApiServerStandIn();
  // As kube-apiserver answers: the requested audiences (default: its own) intersected with the
  // token's; authenticated only when the intersection is not empty, which status.audiences lists.
  standIn.reviews.set(TOKEN_REVIEWS, (body) => {
    const base = { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec: body.spec };
    if (body?.spec?.token === UNAWARE) return { ...base, status: { authenticated: true, user: { username: 'eve', uid: 'e-1', groups: ['security-admins'] } } };
    const found = USERS[body?.spec?.token];
    const requested: string[] = body?.spec?.audiences?.length ? body.spec.audiences : API_AUDIENCES;
    const granted = found ? requested.filter((a) => (found.audiences ?? API_AUDIENCES).includes(a)) : [];
    if (!found || granted.length === 0) {
      return {
        ...base,
        status: {
          user: {},
          error: found
            ? '[invalid bearer token, token audiences ["vault"] is invalid for the target audiences ["bulwark"]]'
            : '[invalid bearer token, square/go-jose: error in cryptographic primitive]',
        },
      };
    }
    const { audiences: _own, ...user } = found;
    return {
      ...base,
      status: {
        authenticated: true,
        user: { ...user, ...(user.uid ? {} : { uid: undefined }), extra: { 'authentication.kubernetes.io/credential-id': ['JTI=1'] } },
        audiences: granted,
      },
    };
  });
  standIn.reviews.set(ACCESS_REVIEWS, (body) => {
    const attrs = body.spec.resourceAttributes;
    const allowed = attrs.group === 'bulwark.io' && attrs.resource === 'alerts' && (body.spec.groups as string[]).some((g) => GRANTS[g]?.includes(attrs.verb));
    return {
      kind: 'SubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: body.spec,
      status: allowed
        ? { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "bulwark-security" of ClusterRole "bulwark-security-reader"' }
        : { allowed: false },
    };
  });
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'tls.crt'), leaf.certPem);
  fs.writeFileSync(path.join(dir, 'tls.key'), leaf.keyPem);
  const kc = new KubeConfig();
  kc.loadFromString(standIn.kubeconfig());
  const config = defaultConfig();
  config.store = { url: `sqlite:${path.join(dir, 'k8s.db')}` };
  config.api = { auth: 'kubernetes', address: '127.0.0.1', tlsCert: path.join(dir, 'tls.crt'), tlsKey: path.join(dir, 'tls.key'), cacheTTL: '10s' };
  service = await startAlertsService(config, memoryLogger().logger, { kubeConfig: kc, apiPort: 0 });
  await service.pipeline.record(makeAlert());
});

afterAll(async () => {
  await service?.close();
  await standIn?.close();
});

const call = (token: string, method = 'GET', suffix = '') =>
  request(`https://127.0.0.1:${service.api!.port}/api/v1/alerts${suffix}`, {
    token,
    method,
    ca: ca.certPem,
    ...(method === 'POST' ? { body: { status: 'resolved' } } : {}),
  });

describe('Kubernetes mode (TokenReview + SubjectAccessReview)', () => {
  it('asks the API server who the token is and whether they may list alerts.bulwark.io', async () => {
    const res = await call('sa-reader-token');
    expect(res.status).toBe(200);
    expect(res.json.items).toHaveLength(1);

    const [tr, sar] = standIn.requests.filter((r) => r.path === TOKEN_REVIEWS || r.path === ACCESS_REVIEWS);
    expect(tr).toMatchObject({ method: 'POST', path: TOKEN_REVIEWS, authorization: `Bearer ${standIn.token}` });
    expect(tr!.contentType).toMatch(/^application\/json/);
    expect(tr!.body).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'sa-reader-token', audiences: ['bulwark'] } });
    expect(sar).toMatchObject({ method: 'POST', path: ACCESS_REVIEWS, authorization: `Bearer ${standIn.token}` });
    expect(sar!.contentType).toMatch(/^application\/json/);
    expect(sar!.body).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: 'system:serviceaccount:sec:reader',
        uid: 'c0ffee-1',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:sec', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': ['JTI=1'] },
        resourceAttributes: { group: 'bulwark.io', resource: 'alerts', verb: 'list' },
      },
    });
  });

  it('caches answers briefly instead of asking on every request', async () => {
    const before = standIn.requests.length;
    expect((await call('sa-reader-token')).status).toBe(200);
    expect(standIn.requests.length).toBe(before);
  });

  it('maps the answers to 401 and 403', async () => {
    const bad = await call('forged-token');
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await call('nobody-token')).status).toBe(403);
    const readerUpdate = await call('sa-reader-token', 'POST', `/${(await service.store.list({}, undefined, 1)).items[0]!.id}/status`);
    expect(readerUpdate.status).toBe(403);
    expect(readerUpdate.json.error).toMatch(/may not update alerts: that needs RBAC permission to update alerts\.bulwark\.io/);
    const sar = standIn.requests.filter((r) => r.path === ACCESS_REVIEWS).map((r: any) => r.body.spec.resourceAttributes.verb);
    expect(sar).toContain('update');
  });

  it('lets an RBAC admin change status', async () => {
    const id = (await service.store.list({}, undefined, 1)).items[0]!.id;
    const res = await call('oidc-admin-token', 'POST', `/${id}/status`);
    expect(res.status).toBe(200);
    expect(res.json.history.at(-1)).toMatchObject({ by: 'alice@example.com', to: 'resolved' });
    const sar = standIn.requests.filter((r) => r.path === ACCESS_REVIEWS).at(-1) as any;
    expect(sar.body.spec).not.toHaveProperty('uid'); // no uid in the TokenReview answer: none sent
  });

  it('refuses tokens not minted for Bulwark: an API-server token, another audience, an audience-unaware answer', async () => {
    for (const token of ['apiserver-admin-token', 'sa-token-for-vault', UNAWARE]) {
      const res = await call(token);
      expect(res.status, token).toBe(401);
    }
    const sent = standIn.requests.filter((r) => r.path === TOKEN_REVIEWS && (r.body as any).spec.token === 'apiserver-admin-token');
    expect((sent[0]!.body as any).spec.audiences).toEqual(['bulwark']);
    // No SubjectAccessReview was asked for any of them.
    expect(standIn.requests.filter((r) => r.path === ACCESS_REVIEWS && ['admin', 'eve'].includes((r.body as any).spec.user))).toEqual([]);
  });

  it('answers 503 when the API server cannot be asked', async () => {
    await standIn.close();
    const res = await call('another-token');
    expect(res.status).toBe(503);
    expect(res.json.error).toMatch(/identity backend is unavailable/);
  });
});
