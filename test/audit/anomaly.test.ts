// The service-account baseline (audit/anomaly.ts): what an operation is, which clients are human,
// learning inside the window and judging after it, the bounds, merging what other replicas learned.
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_MARKER,
  AnomalyBaseline,
  anomalySettingsOf,
  CHANGES,
  defaultAnomalySettings,
  humanClientOf,
  isServiceAccountName,
  MAX_PENDING_FACTS,
  operationOf,
  type AnomalySettings,
} from '../../audit/anomaly.js';
import { parseTimestamp } from '../../audit/event.js';
import { ConfigError } from '../../config/load.js';
import { DEFAULT_LISTS } from '../../policies/lists.js';
import { prng } from '../support/prng.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);
const SA = 'system:serviceaccount:shop:web';
const settings = (over: Partial<AnomalySettings> = {}): AnomalySettings => ({ ...defaultAnomalySettings(), ...over });
const facts = (over: Partial<{ verb: string; resource: string; subresource: string; apiGroup: string; namespace: string; requestURI: string }>) => ({
  verb: 'get',
  resource: '',
  subresource: '',
  apiGroup: '',
  namespace: '',
  requestURI: '',
  ...over,
});

describe('operationOf', () => {
  it.each([
    ['a namespaced get', { verb: 'get', resource: 'pods', namespace: 'shop' }, 'get pods in shop'],
    ['a list across namespaces', { verb: 'list', resource: 'secrets' }, 'list secrets cluster-wide'],
    [
      'a group and a subresource',
      { verb: 'create', resource: 'deployments', subresource: 'scale', apiGroup: 'apps', namespace: 'shop' },
      'create apps/deployments/scale in shop',
    ],
    ['a cluster-scoped kind', { verb: 'get', resource: 'nodes' }, 'get nodes cluster-wide'],
    ['a non-resource URL: the first two segments', { verb: 'get', requestURI: '/apis/apps/v1?timeout=32s' }, 'get /apis/apps'],
    ['a non-resource URL: the root', { verb: 'get', requestURI: '/' }, 'get /'],
    ['a non-resource URL: a long path cannot make new operations', { verb: 'get', requestURI: '/metrics/x/y/z' }, 'get /metrics/x'],
  ])('%s → %s', (_n, f, op) => {
    expect(operationOf(facts(f))).toBe(op);
  });

  it('bounds every part, and refuses a missing verb or an odd path', () => {
    const long = 'x'.repeat(10_000);
    expect(operationOf(facts({ verb: 'get', resource: long, namespace: long, apiGroup: long }))!.length).toBeLessThan(300);
    expect(operationOf(facts({ verb: 'get', requestURI: `/${long}/${long}/${long}` }))!.length).toBeLessThan(200);
    expect(operationOf(facts({ verb: '', resource: 'pods' }))).toBeUndefined();
    expect(operationOf(facts({ verb: 'get all', resource: 'pods' }))).toBeUndefined();
    expect(operationOf(facts({ verb: 'get', requestURI: 'relative' }))).toBeUndefined();
  });
});

describe('humanClientOf', () => {
  const list = DEFAULT_LISTS.humanClientUserAgents!;
  it.each([
    ['kubectl/v1.30.2 (linux/amd64) kubernetes/3968350', 'kubectl'],
    ['kubectl.exe/v1.29.0 (windows/amd64) kubernetes/abc', 'kubectl'],
    ['curl/8.5.0', 'curl'],
    ['python-requests/2.31.0', 'python-requests'],
    ['Python-urllib/3.11', 'python-urllib'],
    ['Wget/1.21.3', 'wget'],
    ['HTTPie/3.2.2', 'httpie'],
    ['k9s/v0.32.4 (linux/amd64) kubernetes/$Format', 'k9s'],
  ])('%s → %s', (ua, client) => {
    expect(humanClientOf(ua, list)).toBe(client);
  });

  it.each([
    'kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/system:serviceaccount:kube-system:replicaset-controller',
    'argocd-application-controller/v0.0.0 (linux/amd64) kubernetes/$Format',
    'Go-http-client/2.0',
    'my-operator (curl-like)',
    '',
    '/curl',
  ])('%s → no human client', (ua) => {
    expect(humanClientOf(ua, list)).toBeUndefined();
  });
});

describe('isServiceAccountName', () => {
  it.each([
    [SA, true],
    ['system:serviceaccount:kube-system:coredns', true],
    ['system:serviceaccount:shop', false],
    ['system:serviceaccount::web', false],
    ['system:serviceaccount:shop:', false],
    ['system:serviceaccount:a:b:c', false],
    ['system:serviceaccounts:shop', false],
    ['alice', false],
  ])('%s → %s', (name, yes) => {
    expect(isServiceAccountName(name)).toBe(yes);
  });
});

describe('AnomalyBaseline', () => {
  it('learns during the window from the first request, then judges', () => {
    const b = new AnomalyBaseline(settings({ learningPeriodMs: 7 * DAY }));
    const first = b.observe(SA, 'get pods in shop', undefined, T0, true)!;
    expect(first).toMatchObject({ state: 'learning', known: false, learned: 1, learningEndsMs: T0 + 7 * DAY });
    expect(b.observe(SA, 'get pods in shop', undefined, T0 + DAY, true)).toMatchObject({ state: 'learning', known: true });
    expect(b.observe(SA, 'list configmaps in shop', undefined, T0 + 7 * DAY - 1, true)).toMatchObject({ state: 'learning', known: false, learned: 2 });
    // From the window's end on: judged, never learned.
    expect(b.observe(SA, 'get pods in shop', undefined, T0 + 7 * DAY, true)).toMatchObject({ state: 'judging', known: true });
    expect(b.observe(SA, 'list secrets cluster-wide', undefined, T0 + 8 * DAY, true)).toMatchObject({ state: 'judging', known: false, learned: 2 });
    expect(b.observe(SA, 'list secrets cluster-wide', undefined, T0 + 9 * DAY, true)).toMatchObject({ state: 'judging', known: false });
    expect(b.operationsOf(SA)).toEqual(['get pods in shop', 'list configmaps in shop']);
  });

  it('each account has its own window', () => {
    const b = new AnomalyBaseline(settings({ learningPeriodMs: DAY }));
    b.observe(SA, 'get pods in shop', undefined, T0, true);
    expect(b.observe('system:serviceaccount:shop:new', 'list secrets cluster-wide', undefined, T0 + 5 * DAY, true)).toMatchObject({ state: 'learning' });
    expect(b.observe(SA, 'list secrets cluster-wide', undefined, T0 + 5 * DAY, true)).toMatchObject({ state: 'judging', known: false });
  });

  it('an earlier event arriving late moves the window start back', () => {
    const b = new AnomalyBaseline(settings({ learningPeriodMs: DAY }));
    b.observe(SA, 'get pods in shop', undefined, T0 + DAY / 2, true);
    b.observe(SA, 'get pods in shop', undefined, T0, true);
    expect(b.summaries()[0]).toMatchObject({ learningSinceMs: T0, learningEndsMs: T0 + DAY });
    expect(b.observe(SA, 'watch pods in shop', undefined, T0 + DAY + 1, true)).toMatchObject({ state: 'judging', known: false });
  });

  it('a request not learned (impersonated) is judged but never widens the baseline, nor starts an account', () => {
    const b = new AnomalyBaseline(settings({ learningPeriodMs: DAY }));
    expect(b.observe(SA, 'get pods in shop', undefined, T0, false)).toMatchObject({ state: 'untracked', known: false });
    expect(b.accountCount).toBe(0);
    b.observe(SA, 'get pods in shop', undefined, T0, true);
    b.observe(SA, 'delete pods in shop', undefined, T0 + 1, false);
    expect(b.operationsOf(SA)).toEqual(['get pods in shop']);
    expect(b.untracked).toBe(0);
  });

  it('learns the human client an account uses, apart from its operations', () => {
    const b = new AnomalyBaseline(settings({ learningPeriodMs: DAY }));
    expect(b.observe(SA, 'get pods in shop', 'kubectl', T0, true)).toMatchObject({ agent: 'kubectl', agentKnown: false });
    expect(b.observe(SA, 'list pods in shop', 'kubectl', T0 + 1, true)).toMatchObject({ agent: 'kubectl', agentKnown: true });
    expect(b.observe(SA, 'get pods in shop', 'curl', T0 + DAY, true)).toMatchObject({ state: 'judging', known: true, agent: 'curl', agentKnown: false });
    expect(b.operationsOf(SA)).toEqual(['get pods in shop', 'list pods in shop', 'using kubectl']);
  });

  it('stops learning an account at maxOperationsPerAccount and calls it saturated', () => {
    const b = new AnomalyBaseline(settings({ learningPeriodMs: DAY, maxOperationsPerAccount: 3 }));
    for (const op of ['a', 'b', 'c', 'd', 'e']) b.observe(SA, `get ${op}`, undefined, T0, true);
    expect(b.operationsOf(SA)).toEqual(['get a', 'get b', 'get c']);
    expect(b.summaries()[0]!.saturated).toBe(true);
    expect(b.observe(SA, 'get z', undefined, T0 + 2 * DAY, true)).toMatchObject({ state: 'saturated', known: false });
  });

  it('tracks at most maxAccounts accounts and counts the requests of the others', () => {
    const b = new AnomalyBaseline(settings({ maxAccounts: 2 }));
    b.observe('system:serviceaccount:a:a', 'get pods in a', undefined, T0, true);
    b.observe('system:serviceaccount:b:b', 'get pods in b', undefined, T0, true);
    expect(b.observe('system:serviceaccount:c:c', 'get pods in c', undefined, T0, true)).toMatchObject({ state: 'untracked' });
    expect(b.accountCount).toBe(2);
    expect(b.untracked).toBe(1);
  });

  it('queues each new fact once for the store, with the account marker first', () => {
    const b = new AnomalyBaseline(settings());
    b.observe(SA, 'get pods in shop', 'kubectl', T0, true);
    b.observe(SA, 'get pods in shop', 'kubectl', T0 + 5, true);
    expect(b.takePending()).toEqual([
      { account: SA, operation: ACCOUNT_MARKER, firstSeenMs: T0 },
      { account: SA, operation: 'get pods in shop', firstSeenMs: T0 },
      { account: SA, operation: 'using kubectl', firstSeenMs: T0 },
    ]);
    expect(b.takePending()).toEqual([]);
  });

  it('bounds the queue when the store stays away: the oldest facts go unpersisted, and are counted', () => {
    const b = new AnomalyBaseline(settings({ maxOperationsPerAccount: 10_000 }));
    const facts = Array.from({ length: MAX_PENDING_FACTS }, (_, i) => ({ account: SA, operation: `get x${i}`, firstSeenMs: T0 }));
    b.requeue(facts);
    b.observe(SA, 'get pods in shop', undefined, T0, true);
    expect(b.pendingCount).toBe(MAX_PENDING_FACTS);
    expect(b.unpersisted).toBe(2);
  });

  it('merges what the store holds: the earliest start wins, operations add up, nothing is queued again', () => {
    const b = new AnomalyBaseline(settings({ learningPeriodMs: DAY }));
    b.observe(SA, 'get pods in shop', undefined, T0 + 1000, true);
    b.takePending();
    b.merge([
      { account: SA, operation: ACCOUNT_MARKER, firstSeenMs: T0 },
      { account: SA, operation: 'list secrets in shop', firstSeenMs: T0 + 5 },
      { account: 'system:serviceaccount:x:y', operation: 'get nodes cluster-wide', firstSeenMs: T0 + 7 },
      { account: 42, operation: 'bad', firstSeenMs: 'x' } as never,
    ]);
    expect(b.pendingCount).toBe(0);
    expect(b.operationsOf(SA)).toEqual(['get pods in shop', 'list secrets in shop']);
    expect(b.summaries().map((s) => [s.account, s.learningSinceMs])).toEqual([
      [SA, T0],
      ['system:serviceaccount:x:y', T0 + 7],
    ]);
    expect(b.observe(SA, 'list secrets in shop', undefined, T0 + 2 * DAY, true)).toMatchObject({ state: 'judging', known: true });
  });

  it('an event without a time is not judged', () => {
    expect(new AnomalyBaseline(settings()).observe(SA, 'get pods in shop', undefined, NaN, true)).toBeUndefined();
  });
});

describe('anomaly settings', () => {
  it('defaults: 7 days, 500 operations, 50,000 accounts, 30 s', () => {
    expect(anomalySettingsOf({})).toEqual({ learningPeriodMs: 7 * DAY, maxOperationsPerAccount: 500, maxAccounts: 50_000, syncIntervalMs: 30_000 });
    expect(anomalySettingsOf({ anomaly: { learningPeriod: '2d', maxOperationsPerAccount: 50 } })).toMatchObject({
      learningPeriodMs: 2 * DAY,
      maxOperationsPerAccount: 50,
    });
  });

  it.each([
    [{ learningPeriod: '0s' }, /learningPeriod/],
    [{ learningPeriod: '400d' }, /at most/],
    [{ maxOperationsPerAccount: 0 }, /whole number from 1 to 10000/],
    [{ maxOperationsPerAccount: 2.5 }, /whole number/],
    [{ maxAccounts: -1 }, /maxAccounts/],
    [{ syncInterval: '2d' }, /at most/],
    [{ learningperiod: '1d' }, /learningPeriod/],
  ])('refuses %j with a message naming the key', (anomaly, message) => {
    expect(() => anomalySettingsOf({ anomaly } as never, 'bulwark.yaml')).toThrow(ConfigError);
    expect(() => anomalySettingsOf({ anomaly } as never, 'bulwark.yaml')).toThrow(message);
  });
});

describe('parseTimestamp (event times without a Date.parse per event)', () => {
  it.each([
    '2026-11-01T08:00:00.123456Z',
    '2026-11-01T08:00:00.123456Z', // the same second again (cached)
    '2026-11-01T08:00:00.999999Z',
    '2026-11-01T08:00:01.5Z',
    '2026-11-01T08:00:01.05Z',
    '2026-11-01T08:00:01.000000001Z',
    '2026-11-01T08:00:01Z',
    '2024-02-29T23:59:59.999Z',
    '2026-11-01T08:00:00.12a456Z',
    '2026-11-01T08:00:00.Z',
    '2026-11-01T08:00:00+02:00',
    '2026-11-01T08:00:00.123456+02:00',
    '2026-11-01 08:00:00Z',
    '2026-13-01T08:00:00Z',
    'not a time',
    '',
  ])('%s agrees with Date.parse', (t) => {
    expect(parseTimestamp(t)).toEqual(Date.parse(t));
  });

  it('agrees with Date.parse on 5,000 random API-server micro-times', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let i = 0; i < 5000; i++) {
      const base = new Date(Date.UTC(2000 + rand(50), rand(12), 1 + rand(28), rand(24), rand(60), rand(60))).toISOString().slice(0, 19);
      const digits = rand(10);
      const t = base + (digits ? '.' + String(rand(10 ** digits)).padStart(digits, '0') : '') + 'Z';
      expect(parseTimestamp(t), t).toBe(Date.parse(t));
    }
  });
});

describe('AnomalyBaseline bounds under attack', () => {
  it('keeps at most the configured number of distinct operation names over all accounts; later ones are not learned (they alert later) and are counted', () => {
    const b = new AnomalyBaseline(settings({ learningPeriodMs: DAY }), 3);
    for (let i = 0; i < 5; i++) b.observe(`system:serviceaccount:ns:a${i}`, `list pods in random-${i}`, undefined, T0, true);
    b.observe('system:serviceaccount:ns:a0', 'list pods in random-1', undefined, T0 + 1, true); // an interned name is still learned
    expect(b.unlearned).toBe(2);
    expect(b.operationsOf('system:serviceaccount:ns:a0')).toEqual(['list pods in random-0', 'list pods in random-1']);
    expect(b.operationsOf('system:serviceaccount:ns:a4')).toEqual([]);
    expect(b.observe('system:serviceaccount:ns:a4', 'list pods in random-4', undefined, T0 + 2 * DAY, true)).toMatchObject({ state: 'judging', known: false });
    b.merge([{ account: 'system:serviceaccount:ns:a4', operation: 'list pods in other', firstSeenMs: T0 }]);
    expect(b.unlearned).toBe(3);
  });
});

describe('AnomalyBaseline.peek', () => {
  it('answers what observe answers when observe changes nothing, CHANGES when it would learn, and changes nothing itself', () => {
    const settings = { ...defaultAnomalySettings(), learningPeriodMs: 60_000, maxAccounts: 2 };
    const watched = new AnomalyBaseline(settings);
    const peeked = new AnomalyBaseline(settings);
    const rand = prng(99);
    const accounts = ['system:serviceaccount:a:x', 'system:serviceaccount:b:y', 'system:serviceaccount:c:z'];
    const operations = ['get pods in a', 'list secrets cluster-wide', 'watch endpoints in a', 'create pods/exec in a'];
    let changes = 0;
    let same = 0;
    for (let i = 0; i < 3000; i++) {
      const account = accounts[Math.floor(rand() * accounts.length)]!;
      const operation = operations[Math.floor(rand() * operations.length)]!;
      const agent = rand() < 0.2 ? 'kubectl' : undefined;
      // Mostly forward in time, sometimes a late event, sometimes no time.
      const t = rand() < 0.02 ? NaN : T0 + i * 100 - (rand() < 0.05 ? 50_000 : 0);
      const learn = rand() < 0.9;
      const before = JSON.stringify([peeked.summaries(), peeked.untracked, peeked.pendingCount]);
      const answer = peeked.peek(account, operation, agent, t, learn);
      expect(JSON.stringify([peeked.summaries(), peeked.untracked, peeked.pendingCount])).toBe(before);
      const stateBefore = JSON.stringify([watched.summaries(), watched.untracked, watched.pendingCount, accounts.map((a) => watched.operationsOf(a))]);
      const observed = watched.observe(account, operation, agent, t, learn);
      const stateAfter = JSON.stringify([watched.summaries(), watched.untracked, watched.pendingCount, accounts.map((a) => watched.operationsOf(a))]);
      if (answer === CHANGES) {
        changes++;
        expect(stateAfter, `step ${i}`).not.toBe(stateBefore);
      } else {
        same++;
        expect(stateAfter, `step ${i}`).toBe(stateBefore);
        expect(answer, `step ${i}`).toEqual(observed);
      }
      // Keep the peeked baseline in step with the observed one.
      peeked.observe(account, operation, agent, t, learn);
    }
    expect(changes).toBeGreaterThan(10);
    expect(same).toBeGreaterThan(1000);
  });
});
