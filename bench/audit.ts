// Audit-log scanning throughput against the cost of reading the log at all.
//
// Generates a log of BENCH_AUDIT_EVENTS (default 1 000 000) events with a realistic mix — kubelet
// and controller traffic, leases, RequestReceived stages, long-running watches, kubectl users, a
// few percent suspicious (exec, secrets listed, privileged workloads, credentials in ConfigMaps,
// attack tools) — streamed to a temporary file, never held in memory. Then, in the same run:
//   bare:    read the file, split lines, JSON.parse each (the floor of any JSON-lines reader);
//   bulwark: the `audit scan` path (split, skim or parse, validate, analyse, object checks,
//            de-duplicate).
// Prints events per CPU second for both, the median of their per-round ratios (target ≥ 0.75,
// issue #19; it was 0.6, issue #12), and RSS at 250k/500k/1M events. BENCH_AUDIT_ROUNDS (default
// 3) paired rounds.
//
//   npm run build && npm run bench:audit
//   BENCH_AUDIT_EVENTS=2000000 node dist/bench/audit.js
//   BENCH_AUDIT_KEEP=/tmp/audit-bench.log node dist/bench/audit.js   (keep the generated log)
//   BENCH_AUDIT_NO_ANOMALY=1 node dist/bench/audit.js   (the two service-account rules off, to compare)
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditAnalyser } from '../audit/analyser.js';
import { auditSettingsOf } from '../audit/config.js';
import { Deduplicator } from '../audit/dedup.js';
import type { AuditEvent } from '../audit/event.js';
import { scanAuditInputs } from '../audit/scan.js';
import { defaultConfig } from '../config/load.js';
import { generate } from './audit-log.js';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const TARGET_RATIO = 0.75;
const MARKS = [250_000, 500_000, 1_000_000, 2_000_000, 4_000_000].filter((m) => m <= EVENTS);

async function bare(file: string): Promise<number> {
  let n = 0;
  let carry = '';
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        carry += chunk.toString('utf8', pos);
        break;
      }
      const line = carry ? carry + chunk.toString('utf8', pos, nl) : chunk.toString('utf8', pos, nl);
      carry = '';
      pos = nl + 1;
      if (JSON.parse(line)) n++;
    }
  }
  return n;
}

async function bulwark(file: string, rss: Map<number, number>): Promise<{ events: number; alerts: number; occurrences: number }> {
  // The generated log spans ~5.5 h of event time: the service accounts learn for the first hour.
  const config = {
    ...defaultConfig(),
    ...(process.env.BENCH_AUDIT_NO_ANOMALY ? { audit: { disabled: ['serviceaccount-rare-operation', 'serviceaccount-token-misuse'] } } : {}),
    anomaly: { learningPeriod: '1h' },
  };
  const analyser = new AuditAnalyser({ config });
  const settings = auditSettingsOf(config);
  let alerts = 0;
  let occurrences = 0;
  const dedup = new Deduplicator({
    windowMs: settings.dedupWindowMs,
    mode: 'hold',
    emit: (a) => {
      alerts++;
      occurrences += a.count;
    },
  });
  const analyse = analyser.analyse.bind(analyser);
  const skipLine = analyser.skipLine.bind(analyser);
  let n = 0;
  let next = 0;
  const mark = () => {
    if (++n === MARKS[next]) {
      rss.set(n, process.memoryUsage.rss());
      next++;
    }
  };
  analyser.analyse = (ev: AuditEvent) => {
    mark();
    return analyse(ev);
  };
  // Lines the analysis would not look at are counted without being parsed (audit/skim.ts): events all the same.
  analyser.skipLine = (text: string) => {
    if (!skipLine(text)) return false;
    mark();
    return true;
  };
  const stats = await scanAuditInputs([file], analyser, dedup, { stdin: process.stdin, maxLineBytes: settings.maxLineBytes });
  return { events: stats.events, alerts, occurrences };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-audit-'));
  // BENCH_AUDIT_KEEP=FILE keeps the generated log there (to profile or compare against).
  const file = process.env.BENCH_AUDIT_KEEP ?? join(dir, 'audit.log');
  try {
    const t = performance.now();
    const gen = await generate(file, EVENTS);
    console.log(
      `generated ${EVENTS} events (${((gen.suspicious / EVENTS) * 100).toFixed(1)} % suspicious), ${(statSync(file).size / 1048576).toFixed(0)} MiB, in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    // Rounds alternate the two loops; each round's ratio pairs runs seconds apart, by the process's
    // own CPU time (on shared cores another tenant's load moves wall-clock rates by ±20 % between runs).
    const rounds = Math.max(1, Number(process.env.BENCH_AUDIT_ROUNDS ?? 3));
    const results: { bare: number[]; bulwark: number[]; ratios: number[] } = { bare: [], bulwark: [], ratios: [] };
    let rss = new Map<number, number>();
    let last = { events: 0, alerts: 0, occurrences: 0 };
    const cpuSeconds = (from: NodeJS.CpuUsage) => {
      const u = process.cpuUsage(from);
      return (u.user + u.system) / 1e6;
    };
    for (let round = 0; round < rounds; round++) {
      let c = process.cpuUsage();
      const n = await bare(file);
      const bareRate = n / cpuSeconds(c);
      rss = new Map();
      c = process.cpuUsage();
      last = await bulwark(file, rss);
      const bulwarkRate = last.events / cpuSeconds(c);
      results.bare.push(bareRate);
      results.bulwark.push(bulwarkRate);
      results.ratios.push(bulwarkRate / bareRate);
    }
    const sorted = [...results.ratios].sort((x, y) => x - y);
    const ratio = sorted[Math.floor(sorted.length / 2)]!;
    const range = (xs: number[]) => `${Math.round(Math.min(...xs)).toLocaleString('en')}–${Math.round(Math.max(...xs)).toLocaleString('en')}`;
    console.log(`bare loop (split + JSON.parse): ${range(results.bare)} events per CPU second`);
    console.log(`bulwark audit scan path:        ${range(results.bulwark)} events per CPU second  (${last.alerts} alerts, ${last.occurrences} occurrences)`);
    console.log(
      `ratio: median ${ratio.toFixed(2)} of ${rounds} paired rounds (${sorted.map((r) => r.toFixed(2)).join(', ')}; target ≥ ${TARGET_RATIO}) ${ratio >= TARGET_RATIO ? 'OK' : 'BELOW TARGET'}`,
    );
    console.log(`RSS: ${[...rss].map(([k, v]) => `${k / 1000}k events ${(v / 1048576).toFixed(0)} MiB`).join(', ')}`);
    console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
