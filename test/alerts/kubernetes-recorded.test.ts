// The alerts API's Kubernetes mode against TokenReview and SubjectAccessReview answers recorded
// from a real kube-apiserver (test/e2e/record-apiserver.mjs): what Bulwark sends has the shape
// the real server accepted, and Bulwark reads the real answers right.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { KubernetesAccess } from '../../alerts/auth.js';
import { startApiServerStandIn, type StandIn } from '../support/apiserver.js';
import { memoryLogger } from './support.js';

type Obj = Record<string, any>;
interface Exchange {
  request: { method: string; path: string; body: Obj };
  response: { status: number; body: Obj };
}

const recorded = JSON.parse(readFileSync(join(__dirname, '../fixtures/apiserver/recorded.json'), 'utf8')) as {
  recordedFrom: string;
  reviews: Record<string, Exchange>;
};
const r = recorded.reviews;
const TOKEN = 'REDACTED-READER-TOKEN';
const RECORDED_AUDIENCE = 'https://kubernetes.default.svc';
const BOT = 'REDACTED-BOT-TOKEN';

describe(`alerts API Kubernetes mode, answered as ${recorded.recordedFrom} answered`, () => {
  let api: StandIn;
  let access: KubernetesAccess;

  beforeAll(async () => {
    api = await startApiServerStandIn();
    // The recorded answer for the request's token and audiences (the reader's token without an
    // audience of its own is answered as recorded with the API server's default audience).
    api.reviews.set('/apis/authentication.k8s.io/v1/tokenreviews', (body) => {
      const audiences: string[] = body?.spec?.audiences ?? [];
      if (body?.spec?.token === BOT) {
        return r[audiences.includes('bulwark') ? 'token review, bound token for bulwark' : 'token review, bound token for another audience']!.response.body;
      }
      if (body?.spec?.token === TOKEN) {
        return r[audiences.includes('bulwark') ? 'token review, token-file token for bulwark' : 'token review, valid token']!.response.body;
      }
      return { ...r['token review, unknown token']!.response.body, spec: body.spec };
    });
    api.reviews.set('/apis/authorization.k8s.io/v1/subjectaccessreviews', (body) =>
      body?.spec?.resourceAttributes?.verb === 'update' ? r['access review, update denied']!.response.body : r['access review, list allowed']!.response.body,
    );
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfig());
    // The reader's token is an API-server token-file token, recorded with no spec.audiences: the
    // real server answered with its own audience, so that is the audience configured here.
    access = await KubernetesAccess.create(memoryLogger().logger, { kubeConfig: kc, cacheTtlMs: 0, audiences: [RECORDED_AUDIENCE] });
  });
  afterAll(async () => api?.close());

  it('recorded what a reader may and may not do', () => {
    expect(r['token review, valid token']!.response.body.status).toMatchObject({ authenticated: true, user: { username: 'alice' } });
    expect(r['token review, unknown token']!.response.body.status.authenticated).toBeUndefined();
    expect(r['access review, list allowed']!.response.body.status.allowed).toBe(true);
    expect(r['access review, update denied']!.response.body.status.allowed).toBe(false);
  });

  it('reads the identity out of a real TokenReview, and nobody out of a failed one', async () => {
    const who = await access.authenticate(TOKEN);
    expect(who).toMatchObject({ username: 'alice', uid: 'alice-uid', groups: ['security-readers', 'system:authenticated'] });
    expect(await access.authenticate('not-a-token')).toBeUndefined();
    const sent = api.requests.filter((q) => q.path === '/apis/authentication.k8s.io/v1/tokenreviews');
    expect(sent[0]!.contentType).toBe('application/json');
    expect(sent[0]!.body).toMatchObject({
      apiVersion: r['token review, valid token']!.request.body.apiVersion,
      kind: 'TokenReview',
      spec: { token: TOKEN, audiences: [RECORDED_AUDIENCE] },
    });
  });

  it('recorded how the real server treats audiences', () => {
    expect(r['token review, bound token for bulwark']!.request.body.spec.audiences).toEqual(['bulwark']);
    expect(r['token review, bound token for bulwark']!.response.body.status).toMatchObject({ authenticated: true, audiences: ['bulwark'] });
    expect(r['token review, token-file token for bulwark']!.response.body.status.authenticated).toBeUndefined();
    expect(r['token review, bound token for another audience']!.response.body.status.error).toMatch(
      /token audiences \["bulwark"\] is invalid for the target audiences \["vault"\]/,
    );
  });

  it('with the default audience: accepts the ServiceAccount token minted for bulwark, refuses the token-file token', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfig());
    const strict = await KubernetesAccess.create(memoryLogger().logger, { kubeConfig: kc, cacheTtlMs: 0 });
    expect(await strict.authenticate(BOT)).toMatchObject({
      username: 'system:serviceaccount:default:rec-alerts-bot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
    });
    expect(await strict.authenticate(TOKEN)).toBeUndefined();
    const vault = await KubernetesAccess.create(memoryLogger().logger, { kubeConfig: kc, cacheTtlMs: 0, audiences: ['vault'] });
    expect(await vault.authenticate(BOT)).toBeUndefined();
  });

  it('refuses a real answer that does not name the audience asked for (a server ignoring spec.audiences)', async () => {
    expect(r['token review, valid token']!.response.body.status.audiences).toEqual([RECORDED_AUDIENCE]);
    const path = '/apis/authentication.k8s.io/v1/tokenreviews';
    const honest = api.reviews.get(path)!;
    api.reviews.set(path, () => r['token review, valid token']!.response.body);
    onTestFinished(() => void api.reviews.set(path, honest));
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfig());
    const { logger, lines } = memoryLogger();
    const strict = await KubernetesAccess.create(logger, { kubeConfig: kc, cacheTtlMs: 0 });
    expect(await strict.authenticate(TOKEN)).toBeUndefined();
    expect(lines.some((l) => /another audience/.test(l.msg))).toBe(true);
    const sent = api.requests.filter((q) => q.path === '/apis/authentication.k8s.io/v1/tokenreviews').at(-1)!;
    expect((sent.body as Obj).spec.audiences).toEqual(['bulwark']);
  });

  it('sends SubjectAccessReviews of the shape the real server authorised, and honours its answers', async () => {
    const who = (await access.authenticate(TOKEN))!;
    expect(await access.authorize(who, 'list')).toBe(true);
    expect(await access.authorize(who, 'update')).toBe(false);
    const sent = api.requests.filter((q) => q.path === '/apis/authorization.k8s.io/v1/subjectaccessreviews').map((q) => q.body as Obj);
    const real = r['access review, list allowed']!.request.body;
    expect(sent[0]).toMatchObject({ apiVersion: real.apiVersion, kind: real.kind, spec: { user: real.spec.user, groups: real.spec.groups } });
    expect(sent[0]!.spec.resourceAttributes).toEqual(real.spec.resourceAttributes);
    expect(sent[1]!.spec.resourceAttributes).toEqual(r['access review, update denied']!.request.body.spec.resourceAttributes);
  });
});
