// `bulwark anomaly status`: what the service-account baseline (serviceaccount-rare-operation,
// serviceaccount-token-misuse) learned, read from the alert store `serve` keeps it in.
// Exit 0 done, 1 the store holds no such account, 2 usage, configuration or store error.
import fs from 'node:fs';
import type { Command } from 'commander';
import { AnomalyBaseline, anomalySettingsOf, readBaseline, type AccountSummary } from '../audit/anomaly.js';
import { parseStoreSettings } from '../alerts/settings.js';
import { loadConfigFile } from '../config/load.js';
import { sqlitePath, storeKind, redactUrl } from '../config/store-url.js';
import { formatDuration } from '../core/duration.js';
import { describe } from '../core/command-descriptions.js';
import { outputOptions } from '../core/cli-flags.js';

interface StatusOptions {
  config?: string;
  store?: string;
  account?: string;
  output?: 'table' | 'json';
  format?: 'table' | 'json';
}

type State = 'learning' | 'judging' | 'saturated';

function stateOf(s: AccountSummary, now: number): State {
  return s.saturated ? 'saturated' : now < s.learningEndsMs ? 'learning' : 'judging';
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

export function registerAnomaly(program: Command): void {
  const anomaly = program.command('anomaly').description(describe('anomaly'));
  const status = anomaly
    .command('status')
    .description("each service account's baseline: learning, judging or saturated, and its operations (--account)")
    .option('-c, --config <file>', 'the Bulwark configuration (store.url, anomaly:)')
    .option('--store <url>', 'the alert store (default: BULWARK_STORE_URL, else store.url of the configuration, else sqlite:./data/bulwark.db)')
    .option('--account <name>', 'one account (system:serviceaccount:NAMESPACE:NAME): list the operations it learned');
  for (const o of outputOptions(['table', 'json'])) status.addOption(o);
  status.action(async (opts: StatusOptions) => {
    process.exitCode = await runStatus(opts);
  });
}

async function runStatus(opts: StatusOptions): Promise<number> {
  const fail = (message: string): number => {
    process.stderr.write(`bulwark anomaly status: ${message}\n`);
    return 2;
  };
  const format = opts.output ?? opts.format ?? 'table';
  let settings;
  let url: string;
  try {
    const config = loadConfigFile(opts.config);
    settings = anomalySettingsOf(config, opts.config);
    url = opts.store ?? (process.env.BULWARK_STORE_URL || undefined) ?? parseStoreSettings(config.store, opts.config).url;
    // A missing SQLite file is named, not created empty: `serve` makes it.
    if (storeKind(url) === 'sqlite' && !fs.existsSync(sqlitePath(url)))
      return fail(`no alert store at ${sqlitePath(url)} (bulwark serve creates it; pass --store or -c)`);
  } catch (err) {
    return fail((err as Error).message);
  }
  const { openAlertStore } = await import('../alerts/store-factory.js');
  const baseline = new AnomalyBaseline(settings);
  try {
    const store = await openAlertStore(url);
    try {
      await readBaseline(baseline, store);
    } finally {
      await store.close();
    }
  } catch (err) {
    return fail(`cannot read the baseline from ${redactUrl(url)}: ${(err as Error).message}`);
  }
  const now = Date.now();
  const out = (s: string) => process.stdout.write(s);
  if (opts.account !== undefined) {
    const summary = baseline.summaries().find((s) => s.account === opts.account);
    if (!summary) {
      process.stderr.write(
        `bulwark anomaly status: no baseline for ${JSON.stringify(opts.account)} (accounts are named system:serviceaccount:NAMESPACE:NAME)\n`,
      );
      return 1;
    }
    const operations = baseline.operationsOf(summary.account) ?? [];
    const state = stateOf(summary, now);
    if (format === 'json') {
      out(JSON.stringify({ ...view(summary, state), operations }, null, 2) + '\n');
    } else {
      out(`${summary.account}: ${state}, learning ${iso(summary.learningSinceMs)} – ${iso(summary.learningEndsMs)}, ${operations.length} operations\n`);
      for (const op of operations) out(`  ${op}\n`);
    }
    return 0;
  }
  const summaries = baseline.summaries();
  const rows = summaries.map((s) => view(s, stateOf(s, now)));
  if (format === 'json') {
    out(
      JSON.stringify(
        {
          learningPeriodMs: settings.learningPeriodMs,
          maxOperationsPerAccount: settings.maxOperationsPerAccount,
          maxAccounts: settings.maxAccounts,
          accounts: rows,
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const head = ['ACCOUNT', 'STATE', 'LEARNING SINCE', 'LEARNING ENDS', 'OPERATIONS'];
  const table = [head, ...rows.map((r) => [r.account, r.state, r.learningSince, r.learningEnds, String(r.operations)])];
  const widths = head.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) out(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n');
  const count = (st: State) => rows.filter((r) => r.state === st).length;
  out(
    `${rows.length} account${rows.length === 1 ? '' : 's'} (${count('learning')} learning, ${count('judging')} judging, ${count('saturated')} saturated); learning period ${formatDuration(settings.learningPeriodMs)}, at most ${settings.maxOperationsPerAccount} operations an account\n`,
  );
  return 0;
}

function view(s: AccountSummary, state: State) {
  return { account: s.account, state, learningSince: iso(s.learningSinceMs), learningEnds: iso(s.learningEndsMs), operations: s.operations };
}
