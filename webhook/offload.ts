// Large admission reviews are judged on a worker thread, so that one of them never stalls the
// reviews behind it. A 1 MB Pod takes ~25 ms to parse and judge; on the server's thread that is
// 25 ms in which no other review is answered, and any user who may create pods can make the API
// server send one. The worker receives the body's bytes and does everything that grows with them
// (decode, nesting bound, parse, decide or mutate, the alert); the server's thread only reads the
// body, answers, counts, logs and records the alert. Small reviews stay on the server's thread:
// the hand-over (~0.1 ms) costs more than judging them.
//
// Bounded and fail-safe:
// - at most MAX_PENDING_BYTES of bodies wait for the worker; past that, or while the worker is
//   restarting, a large review is judged on the server's thread as before (`submit` declines);
// - a review the worker does not answer within the timeout, or a worker that dies (an exception, the
//   heap limit), is answered 500 — the API server's failurePolicy decides, as for an unreachable
//   webhook — counted and logged; the worker is replaced for the next large review;
// - the worker compiles the same config as the server's thread (posted when it changes, before the
//   review that uses it) and asks the server's thread for the namespace's `bulwark.io/mode` label,
//   so both threads decide alike.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/log.js';
import { projectRoot } from '../core/paths.js';
import type { Alert } from '../alerts/model.js';
import type { Action, CompiledConfig, PolicyConfig } from '../policies/config.js';
import type { DecisionSummary, MutationAnswer } from './answer.js';
import type { NamespaceModes } from './decide.js';

/** Bodies of at least this many bytes are judged on the worker (default). */
export const DEFAULT_OFFLOAD_THRESHOLD = 256 * 1024;
/** Bodies waiting for the worker, in bytes, at most; past that large reviews are judged in place. */
export const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** A review the worker has not answered by then is answered 500 and the worker replaced. */
export const DEFAULT_OFFLOAD_TIMEOUT_MS = 8000;
/** After a worker died, large reviews are judged in place for this long before a new one is started. */
const RESTART_DELAY_MS = 1000;
/** The worker's old-generation heap (default): a 6 MiB body (the limit) parses into well under this. */
export const DEFAULT_WORKER_HEAP_MB = 512;

export interface OffloadJob {
  id: number;
  route: 'validate' | 'mutate';
  routeMode: Action | undefined;
  body: Uint8Array;
  serverNamespace: string;
  /** Build the alert of a decision with findings (a sink will record it). */
  alerts: boolean;
  /** The decision's time (ms since the epoch), for the alert. */
  now: number;
}

export type ToWorker = { type: 'config'; config: PolicyConfig } | { type: 'job'; job: OffloadJob } | { type: 'mode'; id: number; mode: Action | undefined };

/** The request's facts the server logs. */
export interface ReviewFacts {
  uid: string;
  operation: string;
  dryRun: boolean;
  name: string;
  username: string;
}

export type OffloadResult =
  /** The body is not a review (400, 413-class reasons as the body reader names them). */
  | { type: 'refused'; id: number; status: number; reason: 'bad-request' | 'not-admission-review'; message: string }
  | {
      type: 'validated';
      id: number;
      facts: ReviewFacts;
      decision: DecisionSummary;
      enforceRelabel: string | undefined;
      internalError?: unknown;
      alert?: Alert;
    }
  | { type: 'mutated'; id: number; facts: ReviewFacts; answer: MutationAnswer }
  /** The worker died or did not answer in time (set by the server's side, never sent). */
  | { type: 'failed'; id: number; message: string };

export type FromWorker = OffloadResult | { type: 'mode?'; id: number; namespace: string };

interface Pending {
  bytes: number;
  modes: NamespaceModes;
  timer: NodeJS.Timeout;
  done: (result: OffloadResult) => void;
}

export interface ReviewOffloadOptions {
  logger: Logger;
  /** Bodies of at least this many bytes go to the worker (default 256 KiB). */
  threshold?: number;
  timeoutMs?: number;
  maxPendingBytes?: number;
  /** The worker's old-generation heap limit in MiB (default 512): past it the worker dies, not the server. */
  heapMb?: number;
  /** The worker's script (default: review-worker.js beside this module, or in dist/ under the sources). */
  script?: URL | string;
}

/** Where the compiled worker is: beside this module after the build; in dist/ when this runs from the sources (vitest). */
function workerScript(): URL | string {
  const beside = new URL('./review-worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(beside))) return beside;
  return path.join(projectRoot(), 'dist', 'webhook', 'review-worker.js');
}

/** The review worker: one thread, started now, replaced when it dies. */
export class ReviewOffload {
  readonly threshold: number;
  private readonly timeoutMs: number;
  private readonly maxPendingBytes: number;
  private readonly script: URL | string;
  private worker: Worker | undefined;
  private sentConfig: PolicyConfig | undefined;
  private unsendable: PolicyConfig | undefined;
  private readonly pending = new Map<number, Pending>();
  private pendingBytes = 0;
  private nextId = 1;
  private restartAfter = 0;
  private closed = false;

  constructor(private readonly opts: ReviewOffloadOptions) {
    this.threshold = opts.threshold ?? DEFAULT_OFFLOAD_THRESHOLD;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_OFFLOAD_TIMEOUT_MS;
    this.maxPendingBytes = opts.maxPendingBytes ?? MAX_PENDING_BYTES;
    this.script = opts.script ?? workerScript();
    this.start();
  }

  /**
   * Hands a body to the worker; `done` is called once with its result. False (and `done` never
   * called) when the worker cannot take it now: the caller judges it in place.
   */
  submit(job: Omit<OffloadJob, 'id'>, compiled: CompiledConfig, modes: NamespaceModes, done: (result: OffloadResult) => void): boolean {
    const bytes = job.body.byteLength;
    const worker = this.closed ? undefined : (this.worker ?? (Date.now() >= this.restartAfter ? this.start() : undefined));
    if (!worker || this.pendingBytes + bytes > this.maxPendingBytes) return false;
    const id = this.nextId++;
    if (this.sentConfig !== compiled.config) {
      try {
        worker.postMessage({ type: 'config', config: compiled.config } satisfies ToWorker);
      } catch (err) {
        // A config that cannot cross threads (never one read from a file): judge on this thread.
        if (this.unsendable !== compiled.config)
          this.opts.logger.error({ err }, 'the config cannot be posted to the review worker; large reviews are judged in place');
        this.unsendable = compiled.config;
        return false;
      }
      this.sentConfig = compiled.config;
    }
    // The bytes are copied into the message (the body may share its memory with other buffers).
    // Posted before it is tracked: a post that throws leaves nothing behind. The answer cannot
    // arrive before this returns (messages are delivered on a later turn of this thread's loop).
    worker.postMessage({ type: 'job', job: { ...job, id } } satisfies ToWorker);
    const timer = setTimeout(() => this.timedOut(id), this.timeoutMs);
    timer.unref();
    this.pending.set(id, { bytes, modes, timer, done });
    this.pendingBytes += bytes;
    return true;
  }

  /** Stops the worker; reviews still waiting for it are answered 500. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll('the review worker stopped');
    if (worker) await worker.terminate();
  }

  private start(): Worker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(this.script, {
        resourceLimits: { maxOldGenerationSizeMb: this.opts.heapMb ?? DEFAULT_WORKER_HEAP_MB },
        stdout: false,
        stderr: false,
      });
    } catch (err) {
      this.opts.logger.error({ err }, 'cannot start the review worker; large reviews are judged in place');
      this.restartAfter = Date.now() + RESTART_DELAY_MS;
      return undefined;
    }
    worker.unref();
    worker.on('message', (m: FromWorker) => this.received(worker, m));
    worker.on('error', (err) => this.died(worker, `the review worker failed: ${err.message}`, err));
    worker.on('exit', (code) => this.died(worker, `the review worker exited (code ${code})`));
    this.worker = worker;
    this.sentConfig = undefined;
    return worker;
  }

  private received(worker: Worker, m: FromWorker): void {
    if (m.type === 'mode?') {
      const p = this.pending.get(m.id);
      worker.postMessage({ type: 'mode', id: m.id, mode: p && typeof m.namespace === 'string' ? p.modes.modeOf(m.namespace) : undefined } satisfies ToWorker);
      return;
    }
    this.settle(m.id, m);
  }

  private settle(id: number, result: OffloadResult): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.pendingBytes -= p.bytes;
    clearTimeout(p.timer);
    p.done(result);
  }

  private failAll(message: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, { type: 'failed', id, message });
  }

  private died(worker: Worker, message: string, err?: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.restartAfter = Date.now() + RESTART_DELAY_MS;
    if (!this.closed)
      this.opts.logger.error({ err, pending: this.pending.size }, `${message}; the reviews it held are answered 500 and a new worker takes the next ones`);
    this.failAll(message);
    void worker.terminate();
  }

  private timedOut(id: number): void {
    const worker = this.worker;
    if (!this.pending.has(id) || !worker) return this.settle(id, { type: 'failed', id, message: 'the review worker is gone' });
    // A worker that does not answer in time is stuck on something: replace it with the reviews it held.
    this.died(worker, `the review worker did not answer within ${this.timeoutMs} ms`);
  }
}
