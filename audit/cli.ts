// `bulwark audit scan`: audit-log threat detection from files, stdin, or live logs (--follow).
import { filenameOptions, outputOptions, resolveFilesAndOutput, type FileAndOutputFlags } from '../core/cli-flags.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Alert } from '../alerts/model.js';
import { loadConfigFile } from '../config/load.js';
import { type BulwarkConfig } from '../config/load.js';
import { ConfigError } from '../core/errors.js';
import { SEVERITY_RANK, type Severity } from '../core/severity.js';
import { AuditAnalyser } from './analyser.js';
import { CheckpointError, CheckpointUnsafeError } from './checkpoint.js';
import type { checkpointRejectedAlert as CheckpointRejectedAlert } from './checkpoint-alert.js';
import { auditSettingsOf, type AuditSettings } from './config.js';
import { Deduplicator } from './dedup.js';
import { followAuditFiles } from './follow.js';
import type { MalformedLine } from './input.js';
import { countAlert, ndjsonLine, newTally, ProgressBar, summaryText, tableHeader, tableRow, type Writer } from './output.js';
import { scanAuditInputs, type ScanStats } from './scan.js';
import { describe } from '../core/command-descriptions.js';

/** Where the command reads and writes; injectable so that tests run it in-process. */
export interface AuditIO {
  stdout: Writer;
  stderr: Writer;
  stdin: AsyncIterable<Buffer | string>;
  /** Stops `--follow` (default: SIGINT / SIGTERM). */
  signal?: AbortSignal;
}

export interface AuditScanOptions {
  config?: string;
  format?: 'table' | 'ndjson';
  failOn?: Severity;
  follow?: boolean;
  checkpoint?: string;
  metricsFile?: string;
  pollInterval?: number;
}

const AUDIT_FORMATS = ['table', 'ndjson'] as const;

export const EXIT_OK = 0;
export const EXIT_FAIL_ON = 1;
export const EXIT_BAD_INPUT = 2;

/** Inputs this large get a progress bar on a TTY stderr. */
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;
/** Malformed lines printed on stderr; the rest are counted. */
const MAX_PRINTED_MALFORMED = 100;

const ioStorage = new AsyncLocalStorage<Partial<AuditIO>>();

/** Runs `fn` (e.g. `program.parseAsync([...])`) with the audit command's streams replaced. */
export function withAuditIO<T>(io: Partial<AuditIO>, fn: () => T): T {
  return ioStorage.run(io, fn);
}

function currentIO(): AuditIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, ...ioStorage.getStore() };
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description(describe('audit'));
  audit
    .command('scan')
    .description('detect threats in Kubernetes audit logs (JSON lines; .gz read transparently; - for stdin)')
    .argument('[path...]', 'audit log files (plain or gzip), - for stdin')
    .option('-c, --config <file>', 'Bulwark configuration (audit: lists, dedupWindow; actions and exemptions of the object checks)')
    .addOption(filenameOptions('audit log')[0]!)
    .addOption(filenameOptions('audit log')[1]!)
    .addOption(outputOptions(AUDIT_FORMATS)[0]!)
    .addOption(outputOptions(AUDIT_FORMATS)[1]!)
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when an alert at or above this severity was raised').choices(['informational', 'low', 'medium', 'high']),
    )
    .option('--follow', 'keep reading the files as they grow, like tail -F (survives rotation); stop with SIGINT/SIGTERM')
    .option('--checkpoint <file>', 'remember how far each file was read (resume without skipping or re-alerting)')
    .option(
      '--metrics-file <file>',
      'write the scan metrics in the Prometheus text format to this file (node_exporter textfile collector), every 15 s and at the end',
    )
    .addOption(new Option('--poll-interval <ms>', 'how often --follow looks for new lines').argParser(positiveInt).default(250))
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void currentIO().stdout.write(s),
      writeErr: (s) => void currentIO().stderr.write(s),
    })
    .action(async (positional: string[], options: AuditScanOptions & FileAndOutputFlags) => {
      const io = currentIO();
      const { paths, format } = resolveFilesAndOutput(positional, options, AUDIT_FORMATS, 'table', (l) => void io.stderr.write(`bulwark audit scan: ${l}\n`));
      process.exitCode = await runAuditScan(paths, { ...options, format: format as 'table' | 'ndjson' }, io);
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

let checkpointRejectedAlert: typeof CheckpointRejectedAlert = () => {
  throw new Error('checkpoint alert module not loaded');
};

/** The whole command; resolves to the exit code. */
export async function runAuditScan(paths: readonly string[], options: AuditScanOptions, io: AuditIO): Promise<number> {
  const say = (line: string): void => void io.stderr.write(`bulwark audit scan: ${line}\n`);
  if (paths.length === 0) {
    say('no PATH given (an audit log file, or - for stdin)');
    return EXIT_BAD_INPUT;
  }
  if (options.checkpoint && paths.includes('-')) {
    say('--checkpoint needs files: stdin (-) cannot be resumed');
    return EXIT_BAD_INPUT;
  }
  let config: BulwarkConfig;
  let settings: AuditSettings;
  try {
    config = loadConfigFile(options.config);
    settings = auditSettingsOf(config, options.config);
  } catch (err) {
    say(err instanceof ConfigError ? err.message : (err as Error).message);
    return EXIT_BAD_INPUT;
  }

  // prom-client (the checkpoint metric) is loaded only by the runs that keep a checkpoint or a metrics file.
  if (options.checkpoint) checkpointRejectedAlert = (await import('./checkpoint-alert.js')).checkpointRejectedAlert;
  const metrics = options.metricsFile ? await startMetricsFile(options.metricsFile, say) : undefined;
  const format = options.format ?? 'table';
  const tally = newTally();
  const failRank = options.failOn ? SEVERITY_RANK[options.failOn] : Infinity;
  let failHit = false;
  let headerDone = false;
  const emit = (alert: Alert): void => {
    countAlert(tally, alert);
    metrics?.counts.alert(alert.severity);
    if (SEVERITY_RANK[alert.severity] >= failRank) failHit = true;
    if (format === 'ndjson') io.stdout.write(ndjsonLine(alert));
    else {
      if (!headerDone) {
        io.stdout.write(tableHeader());
        headerDone = true;
      }
      io.stdout.write(tableRow(alert));
    }
  };
  let printedMalformed = 0;
  const onMalformed = (m: MalformedLine): void => {
    if (printedMalformed < MAX_PRINTED_MALFORMED) say(`${m.file}:${m.line}: ${m.reason}`);
    else if (printedMalformed === MAX_PRINTED_MALFORMED) say('further malformed lines are counted, not printed');
    printedMalformed++;
  };
  const analyser = new AuditAnalyser({
    config,
    settings,
    onCheckError: (e, ev) => say(`check ${e.policy} failed on audit event ${ev.auditID}: ${e.error.message}`),
  });
  const streaming = options.follow === true;
  const dedup = new Deduplicator({ windowMs: settings.dedupWindowMs, mode: streaming ? 'pass' : 'hold', emit });

  let stats: ScanStats;
  try {
    if (options.follow || options.checkpoint)
      stats = await runFollow(paths, options, io, analyser, dedup, settings, onMalformed, say, (s) => metrics?.track(s));
    else {
      const bar = io.stderr.isTTY ? new ProgressBar(io.stderr) : undefined;
      stats = await scanAuditInputs(paths, analyser, dedup, {
        stdin: io.stdin,
        maxLineBytes: settings.maxLineBytes,
        onMalformed,
        onInputError: (_input, message) => say(message),
        onProgress: bar
          ? (input, events) => {
              if (input.size !== undefined && input.size >= PROGRESS_MIN_BYTES) bar.update(input.name, input.bytesRead(), input.size, events);
            }
          : undefined,
        onInputDone: () => bar?.clear(),
      });
    }
  } catch (err) {
    if (err instanceof CheckpointUnsafeError) {
      // Refused: neither read nor written. Loud: a log line, the metric and an alert.
      emit(checkpointRejectedAlert(options.checkpoint ?? '', err.message, 'unsafe'));
      say(`checkpoint rejected: ${err.message}`);
      await metrics?.stop();
      return EXIT_BAD_INPUT;
    }
    if (err instanceof CheckpointError) {
      say(err.message);
      return EXIT_BAD_INPUT;
    }
    throw err;
  }

  metrics?.track(stats);
  await metrics?.stop();
  const summary = summaryText({ tally, ...stats });
  if (format === 'table') {
    if (tally.alerts === 0) io.stdout.write('No alerts.\n');
    io.stdout.write(summary);
  } else io.stderr.write(summary.replace(/^\n/, ''));
  if (stats.unreadable.length > 0) return EXIT_BAD_INPUT;
  return failHit ? EXIT_FAIL_ON : EXIT_OK;
}

const METRICS_FILE_INTERVAL_MS = 15_000;

/** The metrics file of a run: written now, every 15 s (from the stats being tracked), and at stop. */
async function startMetricsFile(file: string, say: (line: string) => void) {
  const { AuditScanMetrics, writeMetricsFile } = await import('./metrics.js');
  const counts = new AuditScanMetrics();
  let tracked: ScanStats | undefined;
  let failed = false;
  const write = async (): Promise<void> => {
    if (tracked) counts.totals(tracked.events, tracked.malformed);
    try {
      await writeMetricsFile(file);
      failed = false;
    } catch (err) {
      if (!failed) say(`warning: cannot write the metrics file ${file}: ${(err as Error).message}`);
      failed = true;
    }
  };
  await write();
  let writing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    writing = writing.then(write);
  }, METRICS_FILE_INTERVAL_MS);
  timer.unref();
  return {
    counts,
    track(stats: ScanStats | undefined): void {
      if (stats) tracked = stats;
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await writing;
      await write();
    },
  };
}

async function runFollow(
  paths: readonly string[],
  options: AuditScanOptions,
  io: AuditIO,
  analyser: AuditAnalyser,
  dedup: Deduplicator,
  settings: AuditSettings,
  onMalformed: (m: MalformedLine) => void,
  say: (line: string) => void,
  track: (stats: ScanStats) => void = () => undefined,
): Promise<ScanStats> {
  const stats: ScanStats = { inputs: paths.length, events: 0, malformed: 0, malformedSamples: [], unreadable: [] };
  track(stats);
  let signal = io.signal;
  let cleanup = (): void => undefined;
  if (!signal && options.follow) {
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    cleanup = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
    signal = ac.signal;
  }
  const files = paths.filter((p) => p !== '-');
  const tasks: Promise<unknown>[] = [];
  try {
    if (paths.includes('-')) {
      // A pipe follows by itself: read it to its end, each alert printed as it is raised.
      tasks.push(
        scanAuditInputs(['-'], analyser, dedup, { stdin: io.stdin, maxLineBytes: settings.maxLineBytes, onMalformed, onInputError: (_i, m) => say(m) }).then(
          (s) => {
            stats.events += s.events;
            stats.malformed += s.malformed;
            stats.malformedSamples.push(...s.malformedSamples);
            stats.unreadable.push(...s.unreadable);
          },
        ),
      );
    }
    if (files.length > 0) {
      tasks.push(
        followAuditFiles(files, {
          signal,
          once: !options.follow,
          pollMs: options.pollInterval ?? 250,
          checkpointFile: options.checkpoint,
          maxLineBytes: settings.maxLineBytes,
          onEvent: (ev) => {
            stats.events++;
            const alerts = analyser.analyse(ev);
            for (const a of alerts) dedup.add(a);
            return alerts.length;
          },
          onMalformed: (m) => {
            stats.malformed++;
            if (stats.malformedSamples.length < 20) stats.malformedSamples.push(m);
            onMalformed(m);
          },
          onRequestReceived: () => {
            stats.events++;
            analyser.countUnanalysed();
          },
          // Held alerts (a one-shot --checkpoint run) are printed before the final checkpoint is saved.
          beforeFinalSave: () => dedup.flush(),
          onCheckpointRejected: (reason) => {
            say(`warning: checkpoint rejected: ${reason}`);
            dedup.add(checkpointRejectedAlert(options.checkpoint!, reason, /does not match/.test(reason) ? 'mismatch' : 'entry'));
          },
          sessions: { pending: () => analyser.pendingSessions(), restore: (ids) => analyser.restorePendingSessions(ids) },
          log: { info: (m) => say(m), warn: (m) => say(`warning: ${m}`) },
        }),
      );
    }
    await Promise.all(tasks);
  } finally {
    cleanup();
  }
  dedup.flush();
  return stats;
}
