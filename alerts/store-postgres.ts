// The shared store: PostgreSQL (pg Pool), for several webhook replicas writing one set of alerts.
//
// Concurrency: an upsert runs in a transaction that first takes a transaction-scoped advisory
// lock on the alert's fingerprint. SELECT … FOR UPDATE alone cannot serialise two replicas that
// both find no open alert (there is no row to lock yet) and would both insert; the advisory lock
// covers that case too, and only writers of the same fingerprint wait for each other.
// Schema creation on start is idempotent and serialised the same way (CREATE … IF NOT EXISTS is
// not safe against itself when several replicas start at once).
import pg from 'pg';
import type { Alert, AlertStatus } from './model.js';
import {
  AlertNotFoundError,
  applyStatusChange,
  claimKeysOf,
  withoutClaimed,
  targetsOf,
  type NotifyTargets,
  CLAIM_TTL_MS,
  MAX_CLAIMS,
  MAX_FACETS,
  summaryOf,
  trendDays,
  type AlertFacets,
  type AlertSummary,
  type AlertTrends,
  mergeAlerts,
  mergeHorizon,
  OPEN_STATUSES,
  normaliseAlert,
  SEVERITY_RANK,
  severitiesAtOrAbove,
  type AlertFilter,
  type AlertPage,
  baselineRows,
  type AlertStore,
  type BaselineCursor,
  type BaselineEntry,
  type OutboxEntry,
  MAX_OUTBOX_ERROR,
  type OpenStoreOptions,
  type Retention,
} from './store.js';
import { redactUrl } from '../config/store-url.js';
import { cursorAfter, decodeCursor, DEFAULT_SORT, keysetAfter, likePattern, orderBy, searchTextOf, type AlertSort, type SortKey } from './query.js';

/** An alert's cluster lives in `extra` (it has no column of its own). */
const CLUSTER = `COALESCE(extra->>'cluster', '')`;

const SORT_COLUMNS: Record<SortKey, string> = { lastSeen: 'last_seen', firstSeen: 'first_seen', severity: 'severity_rank', count: 'count' };

/** First key of Bulwark's advisory locks ("BULW"), so that they do not collide with other applications'. */
const LOCK_CLASS = 0x42554c57;
const SCHEMA_LOCK = 0;
/** Retention runs on one replica at a time: the others find the lock taken and skip that round. */
const RETENTION_LOCK = 1;

const COLUMNS = [
  'id',
  'fingerprint',
  'type',
  'title',
  'severity',
  'severity_rank',
  'source',
  'status',
  'namespace',
  'first_seen',
  'last_seen',
  'count',
  'resource',
  '"user"',
  'source_ips',
  'user_agent',
  'audit_ids',
  'message',
  'evidence',
  'tactics',
  'remediation',
  'history',
  'extra',
  'updated_at',
  'search',
] as const;

/** Each column's type, for the arrays of the batched statements. */
const COLUMN_TYPES: Record<(typeof COLUMNS)[number], string> = {
  id: 'text',
  fingerprint: 'text',
  type: 'text',
  title: 'text',
  severity: 'text',
  severity_rank: 'smallint',
  source: 'text',
  status: 'text',
  namespace: 'text',
  first_seen: 'timestamptz',
  last_seen: 'timestamptz',
  count: 'bigint',
  resource: 'jsonb',
  '"user"': 'jsonb',
  source_ips: 'jsonb',
  user_agent: 'text',
  audit_ids: 'jsonb',
  message: 'text',
  evidence: 'jsonb',
  tactics: 'jsonb',
  remediation: 'text',
  history: 'jsonb',
  extra: 'jsonb',
  updated_at: 'timestamptz',
  search: 'text',
};

/** The fields with a column of their own; anything else a producer adds travels in `extra`. */
const KNOWN_FIELDS = new Set([
  'id',
  'fingerprint',
  'type',
  'title',
  'severity',
  'source',
  'status',
  'namespace',
  'firstSeen',
  'lastSeen',
  'count',
  'resource',
  'user',
  'sourceIPs',
  'userAgent',
  'auditIDs',
  'message',
  'evidence',
  'tactics',
  'remediation',
  'history',
]);

type Row = Record<string, any>;

function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** A signed 32-bit lock key from the fingerprint (hex); collisions only make unrelated writers wait. */
function lockKey(fingerprint: string): number {
  return parseInt(fingerprint.slice(0, 8).padEnd(8, '0'), 16) | 0;
}

export class PostgresAlertStore implements AlertStore {
  readonly description: string;
  private readonly table: string;
  /** The service-account baseline (audit/anomaly.ts). */
  private readonly baselineTable: string;
  /** The notification outbox (alerts/notify.ts). */
  private readonly outboxTable: string;
  /** The occurrences already recorded (claimKeysOf). */
  private readonly claimsTable: string;
  /** The schema changes applied (createSchema). */
  private readonly migrationsTable: string;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    url: string,
    private readonly schema: string | undefined,
  ) {
    this.description = redactUrl(url);
    this.table = (schema ? quoteIdent(schema) + '.' : '') + 'bulwark_alerts';
    this.baselineTable = (schema ? quoteIdent(schema) + '.' : '') + 'bulwark_anomaly_baseline';
    this.outboxTable = (schema ? quoteIdent(schema) + '.' : '') + 'bulwark_notify_outbox';
    this.claimsTable = (schema ? quoteIdent(schema) + '.' : '') + 'bulwark_alert_claims';
    this.migrationsTable = (schema ? quoteIdent(schema) + '.' : '') + 'bulwark_schema_migrations';
  }

  static async open(url: string, options: OpenStoreOptions = {}): Promise<PostgresAlertStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
    // An idle client that loses its connection emits 'error' on the pool; without a listener that kills the process.
    pool.on('error', () => undefined);
    const store = new PostgresAlertStore(pool, url, options.schema);
    try {
      await store.createSchema();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  /**
   * The schema's changes, in order. Each is additive (never a drop) and idempotent (IF NOT EXISTS,
   * a column added only when missing), so a database made before versions were recorded takes
   * them all once; `bulwark_schema_migrations` records each one applied.
   */
  private migrations(): { version: number; description: string; apply(c: pg.PoolClient): Promise<void> }[] {
    const t = this.table;
    const hasColumn = async (c: pg.PoolClient, column: string) =>
      (
        await c.query(
          `SELECT 1 FROM information_schema.columns WHERE table_schema = COALESCE($1, current_schema()) AND table_name = 'bulwark_alerts' AND column_name = $2`,
          [this.schema ?? null, column],
        )
      ).rowCount! > 0;
    return [
      {
        version: 1,
        description: 'the alerts table, its list and open-alert indexes',
        apply: async (c) => {
          await c.query(`
            CREATE TABLE IF NOT EXISTS ${t} (
              id            text PRIMARY KEY,
              fingerprint   text NOT NULL,
              type          text NOT NULL,
              title         text NOT NULL,
              severity      text NOT NULL,
              severity_rank smallint NOT NULL,
              source        text NOT NULL,
              status        text NOT NULL,
              namespace     text NOT NULL,
              first_seen    timestamptz NOT NULL,
              last_seen     timestamptz NOT NULL,
              count         bigint NOT NULL,
              resource      jsonb NOT NULL,
              "user"        jsonb NOT NULL,
              source_ips    jsonb NOT NULL,
              user_agent    text NOT NULL,
              audit_ids     jsonb NOT NULL,
              message       text NOT NULL,
              evidence      jsonb NOT NULL,
              tactics       jsonb NOT NULL,
              remediation   text NOT NULL,
              history       jsonb NOT NULL,
              extra         jsonb NOT NULL DEFAULT '{}'::jsonb
            )`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_by_last_seen ON ${t} (last_seen DESC, id)`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_open_by_fingerprint ON ${t} (fingerprint, last_seen)
                         WHERE status IN ('active', 'in-progress')`);
        },
      },
      {
        version: 2,
        description: 'updated_at: retention by the store clock, not by event time',
        apply: async (c) => {
          if (!(await hasColumn(c, 'updated_at'))) {
            await c.query(`ALTER TABLE ${t} ADD COLUMN updated_at timestamptz`);
            await c.query(`UPDATE ${t} SET updated_at = last_seen`);
            await c.query(`ALTER TABLE ${t} ALTER COLUMN updated_at SET NOT NULL, ALTER COLUMN updated_at SET DEFAULT now()`);
          }
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_by_updated ON ${t} (updated_at)`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_by_retention ON ${t} (severity_rank DESC, updated_at DESC, id)`);
        },
      },
      {
        version: 3,
        description: 'the service-account baseline',
        apply: async (c) => {
          await c.query(`
            CREATE TABLE IF NOT EXISTS ${this.baselineTable} (
              account       text NOT NULL,
              operation     text NOT NULL,
              first_seen_ms bigint NOT NULL,
              stored_ms     bigint NOT NULL,
              PRIMARY KEY (account, operation)
            )`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_anomaly_baseline_by_stored ON ${this.baselineTable} (stored_ms, account, operation)`);
        },
      },
      {
        version: 4,
        description: 'the notification outbox',
        apply: async (c) => {
          await c.query(`
            CREATE TABLE IF NOT EXISTS ${this.outboxTable} (
              id              bigserial PRIMARY KEY,
              sink            text NOT NULL,
              alert_id        text NOT NULL,
              body            jsonb NOT NULL,
              attempts        integer NOT NULL DEFAULT 0,
              next_attempt_ms bigint NOT NULL,
              created_ms      bigint NOT NULL,
              last_error      text NOT NULL DEFAULT '',
              UNIQUE (sink, alert_id)
            )`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_notify_outbox_due ON ${this.outboxTable} (next_attempt_ms, id)`);
        },
      },
      {
        version: 5,
        description: "the console's search text (filled for the alerts already stored) and sort and filter indexes",
        apply: async (c) => {
          if (!(await hasColumn(c, 'search'))) {
            await c.query(`ALTER TABLE ${t} ADD COLUMN search text NOT NULL DEFAULT ''`);
            const all = await c.query(`SELECT * FROM ${t}`);
            for (const row of all.rows) await c.query(`UPDATE ${t} SET search = $1 WHERE id = $2`, [searchTextOf(PostgresAlertStore.toAlert(row)), row.id]);
          }
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_by_first_seen ON ${t} (first_seen DESC, last_seen DESC, id)`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_by_severity ON ${t} (severity_rank DESC, last_seen DESC, id)`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_by_count ON ${t} (count DESC, last_seen DESC, id)`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_by_type ON ${t} (type, last_seen)`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_by_namespace ON ${t} (namespace, last_seen)`);
        },
      },
      {
        version: 6,
        description: 'occurrence claims (replicas count a request once) and the cluster index',
        apply: async (c) => {
          await c.query(`CREATE TABLE IF NOT EXISTS ${this.claimsTable} (key text PRIMARY KEY, created_ms bigint NOT NULL)`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alert_claims_by_created ON ${this.claimsTable} (created_ms)`);
          await c.query(`CREATE INDEX IF NOT EXISTS bulwark_alerts_by_cluster ON ${t} ((${CLUSTER}), last_seen)`);
        },
      },
    ];
  }

  /** Applies the migrations not yet recorded, under an advisory lock: replicas starting together apply each once. */
  private async createSchema(): Promise<void> {
    await this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, SCHEMA_LOCK]);
      if (this.schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
      await c.query(`
        CREATE TABLE IF NOT EXISTS ${this.migrationsTable} (
          version     integer PRIMARY KEY,
          description text NOT NULL,
          applied_at  timestamptz NOT NULL DEFAULT now()
        )`);
      const applied = new Set((await c.query(`SELECT version FROM ${this.migrationsTable}`)).rows.map((r: { version: number }) => r.version));
      for (const m of this.migrations()) {
        if (applied.has(m.version)) continue;
        await m.apply(c);
        await c.query(`INSERT INTO ${this.migrationsTable} (version, description) VALUES ($1, $2)`, [m.version, m.description]);
      }
    });
  }

  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection cut while the client is checked out (a server restart, a failover) is an 'error'
    // event on the client, which without a listener would end the process: the query in flight
    // fails instead, and the caller retries on a new connection.
    const onError = (): void => undefined;
    client.on('error', onError);
    let failed: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      failed = err instanceof Error ? err : new Error(String(err));
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      // After a failure the connection may be broken: closed, not put back in the pool.
      client.release(failed);
    }
  }

  private static toAlert(row: Row): Alert {
    const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
    return {
      ...(row.extra ?? {}),
      id: row.id,
      type: row.type,
      title: row.title,
      severity: row.severity,
      source: row.source,
      firstSeen: iso(row.first_seen),
      lastSeen: iso(row.last_seen),
      count: Number(row.count),
      namespace: row.namespace,
      resource: row.resource,
      user: row.user,
      sourceIPs: row.source_ips,
      userAgent: row.user_agent,
      auditIDs: row.audit_ids,
      message: row.message,
      evidence: row.evidence,
      tactics: row.tactics,
      remediation: row.remediation,
      status: row.status,
      history: row.history,
      fingerprint: row.fingerprint,
    };
  }

  private static values(a: Alert): unknown[] {
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a)) if (!KNOWN_FIELDS.has(k)) extra[k] = v;
    const json = (v: unknown) => JSON.stringify(v ?? null);
    return [
      a.id,
      a.fingerprint,
      a.type,
      a.title ?? '',
      a.severity,
      SEVERITY_RANK[a.severity] ?? 0,
      a.source,
      a.status,
      a.namespace ?? '',
      a.firstSeen,
      a.lastSeen,
      a.count,
      json(a.resource),
      json(a.user),
      json(a.sourceIPs),
      a.userAgent ?? '',
      json(a.auditIDs),
      a.message ?? '',
      json(a.evidence ?? {}),
      json(a.tactics ?? []),
      a.remediation ?? '',
      json(a.history ?? []),
      json(extra),
      new Date().toISOString(),
      searchTextOf(a),
    ];
  }

  private async update(c: pg.PoolClient, a: Alert): Promise<void> {
    const sets = COLUMNS.slice(1)
      .map((col, i) => `${col} = $${i + 2}`)
      .join(', ');
    await c.query(`UPDATE ${this.table} SET ${sets} WHERE id = $1`, PostgresAlertStore.values(a));
  }

  async upsert(input: Alert, windowMs: number, notify: readonly string[] = []): Promise<Alert> {
    return (await this.upsertMany([input], windowMs, notify))[0]!;
  }

  /**
   * The batch in a fixed number of round trips, however many alerts it holds: its fingerprints'
   * locks in one statement, then one query each for alerts already stored under these IDs, the
   * occurrence claims, the open alerts to merge into (and, only when some alert's occurrences are
   * all claimed already, the alerts that hold them); the alerts are folded in memory in batch order
   * — exactly as one upsert after the other would — and written with one INSERT, one UPDATE and one
   * outbox INSERT. Every statement has a fixed text (arrays, not a VALUES list per row), so each is
   * prepared once per connection.
   */
  async upsertMany(inputs: readonly Alert[], windowMs: number, notify?: NotifyTargets): Promise<Alert[]> {
    const incoming = inputs.map((a) => normaliseAlert(a));
    if (incoming.length === 0) return [];
    // Each fingerprint's lock once, in one order: two batches never wait on each other in a circle.
    const locks = [...new Set(incoming.map((a) => lockKey(a.fingerprint)))].sort((a, b) => a - b);
    return this.transaction(async (c) => {
      await c.query({ name: 'bulwark_lock_fingerprints', text: this.sql.lock, values: [LOCK_CLASS, locks] });
      const stored = new Map<string, Alert>();
      for (const row of (await c.query({ name: 'bulwark_alerts_by_id', text: this.sql.byId, values: [[...new Set(incoming.map((a) => a.id))]] })).rows)
        stored.set(row.id, PostgresAlertStore.toAlert(row));
      // Claims: every key of every alert not stored yet, in one INSERT; the fresh ones go to the first alert naming them.
      const keysOf = new Map<Alert, string[]>();
      for (const a of incoming) if (!stored.has(a.id)) keysOf.set(a, claimKeysOf(a));
      const allKeys = [...new Set([...keysOf.values()].flat())];
      const fresh = new Set<string>();
      if (allKeys.length > 0) {
        const claimed = await c.query({ name: 'bulwark_claim', text: this.sql.claim, values: [allKeys, Date.now()] });
        for (const r of claimed.rows as { key: string }[]) fresh.add(r.key);
      }
      const taken = new Set<string>();
      /** Per alert: undefined (stored already), 'held' (every occurrence claimed before), or the alert with only its fresh occurrences. */
      const plan = incoming.map((a): Alert | 'held' | undefined => {
        if (stored.has(a.id)) return undefined;
        const mine = new Set(keysOf.get(a)!.filter((k) => fresh.has(k) && !taken.has(k)));
        for (const k of mine) taken.add(k);
        return withoutClaimed(a, mine) ?? 'held';
      });
      const fingerprints = [...new Set(plan.flatMap((p, i) => (p === undefined ? [] : [incoming[i]!.fingerprint])))];
      // The newest open alert per fingerprint (locked), and the newest of any status where an alert's occurrences are all held.
      const open = new Map<string, Alert>();
      if (fingerprints.length > 0)
        for (const row of (await c.query({ name: 'bulwark_open_by_fingerprint', text: this.sql.open, values: [fingerprints] })).rows)
          open.set(row.fingerprint, PostgresAlertStore.toAlert(row));
      const latest = new Map<string, Alert>();
      const heldPrints = [...new Set(plan.flatMap((p, i) => (p === 'held' ? [incoming[i]!.fingerprint] : [])))];
      if (heldPrints.length > 0)
        for (const row of (await c.query({ name: 'bulwark_latest_by_fingerprint', text: this.sql.latest, values: [heldPrints] })).rows)
          latest.set(row.fingerprint, PostgresAlertStore.toAlert(row));

      const inserts = new Map<string, Alert>();
      const updates = new Map<string, Alert>();
      const deliveries: { sink: string; alert: Alert }[] = [];
      // What a later alert of this batch sees: the newest by (last_seen desc, id), as the queries order them.
      // (A later version of the same alert replaces it, whatever its time.)
      const newer = (x: Alert, y: Alert | undefined) =>
        !y || x.id === y.id || Date.parse(x.lastSeen) > Date.parse(y.lastSeen) || (x.lastSeen === y.lastSeen && x.id < y.id) ? x : y;
      const wrote = (a: Alert) => {
        latest.set(a.fingerprint, newer(a, latest.get(a.fingerprint)));
        if (OPEN_STATUSES.includes(a.status)) open.set(a.fingerprint, newer(a, open.get(a.fingerprint)));
        stored.set(a.id, a);
      };
      const out: Alert[] = [];
      for (let i = 0; i < incoming.length; i++) {
        const input = incoming[i]!;
        const step = plan[i];
        // The same alert delivered twice (a retry after an ambiguous failure) is applied once.
        if (step === undefined || stored.has(input.id)) {
          out.push(stored.get(input.id)!);
          continue;
        }
        // Every occurrence it stands for is recorded already: the alert that holds them stands.
        if (step === 'held') {
          out.push(latest.get(input.fingerprint) ?? input);
          continue;
        }
        const target = open.get(step.fingerprint);
        if (target && Date.parse(target.lastSeen) >= mergeHorizon(step, windowMs)) {
          const merged = mergeAlerts(target, step);
          if (inserts.has(merged.id)) inserts.set(merged.id, merged);
          else updates.set(merged.id, merged);
          wrote(merged);
          out.push(merged);
          continue;
        }
        inserts.set(step.id, step);
        for (const sink of new Set(targetsOf(notify, input))) deliveries.push({ sink, alert: step });
        wrote(step);
        out.push(step);
      }
      if (inserts.size > 0) await c.query({ name: 'bulwark_insert_alerts', text: this.sql.insert, values: PostgresAlertStore.columns([...inserts.values()]) });
      if (updates.size > 0) await c.query({ name: 'bulwark_update_alerts', text: this.sql.update, values: PostgresAlertStore.columns([...updates.values()]) });
      if (deliveries.length > 0) {
        // The body is the alert as first stored (a merge later in the batch does not change what was raised).
        const now = Date.now();
        await c.query({
          name: 'bulwark_queue_deliveries',
          text: this.sql.outbox,
          values: [deliveries.map((d) => d.sink), deliveries.map((d) => d.alert.id), deliveries.map((d) => JSON.stringify(d.alert)), now],
        });
      }
      return out;
    });
  }

  private statements: ReturnType<typeof upsertStatements> | undefined;
  /** The statements of upsertMany, on this store's tables. */
  private get sql(): ReturnType<typeof upsertStatements> {
    return (this.statements ??= upsertStatements({ alerts: this.table, claims: this.claimsTable, outbox: this.outboxTable }));
  }

  /** Rows as one array per column (the parameters of the unnest statements). */
  private static columns(alerts: readonly Alert[]): unknown[][] {
    const rows = alerts.map((a) => PostgresAlertStore.values(a));
    return COLUMNS.map((_, i) => rows.map((r) => r[i]));
  }

  async claimOutbox(nowMs: number, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    // SKIP LOCKED: replicas claiming at once take different rows; the lease (next_attempt_ms moved
    // ahead) keeps a claimed row from the others until it is completed, failed or the lease ends.
    const r = await this.pool.query<{ id: string; sink: string; body: Alert; attempts: number; created_ms: string; last_error: string }>(
      `UPDATE ${this.outboxTable} SET next_attempt_ms = $2 WHERE id IN (
         SELECT id FROM ${this.outboxTable} WHERE next_attempt_ms <= $1 ORDER BY next_attempt_ms, id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, sink, body, attempts, created_ms, last_error`,
      [nowMs, nowMs + leaseMs, limit],
    );
    return r.rows
      .map((row) => ({
        id: Number(row.id),
        sink: row.sink,
        alert: row.body,
        attempts: row.attempts,
        createdMs: Number(row.created_ms),
        lastError: row.last_error,
      }))
      .sort((a, b) => a.id - b.id);
  }

  async completeOutbox(id: number): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.outboxTable} WHERE id = $1`, [id]);
  }

  async failOutbox(id: number, error: string, nextAttemptMs: number): Promise<void> {
    await this.pool.query(`UPDATE ${this.outboxTable} SET attempts = attempts + 1, last_error = $2, next_attempt_ms = $3 WHERE id = $1`, [
      id,
      error.slice(0, MAX_OUTBOX_ERROR),
      nextAttemptMs,
    ]);
  }

  async expireOutbox(beforeMs: number, maxPerSink = Number.MAX_SAFE_INTEGER): Promise<Record<string, number>> {
    const r = await this.pool.query<{ sink: string; n: string }>(
      `WITH ranked AS (
         SELECT id, created_ms, row_number() OVER (PARTITION BY sink ORDER BY id DESC) AS newest FROM ${this.outboxTable}),
       gone AS (
         DELETE FROM ${this.outboxTable} WHERE id IN (SELECT id FROM ranked WHERE created_ms < $1 OR newest > $2) RETURNING sink)
       SELECT sink, COUNT(*) AS n FROM gone GROUP BY sink`,
      [beforeMs, maxPerSink],
    );
    return Object.fromEntries(r.rows.map((row) => [row.sink, Number(row.n)]));
  }

  async outboxStats(): Promise<Record<string, { pending: number; oldestMs: number; failing: number }>> {
    const r = await this.pool.query<{ sink: string; n: string; oldest: string; failing: string }>(
      `SELECT sink, COUNT(*) AS n, MIN(created_ms) AS oldest, COUNT(*) FILTER (WHERE attempts > 0) AS failing FROM ${this.outboxTable} GROUP BY sink`,
    );
    return Object.fromEntries(r.rows.map((row) => [row.sink, { pending: Number(row.n), oldestMs: Number(row.oldest), failing: Number(row.failing) }]));
  }

  async get(id: string): Promise<Alert | undefined> {
    const r = await this.pool.query(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    return r.rows[0] ? PostgresAlertStore.toAlert(r.rows[0]) : undefined;
  }

  private static where(filter: AlertFilter, params: unknown[] = []): { where: string[]; params: unknown[]; p: (v: unknown) => string } {
    const where: string[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const anyOf = (column: string, values: readonly string[] | undefined) => {
      if (values && values.length > 0) where.push(`${column} = ANY(${p(values)}::text[])`);
    };
    anyOf('severity', filter.severity);
    if (filter.minSeverity) anyOf('severity', severitiesAtOrAbove(filter.minSeverity));
    anyOf('type', filter.type);
    anyOf('status', filter.status);
    anyOf('namespace', filter.namespace);
    anyOf('source', filter.source);
    anyOf(CLUSTER, filter.cluster);
    if (filter.since) where.push(`last_seen >= ${p(filter.since.toISOString())}`);
    if (filter.until) where.push(`last_seen < ${p(filter.until.toISOString())}`);
    if (filter.text) where.push(`search LIKE ${p(likePattern(filter.text))} ESCAPE '\\'`);
    return { where, params, p };
  }

  async list(filter: AlertFilter, cursor: string | undefined, limit: number, sort: AlertSort = DEFAULT_SORT): Promise<AlertPage> {
    const { where, params, p } = PostgresAlertStore.where(filter);
    const column = (k: SortKey) => SORT_COLUMNS[k];
    if (cursor !== undefined) {
      where.push(
        keysetAfter(sort, decodeCursor(cursor, sort), column, (k, v) => (k === 'lastSeen' || k === 'firstSeen' ? p(new Date(v).toISOString()) : p(v))),
      );
    }
    const sql = `SELECT * FROM ${this.table} ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
                 ORDER BY ${orderBy(sort, column)} LIMIT ${p(limit + 1)}`;
    const r = await this.pool.query(sql, params);
    const items = r.rows.slice(0, limit).map(PostgresAlertStore.toAlert);
    const last = items[items.length - 1];
    return r.rows.length > limit && last ? { items, nextCursor: cursorAfter(last, sort) } : { items };
  }

  async summary(filter: AlertFilter): Promise<AlertSummary> {
    const { where, params } = PostgresAlertStore.where(filter);
    const r = await this.pool.query(
      `SELECT severity, status, COUNT(*) AS n FROM ${this.table} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} GROUP BY severity, status`,
      params,
    );
    return summaryOf(r.rows);
  }

  async trends(sinceMs: number, untilMs: number, top: number): Promise<AlertTrends> {
    const since = new Date(sinceMs).toISOString();
    const until = new Date(untilMs).toISOString();
    const range = 'first_seen >= $1 AND first_seen < $2';
    const days = await this.pool.query(
      `SELECT floor(extract(epoch FROM first_seen - $1::timestamptz) / 86400)::int AS day, severity, COUNT(*) AS n
         FROM ${this.table} WHERE ${range} GROUP BY day, severity`,
      [since, until],
    );
    const tally = async (expr: string, from = this.table) =>
      (
        await this.pool.query(
          `SELECT ${expr} AS key, COUNT(*) AS count FROM ${from} WHERE ${range} AND ${expr} <> '' GROUP BY key ORDER BY count DESC, key LIMIT $3`,
          [since, until, top],
        )
      ).rows.map((r: { key: string; count: string }) => ({ key: r.key, count: Number(r.count) }));
    return {
      days: trendDays(sinceMs, untilMs, days.rows),
      types: await tally('type'),
      users: await tally(`("user"->>'username')`),
      sourceIPs: await tally('ip', `${this.table}, jsonb_array_elements_text(source_ips) AS ip`),
    };
  }

  async facets(): Promise<AlertFacets> {
    const values = async (column: string) =>
      (
        await this.pool.query(`SELECT ${column} AS v, COUNT(*) AS n FROM ${this.table} WHERE ${column} <> '' GROUP BY ${column} ORDER BY n DESC, v LIMIT $1`, [
          MAX_FACETS,
        ])
      ).rows.map((r: { v: string }) => r.v);
    return { types: await values('type'), namespaces: await values('namespace'), clusters: await values(CLUSTER) };
  }

  async setStatus(id: string, to: AlertStatus, by: string, reason: string): Promise<Alert> {
    return this.transaction(async (c) => {
      const r = await c.query(`SELECT * FROM ${this.table} WHERE id = $1 FOR UPDATE`, [id]);
      if (!r.rows[0]) throw new AlertNotFoundError(id);
      const changed = applyStatusChange(PostgresAlertStore.toAlert(r.rows[0]), to, by, reason);
      await this.update(c, changed);
      return changed;
    });
  }

  async prune(retention: Retention, now = Date.now()): Promise<number> {
    return this.transaction(async (c) => {
      const lock = await c.query('SELECT pg_try_advisory_xact_lock($1, $2) AS got', [LOCK_CLASS, RETENTION_LOCK]);
      if (!lock.rows[0]?.got) return 0;
      let deleted = 0;
      if (retention.maxAgeMs !== undefined) {
        const r = await c.query(`DELETE FROM ${this.table} WHERE updated_at < $1`, [new Date(now - retention.maxAgeMs).toISOString()]);
        deleted += r.rowCount ?? 0;
      }
      if (retention.maxCount !== undefined) {
        const r = await c.query(
          `DELETE FROM ${this.table} WHERE id IN (SELECT id FROM ${this.table} ORDER BY severity_rank DESC, updated_at DESC, id OFFSET $1)`,
          [retention.maxCount],
        );
        deleted += r.rowCount ?? 0;
      }
      await c.query(`DELETE FROM ${this.claimsTable} WHERE created_ms < $1`, [now - CLAIM_TTL_MS]);
      await c.query(`DELETE FROM ${this.claimsTable} WHERE key IN (SELECT key FROM ${this.claimsTable} ORDER BY created_ms DESC, key DESC OFFSET $1)`, [
        retention.maxClaims ?? MAX_CLAIMS,
      ]);
      return deleted;
    });
  }

  async recordBaseline(entries: readonly BaselineEntry[]): Promise<void> {
    const rows = baselineRows(entries);
    if (rows.length === 0) return;
    // The database's clock, so that every replica's loadBaseline reads one timeline.
    await this.pool.query(
      `INSERT INTO ${this.baselineTable} AS b (account, operation, first_seen_ms, stored_ms)
       SELECT a, o, f, (extract(epoch from clock_timestamp()) * 1000)::bigint FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(a, o, f)
       ON CONFLICT (account, operation) DO UPDATE SET first_seen_ms = EXCLUDED.first_seen_ms, stored_ms = EXCLUDED.stored_ms
       WHERE EXCLUDED.first_seen_ms < b.first_seen_ms`,
      [rows.map((r) => r.account), rows.map((r) => r.operation), rows.map((r) => r.firstSeenMs)],
    );
  }

  async loadBaseline(sinceMs: number, after: BaselineCursor | undefined, limit: number): Promise<{ entries: BaselineEntry[]; nowMs: number }> {
    const clock = await this.pool.query<{ now: string }>(`SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now`);
    const params: unknown[] = [sinceMs, limit];
    let page = '';
    if (after) {
      page = 'AND (stored_ms, account, operation) > ($3, $4, $5)';
      params.push(after.storedMs, after.account, after.operation);
    }
    const r = await this.pool.query<{ account: string; operation: string; first_seen_ms: string; stored_ms: string }>(
      `SELECT account, operation, first_seen_ms, stored_ms FROM ${this.baselineTable}
       WHERE stored_ms >= $1 ${page} ORDER BY stored_ms, account, operation LIMIT $2`,
      params,
    );
    return {
      entries: r.rows.map((row) => ({
        account: row.account,
        operation: row.operation,
        firstSeenMs: Number(row.first_seen_ms),
        storedMs: Number(row.stored_ms),
      })),
      nowMs: Number(clock.rows[0]!.now),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** The statements of upsertMany: fixed texts (arrays as parameters), so each is prepared once per connection. */
function upsertStatements(t: { alerts: string; claims: string; outbox: string }) {
  // Named columns, never *: a prepared statement whose result shape changes (a later version's
  // migration adding a column, during a rolling upgrade) fails instead of re-planning.
  const cols = COLUMNS.join(', ');
  const typed = COLUMNS.map((col, i) => `$${i + 1}::${COLUMN_TYPES[col]}[]`).join(', ');
  return {
    lock: `SELECT count(pg_advisory_xact_lock($1, k)) FROM (SELECT k FROM unnest($2::int[]) AS u(k) ORDER BY k) AS ordered`,
    byId: `SELECT ${cols} FROM ${t.alerts} WHERE id = ANY($1::text[])`,
    claim: `INSERT INTO ${t.claims} (key, created_ms) SELECT k, $2 FROM unnest($1::text[]) AS x(k) ON CONFLICT (key) DO NOTHING RETURNING key`,
    open: `SELECT o.* FROM unnest($1::text[]) AS x(fp) CROSS JOIN LATERAL (
             SELECT ${cols} FROM ${t.alerts} WHERE fingerprint = x.fp AND status IN ('active', 'in-progress')
             ORDER BY last_seen DESC, id LIMIT 1 FOR UPDATE) AS o`,
    latest: `SELECT o.* FROM unnest($1::text[]) AS x(fp) CROSS JOIN LATERAL (
               SELECT ${cols} FROM ${t.alerts} WHERE fingerprint = x.fp ORDER BY last_seen DESC, id LIMIT 1) AS o`,
    insert: `INSERT INTO ${t.alerts} (${COLUMNS.join(', ')}) SELECT * FROM unnest(${typed})`,
    update: `UPDATE ${t.alerts} AS a SET ${COLUMNS.slice(1)
      .map((col) => `${col} = v.${col}`)
      .join(', ')} FROM unnest(${typed}) AS v(${COLUMNS.join(', ')}) WHERE a.id = v.id`,
    outbox: `INSERT INTO ${t.outbox} (sink, alert_id, body, next_attempt_ms, created_ms)
             SELECT s, a, b::jsonb, $4, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS x(s, a, b) ON CONFLICT (sink, alert_id) DO NOTHING`,
  };
}
