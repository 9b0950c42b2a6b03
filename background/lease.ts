// One writer among replicas: a coordination.k8s.io/v1 Lease, acquired when absent or expired,
// renewed every renewInterval, taken over by another replica once leaseDuration passed without a
// renewal. Optimistic concurrency (resourceVersion on PUT) settles races: a 409 means someone
// else won.
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeErrorOf, kubeRequest } from './kube.js';

export const LEASE_NAME = 'bulwark-background-scan';

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

  constructor(private readonly opts: LeaseElectorOptions) {}

  get isLeader(): boolean {
    return this.leader;
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

  private path(withName: boolean): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/leases`;
    return withName ? `${base}/${encodeURIComponent(this.opts.name)}` : base;
  }

  private setLeader(value: boolean): void {
    if (value === this.leader) return;
    this.leader = value;
    this.opts.onChange(value);
  }

  /** One acquire-or-renew attempt. */
  async tick(): Promise<void> {
    const now = (this.opts.now ?? (() => new Date()))();
    const durationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    try {
      const current = await kubeRequest(this.opts.kc, 'GET', this.path(true));
      if (current.status === 404) {
        const res = await kubeRequest(this.opts.kc, 'POST', this.path(false), {
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
        if (res.status === 409) return this.setLeader(false);
        if (res.status !== 201 && res.status !== 200) throw kubeErrorOf('POST', this.path(false), res.status, res.body);
        return this.setLeader(true);
      }
      if (current.status !== 200) throw kubeErrorOf('GET', this.path(true), current.status, current.body);
      const lease = current.body;
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity;
      const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
      const expired = !holder || !Number.isFinite(renewed) || renewed + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 < now.getTime();
      if (holder !== this.opts.identity && !expired) return this.setLeader(false);
      const takeover = holder !== this.opts.identity;
      const body = {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: this.opts.identity,
          leaseDurationSeconds: durationSeconds,
          renewTime: microTime(now),
          ...(takeover ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
        },
      };
      const res = await kubeRequest(this.opts.kc, 'PUT', this.path(true), body);
      if (res.status === 409) return this.setLeader(false);
      if (res.status !== 200) throw kubeErrorOf('PUT', this.path(true), res.status, res.body);
      this.setLeader(true);
    } catch (err) {
      // Unable to renew: stop writing (another replica may take over once the lease expires).
      this.setLeader(false);
      this.opts.onError(err);
    }
  }

  /** Stops renewing and releases the Lease if held, so a successor does not wait for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (!this.leader) return;
    this.leader = false;
    try {
      const current = await kubeRequest(this.opts.kc, 'GET', this.path(true));
      if (current.status === 200 && current.body?.spec?.holderIdentity === this.opts.identity) {
        await kubeRequest(this.opts.kc, 'PUT', this.path(true), { ...current.body, spec: { ...current.body.spec, holderIdentity: '', renewTime: null } });
      }
    } catch {
      // best effort: the lease expires anyway
    }
  }
}
