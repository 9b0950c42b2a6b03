// The serving certificate: loaded from files, and reloaded when they change without dropping a
// connection (server.setSecureContext only affects new handshakes).
//
// A Kubernetes Secret volume updates by writing a new timestamped directory and swapping the
// `..data` symlink, so the certificate's own path never sees a write event: the directory is
// watched (fs.watch), and a periodic stat catches what watching misses (some file systems, a
// watcher that died). A half-updated pair (new certificate, old key) fails to load: the current
// context stays until the pair is consistent.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA bundle that client certificates must chain to (mTLS). */
  clientCAFile?: string | undefined;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer | undefined;
}

export const MIN_TLS_VERSION: tls.SecureVersion = 'TLSv1.2';

/** Reads the files and checks that they make a usable context (key matches certificate). Throws with a clear message. */
export function loadTlsMaterial(files: TlsFiles): TlsMaterial {
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  };
  const material: TlsMaterial = {
    cert: read(files.certFile, 'TLS certificate'),
    key: read(files.keyFile, 'TLS key'),
    ca: files.clientCAFile ? read(files.clientCAFile, 'client CA bundle') : undefined,
  };
  try {
    tls.createSecureContext(contextOptions(material));
  } catch (err) {
    throw new Error(`the TLS certificate ${files.certFile} and key ${files.keyFile} do not make a usable pair: ${(err as Error).message}`, { cause: err });
  }
  return material;
}

export function contextOptions(m: TlsMaterial): tls.SecureContextOptions {
  return { cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}), minVersion: MIN_TLS_VERSION };
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca === undefined ? b.ca === undefined : b.ca !== undefined && a.ca.equals(b.ca));
}

function statKey(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

export interface CertificateWatcherOptions {
  files: TlsFiles;
  current: TlsMaterial;
  /** Applies new material (server.setSecureContext). */
  apply(material: TlsMaterial): void;
  onReload?(result: 'success' | 'failure', error?: Error): void;
  /** Periodic stat fallback; 0 disables it. */
  pollIntervalMs: number;
  /** Watch the directories (default true; false leaves the periodic stat alone). */
  watch?: boolean;
  /** Wait after a change event before reading, so that a multi-file update settles. */
  debounceMs?: number;
}

/** Watches the certificate files and applies a consistent new pair when they change. */
export class CertificateWatcher {
  private current: TlsMaterial;
  private watchers: fs.FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stats: string;
  private lastFailure = '';

  constructor(private readonly opts: CertificateWatcherOptions) {
    this.current = opts.current;
    this.stats = this.statAll();
  }

  start(): void {
    const dirs = new Set(this.fileList().map((f) => path.dirname(path.resolve(f))));
    for (const dir of this.opts.watch === false ? [] : dirs) {
      try {
        const w = fs.watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', () => {
          /* the periodic stat still runs */
        });
        this.watchers.push(w);
      } catch {
        // fs.watch is unavailable here: the periodic stat is the only trigger.
      }
    }
    if (this.opts.pollIntervalMs > 0) {
      this.poll = setInterval(() => {
        if (this.statAll() !== this.stats) this.reload();
      }, this.opts.pollIntervalMs);
      this.poll.unref();
    }
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll = this.debounce = undefined;
  }

  /**
   * Reads the files now and applies them when they changed and form a usable pair.
   * Returns true when a new certificate was applied.
   */
  reload(): boolean {
    const stats = this.statAll();
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.opts.files);
    } catch (err) {
      // Report a given failure once: a Secret update in progress fails until it completes.
      const message = (err as Error).message;
      if (message !== this.lastFailure) {
        this.lastFailure = message;
        this.opts.onReload?.('failure', err as Error);
      }
      return false;
    }
    // Only a successful read settles the stats: after a failure the poll tries again.
    this.stats = stats;
    this.lastFailure = '';
    if (sameMaterial(next, this.current)) return false;
    this.opts.apply(next);
    this.current = next;
    this.opts.onReload?.('success');
    return true;
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      // The folder may hold other busy files (a store's WAL): stat first, re-read only on a change.
      if (this.statAll() !== this.stats) this.reload();
    }, this.opts.debounceMs ?? 100);
    this.debounce.unref();
  }

  private fileList(): string[] {
    const f = this.opts.files;
    return [f.certFile, f.keyFile, ...(f.clientCAFile ? [f.clientCAFile] : [])];
  }

  private statAll(): string {
    return this.fileList().map(statKey).join('|');
  }
}
