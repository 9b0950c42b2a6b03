// One owner among replicas: a coordination.k8s.io/v1 Lease, acquired when absent, released or
// expired, renewed every renewInterval, taken over by another replica once leaseDuration passed
// without a renewal. Optimistic concurrency (resourceVersion on PUT) settles races: a 409 means
// someone else won.
//
// Expiry is judged as client-go's leader election judges it: by when THIS replica last saw the
// Lease record change (its own clock), not by the holder's renewTime — two nodes' clocks need not
// agree. A replica that starts and finds a Lease held therefore waits a full leaseDuration of
// silence before taking over. With the defaults (15 s, renewed every 5 s) a holder that dies is
// replaced within 15 s + two renew periods, under 30 s; one that stops cleanly releases the Lease
// and is replaced at the next renew period.
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeErrorOf, kubeRequest } from './kube.js';

export const LEASE_NAME = 'bulwark-background-scan';
/** The Lease of the store's maintenance jobs (retention, notification delivery) on a shared store. */
export const MAINTENANCE_LEASE_NAME = 'bulwark-maintenance';
export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_INTERVAL_MS = 5_000;

export interface LeaseElectorOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewIntervalMs: number;
  onChange: (leader: boolean) => void;
  onError: (err: unknown) => void;
  now?: () => Date;
}

/** MicroTime as the API server writes it: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaseElector {
  private leader = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  /** The Lease record last seen (holder and renew time) and when, by this replica's clock. */
  private observed: { record: string; atMs: number } | undefined;
  /** When the API server last answered a tick (any answer but an error), by this replica's clock. */
  private lastContactMs: number | undefined;
  private readonly startedMs: number;

  constructor(private readonly opts: LeaseElectorOptions) {
    this.startedMs = this.nowMs();
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * How long since the API server last answered about the Lease (an error answer such as 403
   * does not count), in ms: at most about one renew period while ticks get answers. A caller whose job has a safety net of its own (a database
   * lock) may run it on every replica after this passes leaseDuration, rather than on none.
   */
  unreachableForMs(): number {
    return this.nowMs() - (this.lastContactMs ?? this.startedMs);
  }

  get leaseDurationMs(): number {
    return this.opts.leaseDurationMs;
  }

  /**
   * For a job with a safety net of its own (a database lock, claimed rows): run it here when this
   * replica holds the Lease, or when the Lease could not be read for longer than it lasts (no API
   * server, no RBAC) — then on every replica, rather than on none.
   */
  leadsOrUnreachable(): boolean {
    return this.leader || this.unreachableForMs() > this.opts.leaseDurationMs;
  }

  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        this.timer = setTimeout(loop, this.opts.renewIntervalMs);
        this.timer.unref();
      });
    };
    loop();
  }

  private clock(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }

  private nowMs(): number {
    return this.clock().getTime();
  }

  private path(withName: boolean): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/leases`;
    return withName ? `${base}/${encodeURIComponent(this.opts.name)}` : base;
  }

  private setLeader(value: boolean): void {
    if (value === this.leader) return;
    this.leader = value;
    this.opts.onChange(value);
  }

  /** A request of one tick: bounded by the renew period, so a hung API server cannot stall the loop past the Lease. */
  private request(method: string, path: string, body?: unknown) {
    return kubeRequest(this.opts.kc, method, path, body, Math.max(1000, this.opts.renewIntervalMs));
  }

  /** One acquire-or-renew attempt. */
  async tick(): Promise<void> {
    const now = this.clock();
    const durationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    try {
      const current = await this.request('GET', this.path(true));
      if (current.status === 404) {
        const res = await this.request('POST', this.path(false), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: {
            holderIdentity: this.opts.identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        if (res.status === 409) return this.contact(false);
        if (res.status !== 201 && res.status !== 200) throw kubeErrorOf('POST', this.path(false), res.status, res.body);
        return this.contact(true);
      }
      if (current.status !== 200) throw kubeErrorOf('GET', this.path(true), current.status, current.body);
      const lease = current.body;
      const spec = lease.spec ?? {};
      const holder = typeof spec.holderIdentity === 'string' ? spec.holderIdentity : '';
      const record = `${holder}\0${String(spec.renewTime ?? spec.acquireTime ?? '')}`;
      if (this.observed?.record !== record) this.observed = { record, atMs: now.getTime() };
      const durationMs = (typeof spec.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : durationSeconds) * 1000;
      const expired = holder === '' || this.observed.atMs + durationMs <= now.getTime();
      if (holder !== this.opts.identity && !expired) return this.contact(false);
      const takeover = holder !== this.opts.identity;
      const body = {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: this.opts.identity,
          leaseDurationSeconds: durationSeconds,
          renewTime: microTime(now),
          ...(takeover ? { acquireTime: microTime(now), leaseTransitions: (Number.isSafeInteger(spec.leaseTransitions) ? spec.leaseTransitions : 0) + 1 } : {}),
        },
      };
      const res = await this.request('PUT', this.path(true), body);
      if (res.status === 409) return this.contact(false);
      if (res.status !== 200) throw kubeErrorOf('PUT', this.path(true), res.status, res.body);
      this.contact(true);
    } catch (err) {
      // Unable to renew: stop acting as the owner (another replica may take over once the Lease expires).
      this.setLeader(false);
      this.opts.onError(err);
    }
  }

  private contact(leader: boolean): void {
    this.lastContactMs = this.nowMs();
    this.setLeader(leader);
  }

  /** Stops renewing and releases the Lease if held, so a successor does not wait for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (!this.leader) return;
    this.leader = false;
    try {
      const current = await this.request('GET', this.path(true));
      if (current.status === 200 && current.body?.spec?.holderIdentity === this.opts.identity) {
        await this.request('PUT', this.path(true), { ...current.body, spec: { ...current.body.spec, holderIdentity: '', renewTime: null } });
      }
    } catch {
      // best effort: the lease expires anyway
    }
  }
}
