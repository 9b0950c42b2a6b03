// Config reload for `bulwark serve`: the config file is read again every `server.configPollInterval`
// (a mounted ConfigMap changes in place within a minute of `kubectl apply`) and at once on SIGHUP.
// A changed file is validated and compiled exactly as at start; a valid one replaces the policy
// config of admission, /mutate and the background scan (which re-evaluates); an invalid one is one
// error line and a metric, and the running config stays. The audit analyser keeps the config it
// started with (its rules, lists and object checks). Sections read only at start (listeners, the
// store, the alerts API, the background scan's own settings) are named in a warning when they
// change: they take a restart.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Counter, type Registry } from 'prom-client';
import { loadConfigFile, type BulwarkConfig } from '../config/load.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { compileConfig, type CompiledConfig } from '../policies/config.js';
import { mutationsOf } from '../webhook/mutate.js';

/** Sections `bulwark serve` reads only at start. */
export const RESTART_ONLY_SECTIONS = ['server', 'store', 'api', 'audit', 'backgroundScan', 'reports', 'intel', 'cluster', 'anomaly', 'notify'] as const;

export interface ConfigReloaderOptions {
  file: string;
  intervalMs: number;
  logger: Logger;
  registry?: Registry | undefined;
  /** The config the process started with. */
  running: BulwarkConfig;
  /** Applies a new, valid config (admission and the background scan read it from now on). */
  apply(config: BulwarkConfig, compiled: CompiledConfig): void;
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

export class ConfigReloader {
  private timer: NodeJS.Timeout | undefined;
  private lastSeen: string;
  private running: BulwarkConfig;
  private readonly reloads: Counter<'result'>;
  private readonly onHup = () => void this.check('SIGHUP');

  constructor(private readonly opts: ConfigReloaderOptions) {
    this.running = opts.running;
    this.lastSeen = this.read() ?? '';
    this.reloads = new Counter({
      name: 'bulwark_config_reloads_total',
      help: 'Config file reloads by result: applied (a valid new config is in use) or failed (invalid or unreadable; the running config stays).',
      labelNames: ['result'] as const,
      registers: opts.registry ? [opts.registry] : [],
    });
  }

  start(): void {
    // 0: no polling, SIGHUP only.
    if (this.opts.intervalMs > 0) {
      this.timer = setInterval(() => void this.check('changed'), this.opts.intervalMs);
      this.timer.unref();
    }
    process.on('SIGHUP', this.onHup);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    process.off('SIGHUP', this.onHup);
  }

  private read(): string | undefined {
    try {
      return digest(fs.readFileSync(this.opts.file, 'utf8'));
    } catch {
      return undefined;
    }
  }

  /**
   * Reloads when the file's content changed since it was last looked at (or always, on SIGHUP).
   * Returns whether a new config was applied.
   */
  check(why: 'changed' | 'SIGHUP'): boolean {
    const seen = this.read();
    if (why === 'changed' && (seen === undefined || seen === this.lastSeen)) return false;
    // A broken file is reported once, not at every poll, until it changes again.
    this.lastSeen = seen ?? this.lastSeen;
    const log = this.opts.logger;
    let config: BulwarkConfig;
    let compiled: CompiledConfig;
    try {
      config = loadConfigFile(this.opts.file);
      compiled = compileConfig(config);
      mutationsOf(compiled);
    } catch (err) {
      this.reloads.inc({ result: 'failed' });
      const message = err instanceof ConfigError ? err.message : `${this.opts.file}: ${(err as Error).message}`;
      log.error({ file: this.opts.file, trigger: why }, `config reload failed, the running config stays: ${message}`);
      return false;
    }
    const needRestart = RESTART_ONLY_SECTIONS.filter((k) => JSON.stringify(config[k] ?? null) !== JSON.stringify(this.running[k] ?? null));
    this.opts.apply(config, compiled);
    this.running = config;
    this.reloads.inc({ result: 'applied' });
    log.info(
      { file: this.opts.file, trigger: why, profiles: config.profiles, defaultAction: config.defaultAction, checks: compiled.checks.length },
      'config reloaded: admission, /mutate and the background scan use it now; the audit analyser keeps the config it started with until a restart',
    );
    if (needRestart.length > 0) {
      log.warn({ sections: needRestart }, `config reload: changes to ${needRestart.join(', ')} take effect after a restart`);
    }
    return true;
  }
}
