// The one behaviour every AlertStore has: run against SQLite and PostgreSQL by store.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert, AlertStatus } from '../../alerts/model.js';
import {
  AlertNotFoundError,
  CLAIM_TTL_MS,
  CLOCK_SKEW_MS,
  InvalidCursorError,
  LATER_EVIDENCE_BYTES,
  MAX_OUTBOX_ERROR,
  MAX_AUDIT_IDS,
  MAX_LATER_EVIDENCE,
  StatusChangeError,
  type AlertStore,
} from '../../alerts/store.js';
import { at, makeAlert } from './support.js';
import { prng } from '../support/prng.js';
import { AnomalyBaseline, BaselineSync, defaultAnomalySettings } from '../../audit/anomaly.js';

export interface StoreLocation {
  /** A new store instance on this location (same file / same database and schema). */
  open(): Promise<AlertStore>;
  cleanup(): Promise<void>;
}

const WINDOW = 10 * 60_000;

export function storeSuite(name: string, createLocation: () => Promise<StoreLocation>): void {
  describe(`AlertStore: ${name}`, () => {
    const opened: AlertStore[] = [];
    let location: StoreLocation | undefined;

    async function fresh(): Promise<{ store: AlertStore; loc: StoreLocation; open: () => Promise<AlertStore> }> {
      location = await createLocation();
      const loc = location;
      const open = async () => {
        const s = await loc.open();
        opened.push(s);
        return s;
      };
      return { store: await open(), loc, open };
    }

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await location?.cleanup();
      location = undefined;
    });

    it('stores an alert and gives it back whole', async () => {
      const { store } = await fresh();
      const alert = makeAlert({
        auditIDs: ['a1'],
        sourceIPs: ['10.0.0.1'],
        userAgent: 'kubectl/v1.30',
        evidence: { container: 'app', nested: { list: [1, 2] } },
        user: { username: 'bob', groups: ['g1'], impersonator: { username: 'admin', groups: ['system:masters'] } },
      });
      const stored = await store.upsert(alert, WINDOW);
      expect(stored).toEqual(alert);
      expect(await store.get(alert.id)).toEqual(alert);
      expect(await store.get('no-such-id')).toBeUndefined();
    });

    it('keeps alerts when the store is closed and opened again', async () => {
      const { store, open } = await fresh();
      const a = makeAlert();
      await store.upsert(a, WINDOW);
      await store.setStatus(a.id, 'in-progress', 'carol', 'looking');
      await store.close();
      const again = await open();
      expect(await again.get(a.id)).toMatchObject({ id: a.id, status: 'in-progress', history: [{ by: 'carol', reason: 'looking' }] });
    });

    it('upserts a batch in one transaction as one by one: merges within the batch and into stored alerts, replays once, queues only new alerts', async () => {
      const { store } = await fresh();
      const stored = await store.upsert(makeAlert({ firstSeen: at(0) }), WINDOW, ['hook']);
      const again = makeAlert({ resource: stored.resource, firstSeen: at(2) });
      const other = makeAlert({ firstSeen: at(3) });
      const otherAgain = makeAlert({ resource: other.resource, firstSeen: at(4), count: 2 });
      const out = await store.upsertMany([again, other, otherAgain, stored], WINDOW, ['hook']);
      expect(out.map((a) => a.id)).toEqual([stored.id, other.id, other.id, stored.id]);
      expect((await store.get(stored.id))!.count).toBe(2);
      expect((await store.get(other.id))!.count).toBe(3);
      expect((await store.summary({})).total).toBe(2);
      const queued = await store.claimOutbox(Date.now() + 1000, 10, 30_000);
      expect(queued.map((q) => q.alert.id).sort()).toEqual([stored.id, other.id].sort());
      expect(await store.upsertMany([], WINDOW)).toEqual([]);
    });

    it('a batch stores exactly what the same alerts upserted one by one store: repeats, claims, windows, replays, closed alerts (random batches)', async () => {
      for (let seed = 1; seed <= 12; seed++) {
        const random = prng(seed);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
        const resources = ['a', 'b', 'c'].map((name) => ({ group: '', version: 'v1', kind: 'Pod', name: `${name}-${seed}` }));
        const make = () =>
          makeAlert({
            type: pick(['exec-into-pod', 'pentest-tool']),
            source: 'audit',
            resource: pick(resources),
            // Spread over three windows, so some occurrences fall outside the open alert's.
            firstSeen: at(Math.floor(random() * 30)),
            auditIDs: random() < 0.8 ? [`req-${seed}-${Math.floor(random() * 12)}`] : [],
            count: random() < 0.2 ? 2 : 1,
          });
        // Stored before: open ones, a dismissed one, and what their occurrences claimed.
        const before = Array.from({ length: 6 }, make);
        const batch: Alert[] = [];
        for (let i = 0; i < 40; i++) batch.push(random() < 0.1 && batch.length > 0 ? pick(batch) : random() < 0.1 ? pick(before) : make());
        const stores: AlertStore[] = [];
        const results: { out: Alert[]; all: Alert[]; queued: string[] }[] = [];
        for (const mode of ['batch', 'one by one'] as const) {
          const loc = await createLocation();
          try {
            const store = await loc.open();
            stores.push(store);
            const kept: string[] = [];
            for (const b of before) kept.push((await store.upsert(b, WINDOW, ['hook'])).id);
            const ids = [...new Set(kept)];
            await store.setStatus(ids[0]!, 'dismissed', 'sam', 'known');
            if (ids[1]) await store.setStatus(ids[1], 'in-progress', 'sam', 'looking');
            const out: Alert[] = [];
            if (mode === 'batch') out.push(...(await store.upsertMany(batch, WINDOW, ['hook'])));
            else for (const a of batch) out.push(await store.upsert(a, WINDOW, ['hook']));
            const all = (await store.list({}, undefined, 500)).items.map((a) => ({ ...a, history: a.history.map((h) => ({ ...h, at: '' })) }));
            const queued = (await store.claimOutbox(Date.now() + 1000, 500, 30_000)).map((q) => `${q.sink} ${q.alert.id} ${q.alert.count}`).sort();
            results.push({ out: out.map((a) => ({ ...a, history: a.history.map((h) => ({ ...h, at: '' })) })), all, queued });
            await store.close();
          } finally {
            await loc.cleanup();
          }
        }
        expect(results[0]!.all.length, `seed ${seed}`).toBeGreaterThan(3);
        expect(results[0]!.out, `seed ${seed}: what each upsert returned`).toEqual(results[1]!.out);
        expect(results[0]!.all, `seed ${seed}: what is stored`).toEqual(results[1]!.all);
        expect(results[0]!.queued, `seed ${seed}: what is queued for delivery`).toEqual(results[1]!.queued);
      }
    });

    it('counts a request once across replicas: an audit ID or review uid already claimed for a type is not recorded again', async () => {
      const { store, open } = await fresh();
      const other = await open(); // a second replica on the same store
      const audit = (auditID: string, extra: Partial<Alert> = {}) =>
        makeAlert({
          type: 'exec-into-pod',
          source: 'audit',
          auditIDs: [auditID],
          firstSeen: at(1),
          resource: { group: '', version: 'v1', kind: 'Pod', name: 'web' },
          ...extra,
        });
      // ResponseStarted on one replica, ResponseComplete of the same request on the other.
      await store.upsert(audit('req-1'), WINDOW);
      const second = await other.upsert(audit('req-1', { firstSeen: at(2) }), WINDOW);
      expect(second.count).toBe(1);
      expect((await store.summary({})).total).toBe(1);
      // Another request, or another alert type of the same request, counts.
      expect((await other.upsert(audit('req-2'), WINDOW)).count).toBe(2);
      await store.upsert(audit('req-1', { type: 'pentest-tool' }), WINDOW);
      expect((await store.summary({ type: ['pentest-tool'] })).total).toBe(1);
      // A forged, unauthenticated event cannot take a real request's claim first.
      await store.upsert(audit('req-3', { verified: false, resource: { group: '', version: 'v1', kind: 'Pod', name: 'forged' } }), WINDOW);
      await store.upsert(audit('req-3'), WINDOW);
      expect((await store.list({ type: ['exec-into-pod'] }, undefined, 10)).items.map((a) => [a.resource.name, a.count]).sort()).toEqual([
        ['forged', 1],
        ['web', 3],
      ]);
      // The same admission review (uid) twice, through two replicas.
      const review = () => makeAlert({ evidence: { uid: 'review-9' }, firstSeen: at(3) });
      const first = await store.upsert(review(), WINDOW);
      expect((await other.upsert({ ...review(), resource: first.resource }, WINDOW)).count).toBe(1);
      // An alert that stands for several requests (merged in a retry queue) counts only those not yet claimed.
      const merged = { ...audit('req-1', { firstSeen: at(3) }), auditIDs: ['req-1', 'req-9'], count: 2 };
      const after = await other.upsert(merged, WINDOW);
      expect(after.count).toBe(4);
      expect(after.auditIDs.filter((id) => id === 'req-1' || id === 'req-9').sort()).toEqual(['req-1', 'req-9']);
      // Their number is bounded too (the newest kept): a flood of forged audit IDs cannot grow them without end.
      await store.prune({ maxClaims: 1 });
      expect((await store.upsert(audit('req-2', { firstSeen: at(3) }), WINDOW)).count).toBe(5);
      expect((await store.upsert(audit('req-2', { firstSeen: at(3) }), WINDOW)).count).toBe(5);
      // Claims expire a day after they were made.
      expect(await store.prune({}, Date.now() + CLAIM_TTL_MS + 60_000)).toBe(0);
      expect((await store.upsert(audit('req-1', { firstSeen: at(4) }), WINDOW)).count).toBe(6);
    });

    it('merges an occurrence of an open alert within the window: counts, auditIDs, sourceIPs, lastSeen; the first message and evidence stay', async () => {
      const { store } = await fresh();
      const first = makeAlert({ firstSeen: at(0), auditIDs: ['a1', 'a2'], sourceIPs: ['10.0.0.1'], message: 'first', evidence: { n: 1 } });
      const second = makeAlert({
        resource: first.resource,
        firstSeen: at(9),
        count: 3,
        auditIDs: ['a2', 'a3'],
        sourceIPs: ['10.0.0.2'],
        message: 'second',
        evidence: { n: 2 },
      });
      expect(second.fingerprint).toBe(first.fingerprint);
      await store.upsert(first, WINDOW);
      const merged = await store.upsert(second, WINDOW);
      expect(merged).toMatchObject({
        id: first.id,
        count: 4,
        firstSeen: at(0),
        lastSeen: at(9),
        auditIDs: ['a1', 'a2', 'a3'],
        sourceIPs: ['10.0.0.1', '10.0.0.2'],
        message: 'first',
        evidence: { n: 1 },
        laterEvidence: [{ at: at(9), message: 'second', evidence: { n: 2 } }],
      });
      expect(await store.get(first.id)).toEqual(merged);
      expect(await store.get(second.id)).toBeUndefined();
      expect((await store.list({}, undefined, 50)).items).toHaveLength(1);
    });

    it('keeps the newer message when an older occurrence arrives late', async () => {
      const { store } = await fresh();
      const a = makeAlert({ firstSeen: at(5), message: 'newer' });
      await store.upsert(a, WINDOW);
      const merged = await store.upsert(makeAlert({ resource: a.resource, firstSeen: at(1), message: 'older' }), WINDOW);
      expect(merged).toMatchObject({ count: 2, firstSeen: at(1), lastSeen: at(5), message: 'newer' });
    });

    it('bounds auditIDs to the first ones while count keeps counting', async () => {
      const { store } = await fresh();
      const a = makeAlert({ auditIDs: Array.from({ length: 80 }, (_, i) => `x${i}`) });
      await store.upsert(a, WINDOW);
      const merged = await store.upsert(makeAlert({ resource: a.resource, count: 60, auditIDs: Array.from({ length: 60 }, (_, i) => `y${i}`) }), WINDOW);
      expect(merged.auditIDs).toHaveLength(MAX_AUDIT_IDS);
      expect(merged.auditIDs.slice(0, 2)).toEqual(['x0', 'x1']);
      expect(merged.count).toBe(61);
    });

    it('starts a new alert outside the window, for another fingerprint, and after resolve or dismiss', async () => {
      const { store } = await fresh();
      const a = makeAlert({ firstSeen: at(0) });
      await store.upsert(a, WINDOW);
      const late = await store.upsert(makeAlert({ resource: a.resource, firstSeen: at(11) }), WINDOW);
      expect(late.id).not.toBe(a.id);
      const other = await store.upsert(makeAlert({ resource: a.resource, firstSeen: at(11), user: { username: 'mallory', groups: [] } }), WINDOW);
      expect(other.id).not.toBe(late.id);

      await store.setStatus(late.id, 'resolved', 'carol', 'fixed');
      const afterResolve = await store.upsert(makeAlert({ resource: a.resource, firstSeen: at(12) }), WINDOW);
      expect(afterResolve.id).not.toBe(late.id);
      expect(afterResolve.count).toBe(1);

      await store.setStatus(afterResolve.id, 'in-progress', 'carol', '');
      const intoInProgress = await store.upsert(makeAlert({ resource: a.resource, firstSeen: at(13) }), WINDOW);
      expect(intoInProgress).toMatchObject({ id: afterResolve.id, count: 2, status: 'in-progress' });

      await store.setStatus(afterResolve.id, 'dismissed', 'carol', 'expected');
      const afterDismiss = await store.upsert(makeAlert({ resource: a.resource, firstSeen: at(14) }), WINDOW);
      expect(afterDismiss.id).not.toBe(afterResolve.id);
      expect((await store.list({}, undefined, 50)).items).toHaveLength(5);
    });

    it('applies the same alert delivered twice once', async () => {
      const { store } = await fresh();
      const a = makeAlert();
      await store.upsert(a, WINDOW);
      const again = await store.upsert(a, WINDOW);
      expect(again.count).toBe(1);
    });

    it('loses no occurrence under many concurrent upserts of one fingerprint', async () => {
      const { store } = await fresh();
      const resource = { group: '', version: 'v1', kind: 'Pod', name: 'hot' };
      const n = 60;
      await Promise.all(Array.from({ length: n }, (_, i) => store.upsert(makeAlert({ resource, firstSeen: at(i / 100), auditIDs: [`id-${i}`] }), WINDOW)));
      const { items } = await store.list({}, undefined, 500);
      expect(items).toHaveLength(1);
      expect(items[0]!.count).toBe(n);
      expect(items[0]!.auditIDs).toHaveLength(n);
    });

    it('loses no occurrence with two store instances writing at once', async () => {
      const { store, open } = await fresh();
      const other = await open();
      const resource = { group: '', version: 'v1', kind: 'Pod', name: 'shared' };
      const n = 40;
      await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? store : other).upsert(makeAlert({ resource, firstSeen: at(0), count: 2 }), WINDOW)));
      const { items } = await other.list({}, undefined, 500);
      expect(items).toHaveLength(1);
      expect(items[0]!.count).toBe(2 * n);
    });

    it('filters by severity, minSeverity, type, status, namespace, source and since', async () => {
      const { store } = await fresh();
      const specs = [
        { severity: 'high', type: 'privileged-container', namespace: 'prod', source: 'admission', firstSeen: at(0) },
        { severity: 'medium', type: 'exec-into-pod', namespace: 'prod', source: 'audit', firstSeen: at(30) },
        { severity: 'low', type: 'nodeport-service', namespace: 'dev', source: 'audit', firstSeen: at(60) },
        { severity: 'informational', type: 'exec-into-pod', namespace: 'dev', source: 'audit', firstSeen: at(90) },
      ] as const;
      const stored = [];
      for (const s of specs) stored.push(await store.upsert(makeAlert({ ...s }), WINDOW));
      await store.setStatus(stored[1]!.id, 'dismissed', 'carol', 'known');
      const names = async (filter: Parameters<AlertStore['list']>[0]) =>
        (await store.list(filter, undefined, 50)).items.map((a) => a.type + '/' + a.severity).sort();
      expect(await names({ severity: ['high', 'low'] })).toEqual(['nodeport-service/low', 'privileged-container/high']);
      expect(await names({ minSeverity: 'medium' })).toEqual(['exec-into-pod/medium', 'privileged-container/high']);
      expect(await names({ type: ['exec-into-pod'] })).toEqual(['exec-into-pod/informational', 'exec-into-pod/medium']);
      expect(await names({ status: ['dismissed'] })).toEqual(['exec-into-pod/medium']);
      expect(await names({ status: ['active', 'in-progress'], namespace: ['prod'] })).toEqual(['privileged-container/high']);
      expect(await names({ source: ['admission'] })).toEqual(['privileged-container/high']);
      expect(await names({ since: new Date(at(45)) })).toEqual(['exec-into-pod/informational', 'nodeport-service/low']);
      expect(await names({ since: new Date(at(45)), minSeverity: 'low', namespace: ['dev'] })).toEqual(['nodeport-service/low']);
      expect(await names({ namespace: ['nowhere'] })).toEqual([]);
    });

    it('pages through more alerts than a page holds: lastSeen descending then id, no duplicates, no gaps', async () => {
      const { store } = await fresh();
      const total = 130;
      for (let i = 0; i < total; i++) {
        // Groups of five share a lastSeen, so that the id tie-break matters.
        await store.upsert(makeAlert({ firstSeen: at(Math.floor(i / 5)) }), WINDOW);
      }
      const seen: { id: string; lastSeen: string }[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({}, cursor, 25);
        seen.push(...page.items.map((a) => ({ id: a.id, lastSeen: a.lastSeen })));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(6);
      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((s) => s.id)).size).toBe(total);
      const sorted = [...seen].sort((a, b) => (a.lastSeen === b.lastSeen ? (a.id < b.id ? -1 : 1) : a.lastSeen < b.lastSeen ? 1 : -1));
      expect(seen).toEqual(sorted);
      const exact = await store.list({}, undefined, total);
      expect(exact.items).toHaveLength(total);
      expect(exact.nextCursor).toBeUndefined();
    });

    describe('the console queries', () => {
      async function seeded(store: AlertStore) {
        const severities = ['low', 'high', 'medium', 'informational'] as const;
        for (let i = 0; i < 40; i++) {
          await store.upsert(
            makeAlert({
              type: i % 3 === 0 ? 'exec-into-pod' : 'privileged-container',
              severity: severities[i % 4]!,
              // Pairs share a lastSeen and firstSeen, so the tie-breaks matter.
              firstSeen: at(Math.floor(i / 2) * 10),
              lastSeen: at(Math.floor(i / 2) * 10 + (i % 7)),
              count: ((i * 7) % 11) + 1,
              namespace: i % 4 === 0 ? 'prod' : 'dev',
              user: { username: i % 2 ? 'alice' : 'Bob.Smith', groups: [] },
              sourceIPs: i % 5 === 0 ? ['10.0.0.9', '10.0.0.1'] : ['10.0.0.1'],
              message: i === 7 ? 'container "Miner_100%" runs xmrig' : 'nothing special',
            }),
            WINDOW,
          );
        }
      }

      const rank = { informational: 0, low: 1, medium: 2, high: 3 } as const;
      const cases = [
        { key: 'lastSeen', value: (a: Alert) => Date.parse(a.lastSeen) },
        { key: 'firstSeen', value: (a: Alert) => Date.parse(a.firstSeen) },
        { key: 'severity', value: (a: Alert) => rank[a.severity] },
        { key: 'count', value: (a: Alert) => a.count },
      ] as const;
      for (const { key, value } of cases) {
        for (const order of ['desc', 'asc'] as const) {
          it(`sorts by ${key} ${order}, then lastSeen, then id the other way, and pages without gaps or repeats`, async () => {
            const { store } = await fresh();
            await seeded(store);
            const sort = { key, order };
            const seen: Alert[] = [];
            let cursor: string | undefined;
            do {
              const page = await store.list({ namespace: ['dev', 'prod'] }, cursor, 7, sort);
              seen.push(...page.items);
              cursor = page.nextCursor;
            } while (cursor && seen.length < 100);
            expect(new Set(seen.map((a) => a.id)).size).toBe(40);
            expect(seen).toHaveLength(40);
            const sign = order === 'desc' ? -1 : 1;
            const expected = [...seen].sort(
              (a, b) =>
                sign * (value(a) - value(b)) || sign * (Date.parse(a.lastSeen) - Date.parse(b.lastSeen)) || -sign * (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
            );
            expect(seen.map((a) => a.id)).toEqual(expected.map((a) => a.id));
          });
        }
      }

      it('refuses a cursor made for another sort', async () => {
        const { store } = await fresh();
        await seeded(store);
        const page = await store.list({}, undefined, 5, { key: 'severity', order: 'desc' });
        await expect(store.list({}, page.nextCursor, 5)).rejects.toThrow(/made for sort=severity&order=desc/);
        const plain = await store.list({}, undefined, 5);
        await expect(store.list({}, plain.nextCursor, 5, { key: 'count', order: 'asc' })).rejects.toBeInstanceOf(InvalidCursorError);
      });

      it('searches type, title, message, names, user and source IPs case-insensitively, with LIKE wildcards taken literally', async () => {
        const { store } = await fresh();
        await seeded(store);
        const n = async (text: string) => (await store.summary({ text })).total;
        expect(await n('XMRIG')).toBe(1);
        expect(await n('miner_100%')).toBe(1);
        expect(await n('miner%100')).toBe(0);
        expect(await n('_')).toBe(0 + (await n('miner_'))); // "_" only where the text has one
        expect(await n('bob.smith')).toBe(20);
        expect(await n('10.0.0.9')).toBe(8);
        expect(await n('exec-into')).toBe(14);
        expect(await n('pod-')).toBe(40);
        const listed = await store.list({ text: 'xmrig', namespace: ['dev'] }, undefined, 10);
        expect(listed.items.map((a) => a.message)).toEqual(['container "Miner_100%" runs xmrig']);
      });

      it('filters by until (lastSeen before) and counts by severity and status', async () => {
        const { store } = await fresh();
        await seeded(store);
        const first = (await store.list({}, undefined, 1, { key: 'lastSeen', order: 'asc' })).items[0]!;
        await store.setStatus(first.id, 'dismissed', 'carol', 'noise');
        const before = await store.summary({ until: new Date(at(50)) });
        const all = await store.list({}, undefined, 100);
        expect(before.total).toBe(all.items.filter((a) => a.lastSeen < at(50)).length);
        const summary = await store.summary({});
        expect(summary.total).toBe(40);
        expect(summary.bySeverity).toEqual({ low: 10, high: 10, medium: 10, informational: 10 });
        expect(summary.byStatus).toEqual({ active: 39, dismissed: 1 });
        expect(await store.summary({ namespace: ['nowhere'] })).toEqual({ total: 0, bySeverity: {}, byStatus: {} });
      });

      it('tallies trends per UTC day by severity and the top types, users and source IPs', async () => {
        const { store } = await fresh();
        await seeded(store);
        const since = Date.parse('2024-12-30T00:00:00Z');
        const trends = await store.trends(since, since + 4 * 86_400_000, 2);
        expect(trends.days.map((d) => d.day)).toEqual(['2024-12-30', '2024-12-31', '2025-01-01', '2025-01-02']);
        expect(trends.days[2]!.bySeverity).toEqual({ low: 10, high: 10, medium: 10, informational: 10 });
        expect(trends.days[0]!.bySeverity).toEqual({});
        expect(trends.types).toEqual([
          { key: 'privileged-container', count: 26 },
          { key: 'exec-into-pod', count: 14 },
        ]);
        expect(trends.users).toEqual([
          { key: 'Bob.Smith', count: 20 },
          { key: 'alice', count: 20 },
        ]);
        expect(trends.sourceIPs).toEqual([
          { key: '10.0.0.1', count: 40 },
          { key: '10.0.0.9', count: 8 },
        ]);
        const none = await store.trends(since, since + 86_400_000, 5);
        expect(none).toEqual({ days: [{ day: '2024-12-30', bySeverity: {} }], types: [], users: [], sourceIPs: [] });
      });

      it('lists the types and namespaces in the store, most frequent first', async () => {
        const { store } = await fresh();
        expect(await store.facets()).toEqual({ types: [], namespaces: [], clusters: [] });
        await seeded(store);
        expect(await store.facets()).toEqual({ types: ['privileged-container', 'exec-into-pod'], namespaces: ['dev', 'prod'], clusters: [] });
      });

      it('keeps many clusters apart: the cluster is in the de-duplication key, a filter and a facet', async () => {
        const { store } = await fresh();
        const resource = { group: '', version: 'v1', kind: 'Pod', name: 'web' };
        const east = makeAlert({ cluster: 'prod-east', resource, firstSeen: at(0) });
        const west = makeAlert({ cluster: 'prod-west', resource, firstSeen: at(1) });
        const none = makeAlert({ resource, firstSeen: at(2) });
        expect(new Set([east.fingerprint, west.fingerprint, none.fingerprint]).size).toBe(3);
        for (const a of [east, west, none]) await store.upsert(a, WINDOW);
        await store.upsert(makeAlert({ cluster: 'prod-east', resource, firstSeen: at(3) }), WINDOW);
        expect((await store.get(east.id))!.count).toBe(2);
        expect((await store.list({ cluster: ['prod-west'] }, undefined, 10)).items.map((a) => a.id)).toEqual([west.id]);
        expect((await store.summary({ cluster: ['prod-east', ''] })).total).toBe(2);
        expect((await store.facets()).clusters).toEqual(['prod-east', 'prod-west']);
      });
    });

    it('rejects a cursor it did not make', async () => {
      const { store } = await fresh();
      await expect(store.list({}, 'not-a-cursor', 10)).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('changes status with a history entry, and refuses what the rules forbid', async () => {
      const { store } = await fresh();
      const a = await store.upsert(makeAlert(), WINDOW);
      const steps: [AlertStatus, string][] = [
        ['in-progress', 'triaging'],
        ['resolved', 'patched'],
        ['active', 'it came back'],
        ['dismissed', 'accepted risk'],
      ];
      for (const [to, reason] of steps) await store.setStatus(a.id, to, 'carol', reason);
      const final = (await store.get(a.id))!;
      expect(final.status).toBe('dismissed');
      expect(final.history.map((h) => [h.from, h.to, h.by, h.reason])).toEqual([
        ['active', 'in-progress', 'carol', 'triaging'],
        ['in-progress', 'resolved', 'carol', 'patched'],
        ['resolved', 'active', 'carol', 'it came back'],
        ['active', 'dismissed', 'carol', 'accepted risk'],
      ]);
      expect(Date.parse(final.history[0]!.at)).not.toBeNaN();
      await expect(store.setStatus(a.id, 'dismissed', 'carol', 'again')).rejects.toMatchObject({ conflict: true });
      await store.setStatus(a.id, 'active', 'carol', '');
      await expect(store.setStatus(a.id, 'dismissed', 'carol', '  ')).rejects.toBeInstanceOf(StatusChangeError);
      await expect(store.setStatus('missing', 'resolved', 'carol', '')).rejects.toBeInstanceOf(AlertNotFoundError);
    });

    it('prunes by the time the store wrote an alert, never by the event time inside it', async () => {
      const { store } = await fresh();
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        const t0 = Date.parse('2026-06-01T00:00:00Z');
        const ids: string[] = [];
        for (let i = 0; i < 10; i++) {
          vi.setSystemTime(t0 + i * 3_600_000); // stored hour by hour…
          ids.push((await store.upsert(makeAlert({ firstSeen: at(i) }), WINDOW)).id); // …from a year-old log
        }
        const now = t0 + 9 * 3_600_000;
        expect(await store.prune({ maxAgeMs: 5.5 * 3_600_000 }, now)).toBe(4);
        expect(await store.prune({ maxCount: 4 }, now)).toBe(2);
        const left = (await store.list({}, undefined, 50)).items.map((a) => a.id);
        expect(left).toEqual(ids.slice(6).reverse());
        expect(await store.prune({ maxAgeMs: 30 * 86_400_000, maxCount: 100 }, now)).toBe(0);
      } finally {
        vi.useRealTimers();
      }
    });

    it('a status change counts as a write: a dismissed alert and its history stay as long as the alert', async () => {
      const { store } = await fresh();
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        const t0 = Date.parse('2026-06-01T00:00:00Z');
        vi.setSystemTime(t0);
        const a = await store.upsert(makeAlert(), WINDOW);
        vi.setSystemTime(t0 + 20 * 86_400_000);
        await store.setStatus(a.id, 'dismissed', 'carol', 'expected: the CI runner');
        expect(await store.prune({ maxAgeMs: 30 * 86_400_000 }, t0 + 40 * 86_400_000)).toBe(0);
        expect((await store.get(a.id))!.history).toMatchObject([{ to: 'dismissed', reason: 'expected: the CI runner' }]);
        expect(await store.prune({ maxAgeMs: 30 * 86_400_000 }, t0 + 51 * 86_400_000)).toBe(1);
      } finally {
        vi.useRealTimers();
      }
    });

    it('retention by count never evicts a higher severity to keep a lower one', async () => {
      const { store } = await fresh();
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        let t = Date.parse('2026-06-01T00:00:00Z');
        const put = async (severity: 'high' | 'medium' | 'low', minute: number) => {
          vi.setSystemTime((t += 1000));
          return (await store.upsert(makeAlert({ severity, firstSeen: at(minute) }), WINDOW)).id;
        };
        const high = [await put('high', 0), await put('high', 1), await put('high', 2)];
        const low = [];
        for (let i = 0; i < 6; i++) low.push(await put('low', 10 + i));
        const medium = await put('medium', 20);
        expect(await store.prune({ maxCount: 5 }, t)).toBe(5);
        const left = new Set((await store.list({}, undefined, 50)).items.map((a) => a.id));
        expect([...high, medium].every((id) => left.has(id))).toBe(true);
        expect(low.filter((id) => left.has(id))).toEqual([low[5]]); // the low alert stored last
      } finally {
        vi.useRealTimers();
      }
    });

    it('a later occurrence never rewrites the first one; later evidence is appended, bounded', async () => {
      const { store } = await fresh();
      const first = makeAlert({ firstSeen: at(0), message: 'alice exec into etcd-0 ("sh")', evidence: { command: ['sh'] }, userAgent: 'kubectl/v1.30' });
      await store.upsert(first, WINDOW);
      for (let i = 1; i <= 12; i++) {
        await store.upsert(
          makeAlert({
            resource: first.resource,
            firstSeen: at(i / 10),
            message: `noise ${i}`,
            evidence: i === 12 ? { blob: 'x'.repeat(LATER_EVIDENCE_BYTES * 2) } : { i },
            userAgent: 'attacker/1.0',
          }),
          WINDOW,
        );
      }
      const stored = (await store.get(first.id))!;
      expect(stored).toMatchObject({ count: 13, message: first.message, evidence: { command: ['sh'] }, userAgent: 'kubectl/v1.30' });
      expect(stored.laterEvidence).toHaveLength(MAX_LATER_EVIDENCE);
      expect(stored.laterEvidence![0]).toMatchObject({ message: 'noise 3', evidence: { i: 3 }, userAgent: 'attacker/1.0' });
      const cut = stored.laterEvidence![MAX_LATER_EVIDENCE - 1]!.evidence;
      expect(Buffer.byteLength(JSON.stringify(cut))).toBeLessThanOrEqual(LATER_EVIDENCE_BYTES);
      expect(JSON.stringify(cut)).toContain('blob');
      expect(JSON.stringify(stored).length).toBeLessThan(20_000);
    });

    it('clamps event times from the future to receipt + 5 min and keeps the claimed ones', async () => {
      const { store } = await fresh();
      const claimed = new Date(Date.now() + 365 * 86_400_000).toISOString();
      const before = Date.now();
      const stored = await store.upsert(makeAlert({ firstSeen: claimed }), WINDOW);
      expect(Date.parse(stored.lastSeen)).toBeLessThanOrEqual(Date.now() + CLOCK_SKEW_MS);
      expect(Date.parse(stored.lastSeen)).toBeGreaterThanOrEqual(before + CLOCK_SKEW_MS);
      expect(stored.timeClamped).toEqual({ firstSeen: claimed, lastSeen: claimed });
      expect(await store.get(stored.id)).toEqual(stored);
      // A normal alert is the newest in the list after it: the forged one does not sit on top forever.
      const later = await store.upsert(makeAlert({ firstSeen: new Date(Date.now() + CLOCK_SKEW_MS + 60_000).toISOString() }), WINDOW);
      expect(later.timeClamped).toBeDefined();
    });

    describe('the notification outbox', () => {
      it('queues a delivery per sink with a new alert, in its transaction; a merged occurrence queues none', async () => {
        const { store } = await fresh();
        const resource = { group: '', version: 'v1', kind: 'Pod', name: 'web' };
        const first = makeAlert({ firstSeen: at(0), resource });
        await store.upsert(first, WINDOW, ['slack', 'siem', 'slack']);
        await store.upsert(makeAlert({ firstSeen: at(5), resource }), WINDOW, ['slack', 'siem']); // merges into first
        const claimed = await store.claimOutbox(Date.now(), 10, 30_000);
        expect(claimed.map((e) => [e.sink, e.alert.id, e.attempts]).sort()).toEqual([
          ['siem', first.id, 0],
          ['slack', first.id, 0],
        ]);
        expect(claimed[0]!.alert).toEqual(first);
        // Leased: not handed out again until the lease ends.
        expect(await store.claimOutbox(Date.now(), 10, 30_000)).toEqual([]);
        expect((await store.claimOutbox(Date.now() + 31_000, 10, 30_000)).length).toBe(2);
      });

      it('completes, fails with a bounded reason and a next attempt, expires old deliveries, counts per sink', async () => {
        const { store, open } = await fresh();
        const a = makeAlert();
        const b = makeAlert();
        await store.upsert(a, WINDOW, ['hook']);
        await store.upsert(b, WINDOW, ['hook', 'file']);
        const now = Date.now();
        const [x, y, z] = await store.claimOutbox(now, 10, 1000);
        await store.completeOutbox(x!.id);
        await store.failOutbox(y!.id, 'connection refused '.repeat(100), now + 5000);
        await store.failOutbox(z!.id, 'HTTP 500', now + 5000);
        expect(await store.claimOutbox(now + 4000, 10, 1000)).toEqual([]);
        const again = await (await open()).claimOutbox(now + 5000, 10, 1000);
        expect(again.map((e) => e.attempts)).toEqual([1, 1]);
        expect(again[0]!.lastError.length).toBeLessThanOrEqual(MAX_OUTBOX_ERROR);
        const stats = await store.outboxStats();
        expect(Object.values(stats).reduce((n, s) => n + s.pending, 0)).toBe(2);
        expect(Object.values(stats).every((s) => s.failing === 1)).toBe(true);
        expect(await store.expireOutbox(now + 60_000)).toEqual(Object.fromEntries(Object.keys(stats).map((k) => [k, 1])));
        expect(await store.outboxStats()).toEqual({});
      });

      it('keeps at most maxPerSink deliveries a sink: the oldest go first, other sinks alike', async () => {
        const { store } = await fresh();
        const alerts = Array.from({ length: 5 }, () => makeAlert());
        for (const a of alerts) await store.upsert(a, WINDOW, ['flooded', 'calm']);
        const now = Date.now();
        expect(await store.expireOutbox(now - 3_600_000, 5)).toEqual({});
        expect(await store.expireOutbox(now - 3_600_000, 2)).toEqual({ flooded: 3, calm: 3 });
        const left = await store.claimOutbox(now + 1000, 10, 1000);
        expect(left.map((e) => `${e.sink} ${e.alert.id}`).sort()).toEqual(
          [`calm ${alerts[3]!.id}`, `calm ${alerts[4]!.id}`, `flooded ${alerts[3]!.id}`, `flooded ${alerts[4]!.id}`].sort(),
        );
      });

      it('two claimers at once never get the same delivery', async () => {
        const { store, open } = await fresh();
        const other = await open();
        for (let i = 0; i < 20; i++) await store.upsert(makeAlert(), WINDOW, ['hook']);
        const now = Date.now();
        const [p, q] = await Promise.all([store.claimOutbox(now, 15, 60_000), other.claimOutbox(now, 15, 60_000)]);
        const ids = [...p, ...q].map((e) => e.id);
        expect(ids.length).toBe(20);
        expect(new Set(ids).size).toBe(20);
      });
    });

    describe('the service-account baseline', () => {
      const A = 'system:serviceaccount:shop:web';
      const B = 'system:serviceaccount:shop:batch';
      const strip = (es: { account: string; operation: string; firstSeenMs: number }[]) =>
        es
          .map((e) => ({ account: e.account, operation: e.operation, firstSeenMs: e.firstSeenMs }))
          .sort((x, y) => (x.account + x.operation < y.account + y.operation ? -1 : 1));

      it('keeps each fact once with its earliest time, across writers and batches', async () => {
        const { store, open } = await fresh();
        const other = await open();
        await store.recordBaseline([
          { account: A, operation: '', firstSeenMs: 2000 },
          { account: A, operation: 'get pods in shop', firstSeenMs: 2000 },
          // The same fact twice in one batch: one row, the earlier time.
          { account: A, operation: 'get pods in shop', firstSeenMs: 1500 },
        ]);
        await other.recordBaseline([
          { account: A, operation: '', firstSeenMs: 1000 },
          { account: A, operation: 'get pods in shop', firstSeenMs: 3000 },
          { account: B, operation: 'list secrets cluster-wide', firstSeenMs: 5000 },
        ]);
        const { entries, nowMs } = await store.loadBaseline(0, undefined, 100);
        expect(strip(entries)).toEqual([
          { account: B, operation: 'list secrets cluster-wide', firstSeenMs: 5000 },
          { account: A, operation: '', firstSeenMs: 1000 },
          { account: A, operation: 'get pods in shop', firstSeenMs: 1500 },
        ]);
        expect(Math.abs(nowMs - Date.now())).toBeLessThan(60_000);
        for (const e of entries) expect(e.storedMs).toBeLessThanOrEqual(nowMs);
      });

      it('reads in pages that neither skip nor repeat, and only what was written since', async () => {
        const { store } = await fresh();
        const facts = Array.from({ length: 25 }, (_, i) => ({ account: i % 2 ? A : B, operation: `get x${String(i).padStart(2, '0')}`, firstSeenMs: i }));
        await store.recordBaseline(facts);
        const seen: string[] = [];
        let after: { storedMs: number; account: string; operation: string } | undefined;
        for (;;) {
          const page = await store.loadBaseline(0, after, 7);
          seen.push(...page.entries.map((e) => e.account + ' ' + e.operation));
          if (page.entries.length < 7) break;
          const last = page.entries[page.entries.length - 1]!;
          after = { storedMs: last.storedMs!, account: last.account, operation: last.operation };
        }
        expect(seen.length).toBe(25);
        expect(new Set(seen).size).toBe(25);
        const { nowMs } = await store.loadBaseline(0, undefined, 1);
        expect((await store.loadBaseline(nowMs + 60_000, undefined, 100)).entries).toEqual([]);
      });

      it('ignores malformed and oversized facts', async () => {
        const { store } = await fresh();
        await store.recordBaseline([
          { account: A, operation: 'x'.repeat(600), firstSeenMs: 1 },
          { account: A, operation: 'ok', firstSeenMs: NaN },
          { account: 7, operation: 'ok', firstSeenMs: 1 } as never,
        ]);
        expect((await store.loadBaseline(0, undefined, 100)).entries).toEqual([]);
      });

      it('BaselineSync: a restart and a second replica start from what was learned', async () => {
        const { store, open } = await fresh();
        const log = { info: () => undefined, warn: () => undefined };
        const settings = { ...defaultAnomalySettings(), learningPeriodMs: 1000 };
        const first = new AnomalyBaseline(settings);
        const sync1 = new BaselineSync(first, store, log);
        await sync1.start();
        first.observe(A, 'get pods in shop', 'kubectl', 10, true);
        const replica = new AnomalyBaseline(settings);
        const sync2 = new BaselineSync(replica, await open(), log);
        await sync2.start();
        expect(replica.knows(A, 'get pods in shop')).toBeUndefined();
        await sync1.sync();
        await sync2.sync();
        expect(replica.knows(A, 'get pods in shop')).toBe(true);
        // The replica's own late, earlier event for A reaches the first through the store.
        replica.observe(A, 'watch pods in shop', undefined, 5, true);
        await sync2.close();
        await sync1.close();
        const restarted = new AnomalyBaseline(settings);
        await new BaselineSync(restarted, await open(), log).start();
        expect(restarted.operationsOf(A)).toEqual(['get pods in shop', 'using kubectl', 'watch pods in shop']);
        expect(restarted.summaries()[0]).toMatchObject({ account: A, learningSinceMs: 5 });
        expect(restarted.observe(A, 'list secrets cluster-wide', undefined, 2000, true)).toMatchObject({ state: 'judging', known: false });
      });
    });
  });
}
