// The Lease elector (background/lease.ts) against the API-server stand-in, on a clock the test
// moves: acquiring, renewing, waiting out a silent holder by this replica's own clock (a holder
// whose clock is off is not robbed while it renews), release on stop, conflicts, and an API server
// that cannot be reached or does not answer.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../background/kube.js';
import { LeaseElector, MAINTENANCE_LEASE_NAME, type LeaseElectorOptions } from '../../background/lease.js';
import { startApiServerStandIn, type StandIn } from '../support/apiserver.js';
import { createCA, createServingCert } from '../../certs/x509.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NS = 'bulwark-system';
const KEY = `coordination.k8s.io/v1|leases|${NS}|${MAINTENANCE_LEASE_NAME}`;

let api: StandIn;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  api = await startApiServerStandIn();
  dir = await mkdtemp(join(tmpdir(), 'bulwark-lease-'));
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, api.kubeconfig(), { mode: 0o600 });
});

afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

/** An elector on a clock of its own (`clock.ms`), ticked by the test. */
async function elector(identity: string, clock: { ms: number }, extra: Partial<LeaseElectorOptions> = {}) {
  const changes: boolean[] = [];
  const errors: string[] = [];
  const e = new LeaseElector({
    kc: await loadKubeConfig({ kubeconfig }),
    namespace: NS,
    name: MAINTENANCE_LEASE_NAME,
    identity,
    leaseDurationMs: 15_000,
    renewIntervalMs: 5_000,
    onChange: (l) => changes.push(l),
    onError: (err) => errors.push((err as Error).message),
    now: () => new Date(clock.ms),
    ...extra,
  });
  return { e, changes, errors, identity };
}

describe('LeaseElector', () => {
  it('acquires an absent Lease, renews it, and a second replica waits a full lease duration of silence before taking over', async () => {
    api.objects.delete(KEY);
    const clock = { ms: Date.parse('2026-12-04T10:00:00Z') };
    const a = await elector('replica-a', clock);
    const b = await elector('replica-b', clock);
    await a.e.tick();
    expect(a.e.isLeader).toBe(true);
    expect(api.objects.get(KEY)!.spec).toMatchObject({ holderIdentity: 'replica-a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    await b.e.tick();
    expect(b.e.isLeader).toBe(false);
    // a renews every 5 s: b sees the record change and never takes over, however long it runs.
    for (let i = 0; i < 6; i++) {
      clock.ms += 5_000;
      await a.e.tick();
      await b.e.tick();
      expect(a.e.isLeader).toBe(true);
      expect(b.e.isLeader).toBe(false);
    }
    // a dies (no release, no more renewals): b takes over only after 15 s without a change.
    clock.ms += 5_000;
    await b.e.tick();
    clock.ms += 5_000;
    await b.e.tick();
    expect(b.e.isLeader).toBe(false);
    clock.ms += 5_000;
    await b.e.tick();
    expect(b.e.isLeader).toBe(true);
    expect(api.objects.get(KEY)!.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
    expect(b.changes).toEqual([true]);
    // a comes back: it sees b holding and steps down at its next tick.
    await a.e.tick();
    expect(a.e.isLeader).toBe(false);
    expect(a.changes).toEqual([true, false]);
  });

  it('judges expiry by its own clock: a holder whose clock is an hour behind keeps the Lease while it renews', async () => {
    api.objects.delete(KEY);
    const good = { ms: Date.parse('2026-12-04T10:00:00Z') };
    const skewed = { ms: good.ms - 3_600_000 };
    const a = await elector('skewed', skewed);
    const b = await elector('on-time', good);
    await a.e.tick();
    expect(a.e.isLeader).toBe(true);
    for (let i = 0; i < 5; i++) {
      await b.e.tick();
      expect(b.e.isLeader).toBe(false);
      good.ms += 5_000;
      skewed.ms += 5_000;
      await a.e.tick();
    }
    expect(api.objects.get(KEY)!.spec.holderIdentity).toBe('skewed');
  });

  it('a replica that starts while another holds the Lease waits a lease duration, even if the renew time looks old', async () => {
    api.objects.delete(KEY);
    const clock = { ms: Date.parse('2026-12-04T10:00:00Z') };
    const a = await elector('old-holder', { ms: clock.ms - 600_000 });
    await a.e.tick(); // renewTime 10 minutes before b's clock
    const b = await elector('newcomer', clock);
    await b.e.tick();
    expect(b.e.isLeader).toBe(false);
    clock.ms += 15_000;
    await b.e.tick();
    expect(b.e.isLeader).toBe(true);
  });

  it('stop() releases the Lease: the next replica takes it at its next tick, without waiting', async () => {
    api.objects.delete(KEY);
    const clock = { ms: Date.parse('2026-12-04T10:00:00Z') };
    const a = await elector('leaving', clock);
    const b = await elector('staying', clock);
    await a.e.tick();
    await b.e.tick();
    expect(b.e.isLeader).toBe(false);
    await a.e.stop();
    expect(api.objects.get(KEY)!.spec.holderIdentity).toBe('');
    await b.e.tick();
    expect(b.e.isLeader).toBe(true);
  });

  it('a Lease someone wrote with odd fields (holder not a string, duration not a number) is read as free, and taken', async () => {
    api.objects.delete(KEY);
    const clock = { ms: Date.parse('2026-12-04T10:00:00Z') };
    const a = await elector('replica-a', clock);
    await a.e.tick();
    const lease = api.objects.get(KEY)!;
    lease.spec = { holderIdentity: 42, leaseDurationSeconds: 'forever', renewTime: { not: 'a time' }, leaseTransitions: 'many' };
    const b = await elector('replica-b', clock);
    await b.e.tick();
    expect(b.errors).toEqual([]);
    expect(b.e.isLeader).toBe(true);
    expect(api.objects.get(KEY)!.spec).toMatchObject({ holderIdentity: 'replica-b', leaseDurationSeconds: 15, leaseTransitions: 1 });
  });

  it('two replicas racing for an expired Lease: exactly one wins (the other gets 409)', async () => {
    api.objects.delete(KEY);
    const clock = { ms: Date.parse('2026-12-04T10:00:00Z') };
    const racers = await Promise.all(['r1', 'r2', 'r3'].map((id) => elector(id, clock)));
    await Promise.all(racers.map((r) => r.e.tick()));
    expect(racers.filter((r) => r.e.isLeader)).toHaveLength(1);
    expect(racers.flatMap((r) => r.errors)).toEqual([]);
    expect(racers.find((r) => r.e.isLeader)!.identity).toBe(api.objects.get(KEY)!.spec.holderIdentity);
  });

  it('an API server that refuses connections: not the leader, the error reported, unreachableForMs grows', async () => {
    const clock = { ms: Date.now() };
    const { e, errors } = await elector('lonely', clock);
    // Point it at a port where nothing listens.
    const kc = await loadKubeConfig({ kubeconfig });
    kc.clusters[0] = { ...kc.clusters[0]!, server: 'https://127.0.0.1:1' } as (typeof kc.clusters)[0];
    const lonely = new LeaseElector({
      kc,
      namespace: NS,
      name: MAINTENANCE_LEASE_NAME,
      identity: 'lonely',
      leaseDurationMs: 15_000,
      renewIntervalMs: 5_000,
      onChange: () => undefined,
      onError: (err) => errors.push((err as Error).message),
      now: () => new Date(clock.ms),
    });
    await lonely.tick();
    expect(lonely.isLeader).toBe(false);
    expect(errors.length).toBe(1);
    // Within the lease duration it does not act; past it (nobody can hold the Lease), it does.
    expect(lonely.leadsOrUnreachable()).toBe(false);
    clock.ms += 20_000;
    expect(lonely.unreachableForMs()).toBeGreaterThanOrEqual(20_000);
    expect(lonely.leadsOrUnreachable()).toBe(true);
    // The reachable one stays in contact: a follower that gets answers never acts on its own.
    await e.tick();
    expect(e.unreachableForMs()).toBe(0);
    expect(e.isLeader || !e.leadsOrUnreachable()).toBe(true);
  });

  it('an API server that accepts but never answers: a tick ends within about a renew period', async () => {
    const ca = createCA({ commonName: 'silent-ca' });
    const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const silent = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, () => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const kc = await loadKubeConfig({ kubeconfig });
      kc.clusters[0] = {
        ...kc.clusters[0]!,
        server: `https://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        caData: Buffer.from(ca.certPem).toString('base64'),
      } as (typeof kc.clusters)[0];
      const errors: string[] = [];
      const e = new LeaseElector({
        kc,
        namespace: NS,
        name: MAINTENANCE_LEASE_NAME,
        identity: 'patient',
        leaseDurationMs: 3_000,
        renewIntervalMs: 1_000,
        onChange: () => undefined,
        onError: (err) => errors.push((err as Error).message),
      });
      const started = Date.now();
      await e.tick();
      expect(Date.now() - started).toBeLessThan(2_900);
      expect(e.isLeader).toBe(false);
      expect(errors).toHaveLength(1);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
