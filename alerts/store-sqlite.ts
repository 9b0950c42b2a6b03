// The embedded store: one SQLite file (better-sqlite3), the default.
//
// Durability: WAL journal with synchronous=FULL. In WAL mode NORMAL already survives a crash of
// the process (SIGKILL, OOM): a committed transaction is in the WAL file, which the OS keeps.
// But NORMAL does not fsync the WAL at each commit, so a power cut or kernel crash can drop the
// last transactions after we told the caller "stored". FULL fsyncs at every commit, so an
// acknowledged alert survives both. Alerts are rare events, not per-request traffic, so the cost
// (one fsync per alert) is affordable.
//
// Concurrency: every write is a BEGIN IMMEDIATE transaction, which takes SQLite's write lock
// before reading, so read-merge-write is atomic across connections and processes; busy_timeout
// makes a second writer wait for the lock instead of failing.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SEVERITIES } from '../core/severity.js';
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
  DAY_MS,
  MAX_FACETS,
  mergeAlerts,
  summaryOf,
  trendDays,
  type AlertFacets,
  type AlertSummary,
  type AlertTrends,
  mergeHorizon,
  normaliseAlert,
  SEVERITY_RANK,
  type AlertFilter,
  type AlertPage,
  baselineRows,
  type AlertStore,
  type BaselineCursor,
  type BaselineEntry,
  type OutboxEntry,
  MAX_OUTBOX_ERROR,
  type Retention,
} from './store.js';
import { cursorAfter, decodeCursor, DEFAULT_SORT, keysetAfter, likePattern, orderBy, searchTextOf, type AlertSort, type SortKey } from './query.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alerts (
  id            TEXT PRIMARY KEY,
  fingerprint   TEXT NOT NULL,
  type          TEXT NOT NULL,
  severity      TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,
  source        TEXT NOT NULL,
  status        TEXT NOT NULL,
  namespace     TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL,
  body          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_last_seen ON alerts (last_seen_ms DESC, id);
CREATE INDEX IF NOT EXISTS alerts_open_by_fingerprint ON alerts (fingerprint, last_seen_ms)
  WHERE status IN ('active', 'in-progress');
`;

/**
 * Additive migrations, in order, each applied once (PRAGMA user_version counts them) inside the
 * write lock, so processes opening one file together apply each once. Never destructive.
 */
const MIGRATIONS: readonly (string | ((db: Database.Database) => void))[] = [
  // 1: retention by the store's own clock (when the alert was last written), not by event time.
  `ALTER TABLE alerts ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
   UPDATE alerts SET updated_ms = last_seen_ms;
   CREATE INDEX IF NOT EXISTS alerts_by_updated ON alerts (updated_ms);
   CREATE INDEX IF NOT EXISTS alerts_by_retention ON alerts (severity_rank DESC, updated_ms DESC, id);`,
  // 2: the service-account baseline of serviceaccount-rare-operation (audit/anomaly.ts).
  `CREATE TABLE IF NOT EXISTS anomaly_baseline (
     account       TEXT NOT NULL,
     operation     TEXT NOT NULL,
     first_seen_ms INTEGER NOT NULL,
     stored_ms     INTEGER NOT NULL,
     PRIMARY KEY (account, operation)
   );
   CREATE INDEX IF NOT EXISTS anomaly_baseline_by_stored ON anomaly_baseline (stored_ms, account, operation);`,
  // 3: the notification outbox (alerts/notify.ts), written in the alert's own transaction.
  `CREATE TABLE IF NOT EXISTS notify_outbox (
     id              INTEGER PRIMARY KEY AUTOINCREMENT,
     sink            TEXT NOT NULL,
     alert_id        TEXT NOT NULL,
     body            TEXT NOT NULL,
     attempts        INTEGER NOT NULL DEFAULT 0,
     next_attempt_ms INTEGER NOT NULL,
     created_ms      INTEGER NOT NULL,
     last_error      TEXT NOT NULL DEFAULT '',
     UNIQUE (sink, alert_id)
   );
   CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox (next_attempt_ms, id);`,
  // 4: the console's sorts, search and tallies: count, user name and search text as columns,
  // filled for the alerts already stored.
  (db) => {
    db.exec(`ALTER TABLE alerts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
             ALTER TABLE alerts ADD COLUMN username TEXT NOT NULL DEFAULT '';
             ALTER TABLE alerts ADD COLUMN search TEXT NOT NULL DEFAULT '';
             ALTER TABLE alerts ADD COLUMN source_ips TEXT NOT NULL DEFAULT '[]';
             CREATE INDEX IF NOT EXISTS alerts_by_first_seen ON alerts (first_seen_ms DESC, last_seen_ms DESC, id);
             CREATE INDEX IF NOT EXISTS alerts_by_severity ON alerts (severity_rank DESC, last_seen_ms DESC, id);
             CREATE INDEX IF NOT EXISTS alerts_by_count ON alerts (count DESC, last_seen_ms DESC, id);
             CREATE INDEX IF NOT EXISTS alerts_by_type ON alerts (type, last_seen_ms);
             CREATE INDEX IF NOT EXISTS alerts_by_namespace ON alerts (namespace, last_seen_ms);
             CREATE INDEX IF NOT EXISTS alerts_by_status ON alerts (status, last_seen_ms);
             -- Covering: the counts above the console's table, and its trends, read these and not the rows.
             CREATE INDEX IF NOT EXISTS alerts_summary ON alerts (severity_rank, status, last_seen_ms);
             CREATE INDEX IF NOT EXISTS alerts_trends ON alerts (first_seen_ms, severity, type, username, source_ips);`);
    const fill = db.prepare('UPDATE alerts SET count = ?, username = ?, search = ?, source_ips = ? WHERE id = ?');
    const batch = db.prepare('SELECT rowid, id, body FROM alerts WHERE rowid > ? ORDER BY rowid LIMIT 1000');
    for (let after = 0; ;) {
      const rows = batch.all(after) as { rowid: number; id: string; body: string }[];
      if (rows.length === 0) break;
      for (const row of rows) {
        const a = JSON.parse(row.body) as Alert;
        fill.run(countOf(a), a.user?.username ?? '', searchTextOf(a), sourceIpsOf(a), row.id);
      }
      after = rows[rows.length - 1]!.rowid;
    }
  },
  // 5: the occurrences already recorded (claimKeysOf), so that replicas sharing the file count a
  // request once whichever of them sees which stage; and the cluster of each alert as a column
  // (many clusters, one store).
  `CREATE TABLE IF NOT EXISTS alert_claims (key TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);
   CREATE INDEX IF NOT EXISTS alert_claims_by_created ON alert_claims (created_ms);
   ALTER TABLE alerts ADD COLUMN cluster TEXT NOT NULL DEFAULT '';
   UPDATE alerts SET cluster = COALESCE(json_extract(body, '$.cluster'), '') WHERE json_type(body, '$.cluster') = 'text';
   CREATE INDEX IF NOT EXISTS alerts_by_cluster ON alerts (cluster, last_seen_ms);`,
];

function sourceIpsOf(a: Alert): string {
  return JSON.stringify(Array.isArray(a.sourceIPs) ? a.sourceIPs.filter((ip) => typeof ip === 'string') : []);
}

function countOf(a: Alert): number {
  return Number.isSafeInteger(a.count) && a.count > 0 ? a.count : 1;
}

const SORT_COLUMNS: Record<SortKey, string> = { lastSeen: 'last_seen_ms', firstSeen: 'first_seen_ms', severity: 'severity_rank', count: 'count' };

interface Row {
  body: string;
}

export class SqliteAlertStore implements AlertStore {
  readonly description: string;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    file: string,
  ) {
    this.description = `sqlite:${file}`;
  }

  static open(file: string): SqliteAlertStore {
    const resolved = path.resolve(file);
    fs.mkdirSync(path.dirname(resolved), { recursive: true });
    const db = new Database(resolved);
    try {
      db.pragma('busy_timeout = 15000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      db.transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        for (let v = version; v < MIGRATIONS.length; v++) {
          const step = MIGRATIONS[v]!;
          if (typeof step === 'string') db.exec(step);
          else step(db);
        }
        if (version < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
      }).immediate();
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteAlertStore(db, resolved);
  }

  private static toAlert(row: Row): Alert {
    return JSON.parse(row.body) as Alert;
  }

  private write(alert: Alert, insert: boolean): void {
    const params = {
      id: alert.id,
      fingerprint: alert.fingerprint,
      type: alert.type,
      severity: alert.severity,
      severity_rank: SEVERITY_RANK[alert.severity] ?? 0,
      source: alert.source,
      status: alert.status,
      namespace: alert.namespace ?? '',
      first_seen_ms: Date.parse(alert.firstSeen),
      last_seen_ms: Date.parse(alert.lastSeen),
      updated_ms: Date.now(),
      count: countOf(alert),
      username: alert.user?.username ?? '',
      search: searchTextOf(alert),
      source_ips: sourceIpsOf(alert),
      cluster: typeof alert.cluster === 'string' ? alert.cluster : '',
      body: JSON.stringify(alert),
    };
    if (insert) {
      this.db
        .prepare(
          `INSERT INTO alerts (id, fingerprint, type, severity, severity_rank, source, status, namespace, first_seen_ms, last_seen_ms, updated_ms, count, username, search, source_ips, cluster, body)
                  VALUES (@id, @fingerprint, @type, @severity, @severity_rank, @source, @status, @namespace, @first_seen_ms, @last_seen_ms, @updated_ms, @count, @username, @search, @source_ips, @cluster, @body)`,
        )
        .run(params);
    } else {
      this.db
        .prepare(
          `UPDATE alerts SET severity = @severity, severity_rank = @severity_rank, status = @status,
                  first_seen_ms = @first_seen_ms, last_seen_ms = @last_seen_ms, updated_ms = @updated_ms,
                  count = @count, username = @username, search = @search, source_ips = @source_ips, body = @body WHERE id = @id`,
        )
        .run(params);
    }
  }

  async upsert(input: Alert, windowMs: number, notify: readonly string[] = []): Promise<Alert> {
    return (await this.upsertMany([input], windowMs, notify))[0]!;
  }

  async upsertMany(inputs: readonly Alert[], windowMs: number, notify?: NotifyTargets): Promise<Alert[]> {
    const incoming = inputs.map((a) => normaliseAlert(a));
    if (incoming.length === 0) return [];
    // One transaction, so one fsync, for the whole batch.
    return this.db.transaction((): Alert[] => incoming.map((a) => this.upsertIn(a, windowMs, targetsOf(notify, a)))).immediate();
  }

  private upsertIn(input: Alert, windowMs: number, notify: readonly string[]): Alert {
    let incoming = input;
    // The same alert delivered twice (a retry after an ambiguous failure) is applied once.
    const again = this.db.prepare('SELECT body FROM alerts WHERE id = ?').get(incoming.id) as Row | undefined;
    if (again) return SqliteAlertStore.toAlert(again);
    const keys = claimKeysOf(incoming);
    if (keys.length > 0) {
      const claim = this.db.prepare('INSERT OR IGNORE INTO alert_claims (key, created_ms) VALUES (?, ?)');
      const now = Date.now();
      const fresh = new Set<string>();
      for (const key of keys) if (claim.run(key, now).changes > 0) fresh.add(key);
      const unclaimed = withoutClaimed(incoming, fresh);
      if (!unclaimed) {
        // Every occurrence it stands for is recorded already: the alert that holds them stands.
        const holder = this.db.prepare('SELECT body FROM alerts WHERE fingerprint = ? ORDER BY last_seen_ms DESC, id LIMIT 1').get(incoming.fingerprint) as
          Row | undefined;
        return holder ? SqliteAlertStore.toAlert(holder) : incoming;
      }
      incoming = unclaimed;
    }
    const row = this.db
      .prepare(
        `SELECT body FROM alerts WHERE fingerprint = ? AND status IN ('active', 'in-progress') AND last_seen_ms >= ?
                ORDER BY last_seen_ms DESC, id LIMIT 1`,
      )
      .get(incoming.fingerprint, mergeHorizon(incoming, windowMs)) as Row | undefined;
    if (row) {
      const merged = mergeAlerts(SqliteAlertStore.toAlert(row), incoming);
      this.write(merged, false);
      return merged;
    }
    this.write(incoming, true);
    if (notify.length > 0) {
      const now = Date.now();
      const body = JSON.stringify(incoming);
      const queue = this.db.prepare('INSERT OR IGNORE INTO notify_outbox (sink, alert_id, body, next_attempt_ms, created_ms) VALUES (?, ?, ?, ?, ?)');
      for (const sink of new Set(notify)) queue.run(sink, incoming.id, body, now, now);
    }
    return incoming;
  }

  async claimOutbox(nowMs: number, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const txn = this.db.transaction((): OutboxEntry[] => {
      const rows = this.db
        .prepare('SELECT id, sink, body, attempts, created_ms, last_error FROM notify_outbox WHERE next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT ?')
        .all(nowMs, limit) as { id: number; sink: string; body: string; attempts: number; created_ms: number; last_error: string }[];
      const lease = this.db.prepare('UPDATE notify_outbox SET next_attempt_ms = ? WHERE id = ?');
      for (const r of rows) lease.run(nowMs + leaseMs, r.id);
      return rows.map((r) => ({
        id: r.id,
        sink: r.sink,
        alert: JSON.parse(r.body) as Alert,
        attempts: r.attempts,
        createdMs: r.created_ms,
        lastError: r.last_error,
      }));
    });
    return txn.immediate();
  }

  async completeOutbox(id: number): Promise<void> {
    this.db.prepare('DELETE FROM notify_outbox WHERE id = ?').run(id);
  }

  async failOutbox(id: number, error: string, nextAttemptMs: number): Promise<void> {
    this.db
      .prepare('UPDATE notify_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_ms = ? WHERE id = ?')
      .run(error.slice(0, MAX_OUTBOX_ERROR), nextAttemptMs, id);
  }

  async expireOutbox(beforeMs: number, maxPerSink = Number.MAX_SAFE_INTEGER): Promise<Record<string, number>> {
    const txn = this.db.transaction((): Record<string, number> => {
      const rows = this.db.prepare('SELECT sink, COUNT(*) AS n FROM notify_outbox WHERE created_ms < ? GROUP BY sink').all(beforeMs) as {
        sink: string;
        n: number;
      }[];
      const out: Record<string, number> = Object.fromEntries(rows.map((r) => [r.sink, r.n]));
      this.db.prepare('DELETE FROM notify_outbox WHERE created_ms < ?').run(beforeMs);
      const over = this.db.prepare('SELECT sink, COUNT(*) AS n FROM notify_outbox GROUP BY sink HAVING COUNT(*) > ?').all(maxPerSink) as {
        sink: string;
        n: number;
      }[];
      for (const { sink, n } of over) {
        this.db.prepare('DELETE FROM notify_outbox WHERE id IN (SELECT id FROM notify_outbox WHERE sink = ? ORDER BY id LIMIT ?)').run(sink, n - maxPerSink);
        out[sink] = (out[sink] ?? 0) + (n - maxPerSink);
      }
      return out;
    });
    return txn.immediate();
  }

  async outboxStats(): Promise<Record<string, { pending: number; oldestMs: number; failing: number }>> {
    const rows = this.db
      .prepare(
        'SELECT sink, COUNT(*) AS n, MIN(created_ms) AS oldest, SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS failing FROM notify_outbox GROUP BY sink',
      )
      .all() as { sink: string; n: number; oldest: number; failing: number }[];
    return Object.fromEntries(rows.map((r) => [r.sink, { pending: r.n, oldestMs: r.oldest, failing: r.failing }]));
  }

  async get(id: string): Promise<Alert | undefined> {
    const row = this.db.prepare('SELECT body FROM alerts WHERE id = ?').get(id) as Row | undefined;
    return row ? SqliteAlertStore.toAlert(row) : undefined;
  }

  private static where(filter: AlertFilter): { where: string[]; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    const anyOf = (column: string, values: readonly string[] | undefined) => {
      if (!values || values.length === 0) return;
      where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    // By rank: the index on (severity_rank, last_seen_ms) then serves the filter in list order.
    const ranks = (list: readonly string[]) => list.map((sev) => SEVERITY_RANK[sev as keyof typeof SEVERITY_RANK] ?? -1);
    if (filter.severity && filter.severity.length > 0) {
      where.push(`severity_rank IN (${filter.severity.map(() => '?').join(', ')})`);
      params.push(...ranks(filter.severity));
    }
    if (filter.minSeverity) {
      where.push('severity_rank >= ?');
      params.push(ranks([filter.minSeverity])[0]);
    }
    anyOf('type', filter.type);
    anyOf('status', filter.status);
    anyOf('namespace', filter.namespace);
    anyOf('source', filter.source);
    anyOf('cluster', filter.cluster);
    if (filter.since) {
      where.push('last_seen_ms >= ?');
      params.push(filter.since.getTime());
    }
    if (filter.until) {
      where.push('last_seen_ms < ?');
      params.push(filter.until.getTime());
    }
    if (filter.text) {
      where.push("search LIKE ? ESCAPE '\\'");
      params.push(likePattern(filter.text));
    }
    return { where, params };
  }

  async list(filter: AlertFilter, cursor: string | undefined, limit: number, sort: AlertSort = DEFAULT_SORT): Promise<AlertPage> {
    const { where, params } = SqliteAlertStore.where(filter);
    const column = (k: SortKey) => SORT_COLUMNS[k];
    if (cursor !== undefined) {
      where.push(
        keysetAfter(sort, decodeCursor(cursor, sort), column, (_k, v) => {
          params.push(v);
          return '?';
        }),
      );
    }
    const sql = `SELECT body FROM alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
                 ORDER BY ${orderBy(sort, column)} LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, limit + 1) as Row[];
    const items = rows.slice(0, limit).map(SqliteAlertStore.toAlert);
    const last = items[items.length - 1];
    return rows.length > limit && last ? { items, nextCursor: cursorAfter(last, sort) } : { items };
  }

  async summary(filter: AlertFilter): Promise<AlertSummary> {
    const { where, params } = SqliteAlertStore.where(filter);
    // A search reads every row's text anyway: one pass over the table beats index lookups per row.
    // Filters on severity, status and time alone are answered from the covering index (the
    // planner would otherwise seek alerts_by_status and read each row).
    const coveredOnly = !filter.text && !filter.type?.length && !filter.namespace?.length && !filter.source?.length && !filter.cluster?.length;
    const from = filter.text ? 'alerts NOT INDEXED' : coveredOnly ? 'alerts INDEXED BY alerts_summary' : 'alerts';
    const sql = `SELECT severity_rank AS rank, status, COUNT(*) AS n FROM ${from} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} GROUP BY severity_rank, status`;
    const rows = this.db.prepare(sql).all(...params) as { rank: number; status: string; n: number }[];
    return summaryOf(rows.map((r) => ({ severity: SEVERITIES[r.rank] ?? 'informational', status: r.status, n: r.n })));
  }

  async trends(sinceMs: number, untilMs: number, top: number): Promise<AlertTrends> {
    const range = 'first_seen_ms >= ? AND first_seen_ms < ?';
    const days = this.db
      .prepare(`SELECT CAST((first_seen_ms - ?) / ${DAY_MS} AS INTEGER) AS day, severity, COUNT(*) AS n FROM alerts WHERE ${range} GROUP BY day, severity`)
      .all(sinceMs, sinceMs, untilMs) as { day: number; severity: string; n: number }[];
    const tally = (expr: string, from = 'alerts') =>
      this.db
        .prepare(`SELECT ${expr} AS tally, COUNT(*) AS n FROM ${from} WHERE ${range} AND ${expr} != '' GROUP BY 1 ORDER BY n DESC, tally LIMIT ?`)
        .all(sinceMs, untilMs, top)
        .map((r) => ({ key: (r as { tally: string }).tally, count: (r as { n: number }).n }));
    return {
      days: trendDays(sinceMs, untilMs, days),
      types: tally('type'),
      users: tally('username'),
      sourceIPs: tally('ip.value', 'alerts, json_each(alerts.source_ips) AS ip'),
    };
  }

  async facets(): Promise<AlertFacets> {
    const values = (column: string) =>
      (
        this.db
          .prepare(`SELECT ${column} AS v, COUNT(*) AS n FROM alerts WHERE ${column} != '' GROUP BY ${column} ORDER BY n DESC, v LIMIT ?`)
          .all(MAX_FACETS) as { v: string }[]
      ).map((r) => r.v);
    return { types: values('type'), namespaces: values('namespace'), clusters: values('cluster') };
  }

  async setStatus(id: string, to: AlertStatus, by: string, reason: string): Promise<Alert> {
    const txn = this.db.transaction((): Alert => {
      const row = this.db.prepare('SELECT body FROM alerts WHERE id = ?').get(id) as Row | undefined;
      if (!row) throw new AlertNotFoundError(id);
      const changed = applyStatusChange(SqliteAlertStore.toAlert(row), to, by, reason);
      this.write(changed, false);
      return changed;
    });
    return txn.immediate();
  }

  async prune(retention: Retention, now = Date.now()): Promise<number> {
    const txn = this.db.transaction((): number => {
      let deleted = 0;
      if (retention.maxAgeMs !== undefined) {
        deleted += this.db.prepare('DELETE FROM alerts WHERE updated_ms < ?').run(now - retention.maxAgeMs).changes;
      }
      if (retention.maxCount !== undefined) {
        deleted += this.db
          .prepare(`DELETE FROM alerts WHERE id IN (SELECT id FROM alerts ORDER BY severity_rank DESC, updated_ms DESC, id LIMIT -1 OFFSET ?)`)
          .run(retention.maxCount).changes;
      }
      this.db.prepare('DELETE FROM alert_claims WHERE created_ms < ?').run(now - CLAIM_TTL_MS);
      this.db
        .prepare('DELETE FROM alert_claims WHERE rowid IN (SELECT rowid FROM alert_claims ORDER BY created_ms DESC, rowid DESC LIMIT -1 OFFSET ?)')
        .run(retention.maxClaims ?? MAX_CLAIMS);
      return deleted;
    });
    return txn.immediate();
  }

  async recordBaseline(entries: readonly BaselineEntry[]): Promise<void> {
    const rows = baselineRows(entries);
    if (rows.length === 0) return;
    const now = Date.now();
    const insert = this.db.prepare(
      `INSERT INTO anomaly_baseline (account, operation, first_seen_ms, stored_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (account, operation) DO UPDATE SET first_seen_ms = excluded.first_seen_ms, stored_ms = excluded.stored_ms
       WHERE excluded.first_seen_ms < anomaly_baseline.first_seen_ms`,
    );
    this.db
      .transaction(() => {
        for (const r of rows) insert.run(r.account, r.operation, r.firstSeenMs, now);
      })
      .immediate();
  }

  async loadBaseline(sinceMs: number, after: BaselineCursor | undefined, limit: number): Promise<{ entries: BaselineEntry[]; nowMs: number }> {
    const nowMs = Date.now();
    const rows = (
      after
        ? this.db
            .prepare(
              `SELECT account, operation, first_seen_ms, stored_ms FROM anomaly_baseline
               WHERE stored_ms >= ? AND (stored_ms, account, operation) > (?, ?, ?) ORDER BY stored_ms, account, operation LIMIT ?`,
            )
            .all(sinceMs, after.storedMs, after.account, after.operation, limit)
        : this.db
            .prepare(
              `SELECT account, operation, first_seen_ms, stored_ms FROM anomaly_baseline
               WHERE stored_ms >= ? ORDER BY stored_ms, account, operation LIMIT ?`,
            )
            .all(sinceMs, limit)
    ) as { account: string; operation: string; first_seen_ms: number; stored_ms: number }[];
    return {
      entries: rows.map((r) => ({ account: r.account, operation: r.operation, firstSeenMs: r.first_seen_ms, storedMs: r.stored_ms })),
      nowMs,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
