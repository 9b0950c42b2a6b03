// The service-account baseline behind serviceaccount-rare-operation and serviceaccount-token-misuse.
//
// Per service account, the set of operations (verb, group/resource/subresource, namespace or
// cluster-wide; a non-resource path) it performed successfully during its learning window: from the
// first event of the account seen (event time) for `anomaly.learningPeriod` (7 days). After the
// window, an operation outside the set is "rare". The set also holds the human clients the
// account's token was used from (`using kubectl`), for token misuse.
//
// Bounded state: at most `maxOperationsPerAccount` operations an account (an account that reaches it
// is "saturated": too broad to judge, and said so in `bulwark anomaly status`), at most
// `maxAccounts` accounts (later ones are not tracked and counted). Operation names are interned
// once and an account holds a sorted Uint32Array of their numbers, so 10,000 accounts of a few
// hundred operations each stay within a few tens of MB (bench/anomaly.ts).
//
// Only what the account did itself is learned: an impersonated request (someone acting as the
// account) is judged but never widens the baseline. Every newly learned fact is kept in a
// bounded queue that BaselineSync writes to the alert store, so a restart (or another replica)
// starts from what was learned instead of learning again.
import { ACCOUNT_MARKER, type BaselineCursor, type BaselineEntry, type BaselineStore } from '../alerts/store.js';
import { parseSection, type BulwarkConfig } from '../config/load.js';
import { PeriodicTask } from '../core/periodic.js';
import { pathOf } from './event.js';

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';
/** AnomalyBaseline.peek's answer for a request that would teach the baseline something. */
export const CHANGES: unique symbol = Symbol('changes the baseline');
export const DEFAULT_LEARNING_PERIOD_MS = 7 * 86_400_000;
export const DEFAULT_MAX_OPERATIONS_PER_ACCOUNT = 500;
export const DEFAULT_MAX_ACCOUNTS = 50_000;
export const DEFAULT_SYNC_INTERVAL_MS = 30_000;
/**
 * Distinct operation names kept at most, over all accounts (~100 MB at their longest). Beyond it a
 * new operation is not learned — it will alert later rather than be silently trusted — and counted.
 */
export const MAX_OPERATION_NAMES = 1_000_000;
/** Facts waiting to be written to the store; beyond this (a store down for long) the oldest are not persisted. */
export const MAX_PENDING_FACTS = 100_000;
const AGENT_PREFIX = 'using ';

export { ACCOUNT_MARKER, type BaselineEntry, type BaselineStore };

export interface AnomalySettings {
  learningPeriodMs: number;
  maxOperationsPerAccount: number;
  maxAccounts: number;
  /** How often `serve` writes what was learned to the store and reads what other replicas learned. */
  syncIntervalMs: number;
}

export function defaultAnomalySettings(): AnomalySettings {
  return {
    learningPeriodMs: DEFAULT_LEARNING_PERIOD_MS,
    maxOperationsPerAccount: DEFAULT_MAX_OPERATIONS_PER_ACCOUNT,
    maxAccounts: DEFAULT_MAX_ACCOUNTS,
    syncIntervalMs: DEFAULT_SYNC_INTERVAL_MS,
  };
}

export type AccountState = 'learning' | 'judging' | 'saturated' | 'untracked';

/** What one request of a service account meant to its baseline. */
export interface Observation {
  account: string;
  operation: string;
  state: AccountState;
  /** Whether the baseline held the operation before this request. */
  known: boolean;
  /** The human client (an entry of lists.humanClientUserAgents) the user agent names, if any. */
  agent?: string;
  /** Whether the baseline held that client before this request. */
  agentKnown?: boolean;
  /** When the learning window ends (ms, event time); NaN when untracked. */
  learningEndsMs: number;
  /** Operations learned so far. */
  learned: number;
}

interface Account {
  start: number;
  ops: Uint32Array;
  size: number;
}

export interface AccountSummary {
  account: string;
  learningSinceMs: number;
  learningEndsMs: number;
  operations: number;
  saturated: boolean;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max) + '…';
}

/** The `anomaly:` section with its defaults; `source` names the file in errors (a section built by hand is validated here). */
export function anomalySettingsOf(config: Pick<BulwarkConfig, 'anomaly'>, source?: string): AnomalySettings {
  const d = defaultAnomalySettings();
  const a = parseSection('anomaly', config.anomaly ?? {}, source);
  return {
    learningPeriodMs: a.learningPeriod ?? d.learningPeriodMs,
    maxOperationsPerAccount: a.maxOperationsPerAccount ?? d.maxOperationsPerAccount,
    maxAccounts: a.maxAccounts ?? d.maxAccounts,
    syncIntervalMs: a.syncInterval ?? d.syncIntervalMs,
  };
}

/** `system:serviceaccount:<namespace>:<name>` — exactly that shape, else undefined. */
export function isServiceAccountName(username: string): boolean {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return false;
  const from = SERVICE_ACCOUNT_PREFIX.length;
  const colon = username.indexOf(':', from);
  return colon > from && colon < username.length - 1 && username.indexOf(':', colon + 1) < 0;
}

/** The ServiceAccount a `system:serviceaccount:<namespace>:<name>` user is, as an alert's resource and namespace. */
export function serviceAccountRef(username: string): { namespace: string; resource: { group: string; version: string; kind: string; name: string } } {
  const [namespace = '', name = ''] = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  return { namespace, resource: { group: '', version: 'v1', kind: 'ServiceAccount', name } };
}

/**
 * The operation a request performs, as the baseline names it: `list secrets cluster-wide`,
 * `create apps/deployments in shop`, `get pods/log in shop`, `get /version` (non-resource
 * URLs: the first two path segments, so that a query or an object path cannot make new ones).
 * Object names are not part of it. Every part is bounded.
 */
export function operationOf(f: {
  verb: string;
  resource: string;
  subresource: string;
  apiGroup: string;
  namespace: string;
  requestURI: string;
}): string | undefined {
  const verb = clip(f.verb, 32);
  if (verb === '' || /\s/.test(verb)) return undefined;
  if (f.resource !== '') {
    const what = (f.apiGroup ? clip(f.apiGroup, 128) + '/' : '') + clip(f.resource, 64) + (f.subresource ? '/' + clip(f.subresource, 64) : '');
    return `${verb} ${what} ${f.namespace ? 'in ' + clip(f.namespace, 64) : 'cluster-wide'}`;
  }
  const path = pathOf(f.requestURI);
  if (!path.startsWith('/')) return undefined;
  const segments = path.split('/').filter((s) => s !== '');
  return `${verb} /${segments
    .slice(0, 2)
    .map((s) => clip(s, 64))
    .join('/')}`;
}

/**
 * The human client a user agent names: its product token (before the first `/` or space),
 * lower-cased, starting with an entry of the list (`kubectl` also matches `kubectl.exe`).
 */
export function humanClientOf(userAgent: string, clients: readonly string[]): string | undefined {
  if (userAgent === '' || clients.length === 0) return undefined;
  const end = userAgent.search(/[/\s]/);
  const product = (end < 0 ? userAgent : userAgent.slice(0, end)).toLowerCase();
  if (product === '') return undefined;
  for (const c of clients) if (c !== '' && product.startsWith(c.toLowerCase())) return c.toLowerCase();
  return undefined;
}

/** The baseline's name for "the token was used from this client". */
export function agentOperation(agent: string): string {
  return AGENT_PREFIX + clip(agent, 64);
}

export class AnomalyBaseline {
  private readonly accounts = new Map<string, Account>();
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private pending: BaselineEntry[] = [];
  /** Requests of accounts not tracked because maxAccounts was reached. */
  untracked = 0;
  /** Learned facts not persisted because the queue was full. */
  unpersisted = 0;
  /** Operations not learned because MAX_OPERATION_NAMES distinct names were kept already. */
  unlearned = 0;

  constructor(
    readonly settings: AnomalySettings,
    /** MAX_OPERATION_NAMES, lower in tests. */
    private readonly maxNames = MAX_OPERATION_NAMES,
  ) {}

  get accountCount(): number {
    return this.accounts.size;
  }

  /**
   * One successful request of `account` at event time `t`: whether the baseline knew it, and, when
   * `learn` and within the account's window, learns it. `agent` is the human client of its user agent.
   */
  observe(account: string, operation: string, agent: string | undefined, t: number, learn: boolean): Observation | undefined {
    return this.see(account, operation, agent, t, learn, true) as Observation | undefined;
  }

  /**
   * What `observe` would answer, when it would change nothing (no account, start, operation or
   * counter learned); CHANGES when it would. For a reader deciding whether a request needs its
   * event at all (AuditAnalyser.skipLine): a request that teaches the baseline is analysed.
   */
  peek(account: string, operation: string, agent: string | undefined, t: number, learn: boolean): Observation | undefined | typeof CHANGES {
    return this.see(account, operation, agent, t, learn, false);
  }

  private see(
    account: string,
    operation: string,
    agent: string | undefined,
    t: number,
    learn: boolean,
    commit: boolean,
  ): Observation | undefined | typeof CHANGES {
    if (!Number.isFinite(t)) return undefined;
    let acc = this.accounts.get(account);
    if (acc === undefined) {
      if (!learn || this.accounts.size >= this.settings.maxAccounts) {
        if (learn) {
          if (!commit) return CHANGES;
          this.untracked++;
        }
        return {
          account,
          operation,
          state: 'untracked',
          known: false,
          agent,
          agentKnown: agent === undefined ? undefined : false,
          learningEndsMs: NaN,
          learned: 0,
        };
      }
      if (!commit) return CHANGES;
      acc = { start: t, ops: new Uint32Array(8), size: 0 };
      this.accounts.set(account, acc);
      this.queue({ account, operation: ACCOUNT_MARKER, firstSeenMs: t });
    } else if (learn && t < acc.start) {
      // An earlier event arriving late (a back-filled log): the window starts with it.
      if (!commit) return CHANGES;
      acc.start = t;
      this.queue({ account, operation: ACCOUNT_MARKER, firstSeenMs: t });
    }
    const ends = acc.start + this.settings.learningPeriodMs;
    const saturated = acc.size >= this.settings.maxOperationsPerAccount;
    const agentOp = agent !== undefined ? agentOperation(agent) : undefined;
    const known = this.has(acc, operation);
    const agentKnown = agentOp !== undefined ? this.has(acc, agentOp) : undefined;
    const learning = t < ends;
    if (learning && learn) {
      if (!commit && (!known || (agentOp !== undefined && !agentKnown))) return CHANGES;
      if (!known) this.learn(account, acc, operation, t);
      if (agentOp !== undefined && !agentKnown) this.learn(account, acc, agentOp, t);
    }
    // One shape for every observation (no spread): one is made per service-account request.
    return {
      account,
      operation,
      state: saturated ? 'saturated' : learning ? 'learning' : 'judging',
      known,
      agent,
      agentKnown: agent === undefined ? undefined : agentKnown === true,
      learningEndsMs: ends,
      learned: acc.size,
    };
  }

  /** Whether `account`'s baseline holds `operation`; undefined for an account not tracked. */
  knows(account: string, operation: string): boolean | undefined {
    const acc = this.accounts.get(account);
    return acc === undefined ? undefined : this.has(acc, operation);
  }

  /** Facts another process learned (read from the store): merged, never queued again. */
  merge(entries: readonly BaselineEntry[]): void {
    for (const e of entries) {
      if (typeof e.account !== 'string' || typeof e.operation !== 'string' || !Number.isFinite(e.firstSeenMs)) continue;
      let acc = this.accounts.get(e.account);
      if (acc === undefined) {
        if (this.accounts.size >= this.settings.maxAccounts) continue;
        acc = { start: e.firstSeenMs, ops: new Uint32Array(8), size: 0 };
        this.accounts.set(e.account, acc);
      } else if (e.firstSeenMs < acc.start) acc.start = e.firstSeenMs;
      if (e.operation === ACCOUNT_MARKER || acc.size >= this.settings.maxOperationsPerAccount) continue;
      const id = this.intern(e.operation);
      if (id >= 0) this.insert(acc, id);
    }
  }

  /** The facts learned since the last call, to write to the store (put back with `requeue` when that fails). */
  takePending(): BaselineEntry[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  requeue(entries: readonly BaselineEntry[]): void {
    this.pending = [...entries, ...this.pending];
    if (this.pending.length > MAX_PENDING_FACTS) {
      this.unpersisted += this.pending.length - MAX_PENDING_FACTS;
      this.pending = this.pending.slice(this.pending.length - MAX_PENDING_FACTS);
    }
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  summaries(): AccountSummary[] {
    const out: AccountSummary[] = [];
    for (const [account, acc] of this.accounts) {
      out.push({
        account,
        learningSinceMs: acc.start,
        learningEndsMs: acc.start + this.settings.learningPeriodMs,
        operations: acc.size,
        saturated: acc.size >= this.settings.maxOperationsPerAccount,
      });
    }
    return out.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  }

  /** The operations `account` learned, sorted; undefined for an account not tracked. */
  operationsOf(account: string): string[] | undefined {
    const acc = this.accounts.get(account);
    if (acc === undefined) return undefined;
    const out: string[] = [];
    for (let i = 0; i < acc.size; i++) out.push(this.names[acc.ops[i]!]!);
    return out.sort();
  }

  private learn(account: string, acc: Account, operation: string, t: number): void {
    if (acc.size >= this.settings.maxOperationsPerAccount) return;
    const id = this.intern(operation);
    if (id < 0) return;
    this.insert(acc, id);
    this.queue({ account, operation, firstSeenMs: t });
  }

  private queue(entry: BaselineEntry): void {
    if (this.pending.length >= MAX_PENDING_FACTS) {
      this.pending.shift();
      this.unpersisted++;
    }
    this.pending.push(entry);
  }

  /** The number of an operation name, or -1 when MAX_OPERATION_NAMES are kept already. */
  private intern(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      if (this.names.length >= this.maxNames) {
        this.unlearned++;
        return -1;
      }
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  private has(acc: Account, operation: string): boolean {
    const id = this.ids.get(operation);
    return id !== undefined && search(acc.ops, acc.size, id) >= 0;
  }

  private insert(acc: Account, id: number): void {
    const at = search(acc.ops, acc.size, id);
    if (at >= 0) return;
    const pos = -at - 1;
    if (acc.size === acc.ops.length) {
      const grown = new Uint32Array(Math.min(acc.ops.length * 2, Math.max(8, this.settings.maxOperationsPerAccount)));
      grown.set(acc.ops);
      acc.ops = grown;
    }
    acc.ops.copyWithin(pos + 1, pos, acc.size);
    acc.ops[pos] = id;
    acc.size++;
  }
}

/** Binary search in the first `size` entries: the index, or -(insertion point) - 1. */
function search(a: Uint32Array, size: number, id: number): number {
  let lo = 0;
  let hi = size - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid]!;
    if (v < id) lo = mid + 1;
    else if (v > id) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

export interface SyncLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Facts a store page holds; a full load reads the baseline in pages of this many. */
const PAGE = 10_000;
/** Re-read what the store wrote this long before the last read: a write in flight then is not missed. */
const OVERLAP_MS = 60_000;

/**
 * Keeps a baseline and the store in step (`serve`): loads everything at start, then every
 * `syncIntervalMs` writes what was learned and reads what other replicas learned.
 */
export class BaselineSync {
  private since = 0;
  private readonly task: PeriodicTask;

  constructor(
    private readonly baseline: AnomalyBaseline,
    private readonly store: BaselineStore,
    private readonly log: SyncLogger,
  ) {
    this.task = new PeriodicTask(
      baseline.settings.syncIntervalMs,
      async () => {
        await this.push();
        await this.pull();
      },
      (err) => this.log.warn({ error: err.message, pending: this.baseline.pendingCount }, 'service-account baseline sync failed; will try again'),
    );
  }

  /** Reads the whole stored baseline; then syncs on a timer. */
  async start(): Promise<void> {
    await this.pull();
    this.log.info({ accounts: this.baseline.accountCount }, 'service-account baseline loaded');
    this.task.start();
  }

  /** One round: write what was learned, read what others learned. Never throws (a failure is logged and retried). */
  sync(): Promise<void> {
    return this.task.run();
  }

  async close(): Promise<void> {
    await this.task.stop();
    try {
      await this.push();
    } catch (err) {
      this.log.warn({ error: (err as Error).message, pending: this.baseline.pendingCount }, 'could not write the last of the service-account baseline');
    }
  }

  private async push(): Promise<void> {
    const entries = this.baseline.takePending();
    if (entries.length === 0) return;
    try {
      for (let i = 0; i < entries.length; i += PAGE) await this.store.recordBaseline(entries.slice(i, i + PAGE));
    } catch (err) {
      this.baseline.requeue(entries);
      throw err;
    }
  }

  private async pull(): Promise<void> {
    const now = await readBaseline(this.baseline, this.store, this.since);
    this.since = Math.max(0, now - OVERLAP_MS);
  }
}

/**
 * Merges into `baseline` every fact the store wrote at or after `sinceMs` (0: all), page by page;
 * resolves to the store's clock when the read began.
 */
export async function readBaseline(baseline: AnomalyBaseline, store: BaselineStore, sinceMs = 0): Promise<number> {
  let after: BaselineCursor | undefined;
  let now: number | undefined;
  for (;;) {
    const page = await store.loadBaseline(sinceMs, after, PAGE);
    now ??= page.nowMs;
    baseline.merge(page.entries);
    if (page.entries.length < PAGE) return now;
    const last = page.entries[page.entries.length - 1]!;
    after = { storedMs: last.storedMs ?? 0, account: last.account, operation: last.operation };
  }
}
