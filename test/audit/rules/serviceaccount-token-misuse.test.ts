// serviceaccount-token-misuse: a service account's token used as a person or an attacker uses one
// (self reviews, human clients, secrets of every namespace, exec), unless the account's baseline
// already held that sign before the request.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import type { AuditEvent } from '../../../audit/event.js';
import type { Alert } from '../../../alerts/model.js';
import { defaultConfig, type BulwarkConfig } from '../../../config/load.js';
import { auditEvent, KUBECTL_UA } from '../helpers.js';

const ID = 'serviceaccount-token-misuse';
const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1, 8);
const WEB = { username: 'system:serviceaccount:shop:web', groups: ['system:serviceaccounts', 'system:authenticated'] };
const APP_UA = 'web/v0.0.0 (linux/amd64) kubernetes/$Format';
const time = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

function ev(days: number, over: Record<string, unknown>): AuditEvent {
  const t = START + days * DAY;
  return auditEvent({ user: WEB, userAgent: APP_UA, requestReceivedTimestamp: time(t), stageTimestamp: time(t + 5), ...over });
}
/** A self review (`kubectl auth can-i` / `auth whoami`) of `resource` in `group`, answered 201. */
const selfReview = (days: number, resource: string, group: string, ua = APP_UA, extra: Record<string, unknown> = {}) =>
  ev(days, {
    verb: 'create',
    userAgent: ua,
    requestURI: `/apis/${group}/v1/${resource}`,
    objectRef: { resource, apiGroup: group, apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    ...extra,
  });
const ssar = (days: number, ua = APP_UA, extra: Record<string, unknown> = {}) =>
  selfReview(days, 'selfsubjectaccessreviews', 'authorization.k8s.io', ua, extra);
const ssrr = (days: number) => selfReview(days, 'selfsubjectrulesreviews', 'authorization.k8s.io');
const whoami = (days: number) => selfReview(days, 'selfsubjectreviews', 'authentication.k8s.io');
const getPods = (days: number, ua = APP_UA) =>
  ev(days, { verb: 'list', userAgent: ua, requestURI: '/api/v1/namespaces/shop/pods', objectRef: { resource: 'pods', namespace: 'shop', apiVersion: 'v1' } });
const allSecrets = (days: number) => ev(days, { verb: 'list', requestURI: '/api/v1/secrets', objectRef: { resource: 'secrets', apiVersion: 'v1' } });
const exec = (days: number, ua = APP_UA) =>
  ev(days, {
    verb: 'create',
    userAgent: ua,
    stage: 'ResponseStarted',
    requestURI: '/api/v1/namespaces/shop/pods/db-0/exec?command=sh&stdin=true',
    objectRef: { resource: 'pods', subresource: 'exec', namespace: 'shop', name: 'db-0', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 101 },
  });

const misuse = (alerts: readonly Alert[]) => alerts.filter((a) => a.type === ID);
function analyser(config: Partial<BulwarkConfig> = {}): AuditAnalyser {
  return new AuditAnalyser({ config: { ...defaultConfig(), anomaly: { learningPeriod: '7d' }, ...config } });
}

describe(ID, () => {
  it.each([
    ['a SelfSubjectAccessReview', ssar(0), ['self-review'], 'medium', 'asked what it may do (SelfSubjectAccessReview)'],
    ['a SelfSubjectRulesReview', ssrr(0), ['self-review'], 'medium', 'SelfSubjectRulesReview'],
    ['kubectl auth whoami', whoami(0), ['self-review'], 'medium', 'SelfSubjectReview'],
    ['a list from curl', getPods(0, 'curl/8.5.0'), ['human-client'], 'medium', 'was used from curl (user agent "curl/8.5.0")'],
    ['secrets of every namespace', allSecrets(0), ['secrets-all-namespaces'], 'medium', 'listed secrets across all namespaces'],
    ['exec into a pod (a lone ResponseStarted)', exec(0), ['exec'], 'medium', "exec'd into pod shop/db-0"],
    ['kubectl auth can-i: a self review from kubectl', ssar(0, KUBECTL_UA), ['self-review', 'human-client'], 'high', 'from kubectl'],
    ['kubectl exec', exec(0, KUBECTL_UA), ['exec', 'human-client'], 'high', 'exec'],
  ])('fires on %s', (_n, event, signs, severity, text) => {
    const alerts = misuse(analyser().analyse(event));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity, namespace: 'shop', resource: { kind: 'ServiceAccount', name: 'web' } });
    expect(alerts[0]!.evidence.signs).toEqual(signs);
    expect(alerts[0]!.message).toContain(text);
  });

  it.each([
    ['a person running kubectl', ssar(0, KUBECTL_UA, { user: { username: 'alice', groups: [] } })],
    ['a failed self review', ssar(0, APP_UA, { responseStatus: { metadata: {}, code: 403 } })],
    ['a dry run', ssar(0, APP_UA, { requestURI: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews?dryRun=All' })],
    ['the workload listing its own pods with its own client', getPods(0)],
    [
      'a SubjectAccessReview (an authorizer webhook, not a self review)',
      ssar(0, APP_UA, { objectRef: { resource: 'subjectaccessreviews', apiGroup: 'authorization.k8s.io' } }),
    ],
    ['a controller of the control plane', ssar(0, KUBECTL_UA, { user: { username: 'system:serviceaccount:kube-system:job-controller', groups: [] } })],
  ])('stays quiet on %s', (_n, event) => {
    expect(misuse(analyser().analyse(event))).toEqual([]);
  });

  it('a sign the account showed before is not a sign: learned while learning, quiet after', () => {
    const a = analyser();
    // A CI job that always runs kubectl: its first use alerts (a token stolen on day one looks the same), then it is learned.
    expect(misuse(a.analyse(getPods(0, KUBECTL_UA)))).toHaveLength(1);
    expect(misuse(a.analyse(getPods(1, KUBECTL_UA)))).toEqual([]);
    expect(misuse(a.analyse(getPods(9, KUBECTL_UA)))).toEqual([]);
    // After the window, a sign it never showed alerts, and says so.
    const late = misuse(a.analyse(ssar(9)));
    expect(late).toHaveLength(1);
    expect(late[0]!.message).toContain('never seen while its baseline was learned');
    expect(late[0]!.evidence).toMatchObject({ baseline: 'judging' });
    // Still unknown on the next day: it alerts again (the store merges it within the window).
    expect(misuse(a.analyse(ssar(10)))).toHaveLength(1);
  });

  it("DESIGN.md's example: kubectl SelfSubjectAccessReview after the learning window raises both service-account alerts", () => {
    const a = analyser();
    a.analyse(getPods(0));
    expect(
      a
        .analyse(ssar(8, KUBECTL_UA))
        .map((x) => x.type)
        .filter((t) => t.startsWith('serviceaccount-'))
        .sort(),
    ).toEqual(['serviceaccount-rare-operation', 'serviceaccount-token-misuse']);
  });

  it('without the baseline (serviceaccount-rare-operation disabled) every sign alerts', () => {
    const a = analyser({ audit: { disabled: ['serviceaccount-rare-operation'] } });
    expect(misuse(a.analyse(getPods(0, KUBECTL_UA)))).toHaveLength(1);
    expect(misuse(a.analyse(getPods(1, KUBECTL_UA)))).toHaveLength(1);
  });

  it('an impersonated request is judged on the account, and teaches nothing', () => {
    const a = analyser();
    const imp = { user: { username: 'mallory', groups: [] }, impersonatedUser: WEB };
    expect(
      misuse(
        a.analyse(
          ev(0, {
            ...imp,
            verb: 'list',
            userAgent: KUBECTL_UA,
            requestURI: '/api/v1/namespaces/shop/pods',
            objectRef: { resource: 'pods', namespace: 'shop' },
          }),
        ),
      ),
    ).toHaveLength(1);
    expect(misuse(a.analyse(getPods(1, KUBECTL_UA)))).toHaveLength(1);
  });

  it('lists.humanClientUserAgents is data: appended, replaced', () => {
    const ua = 'mytool/1.0';
    expect(misuse(analyser().analyse(getPods(0, ua)))).toEqual([]);
    expect(misuse(analyser({ lists: { ...defaultConfig().lists, humanClientUserAgents: ['mytool'] } }).analyse(getPods(0, ua)))).toHaveLength(1);
    expect(misuse(analyser({ lists: { ...defaultConfig().lists, humanClientUserAgents: [] } }).analyse(getPods(0, KUBECTL_UA)))).toEqual([]);
  });

  it('distinct signs are distinct alerts; the same signs on other objects merge', () => {
    const a = analyser({ audit: { disabled: ['serviceaccount-rare-operation'] } });
    const [x] = misuse(a.analyse(exec(0)));
    const [y] = misuse(
      a.analyse(ev(0, { ...exec(0), auditID: 'other', objectRef: { resource: 'pods', subresource: 'exec', namespace: 'shop', name: 'cache-0' } })),
    );
    const [z] = misuse(a.analyse(ssar(0)));
    expect(x!.fingerprint).toBe(y!.fingerprint);
    expect(z!.fingerprint).not.toBe(x!.fingerprint);
  });

  it('takes exceptions by user', () => {
    expect(misuse(analyser({ exceptions: { [ID]: [{ users: ['system:serviceaccount:ci:*'] }] } } as never).analyse(ssar(0)))).toHaveLength(1);
    expect(misuse(analyser({ exceptions: { [ID]: [{ users: ['system:serviceaccount:shop:*'] }] } } as never).analyse(ssar(0)))).toEqual([]);
  });
});
