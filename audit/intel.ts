// Threat-intelligence lists (`intel.files`): addresses and CIDR blocks, IPv4 and IPv6, one per line,
// `#` (and `;`) comments — the TOR bulk exit list (`torbulkexitlist`), plain address lists,
// CIDR drop lists, and `ExitAddress a.b.c.d …` lines of TOR's exit-addresses file. Files are
// checked for changes (mtime, size, inode) at most every `intel.reloadInterval` of wall time and
// re-read without a restart; a file that has become unreadable keeps its last good contents.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { IpPrefixSet, type PrefixMatch } from '../core/ip-trie.js';

/** Largest intel file read. */
export const MAX_INTEL_FILE_BYTES = 64 * 1024 * 1024;
/** Most entries over all files (a bound on memory: a few tens of MB at worst). */
export const MAX_INTEL_ENTRIES = 2_000_000;
/** Bad lines reported per file (the rest are counted). */
const MAX_REPORTED = 20;
export const DEFAULT_INTEL_RELOAD_MS = 30_000;

export interface IntelMatch {
  ip: string;
  /** The list (file) as the configuration names it. */
  list: string;
  prefix: string;
}

interface FileState {
  /** As written in the config (what alerts and `intel check` name). */
  name: string;
  path: string;
  stamp: string;
  entries: number;
}

export interface IntelOptions {
  files: readonly string[];
  /** Relative paths resolve against this folder (the config file's). */
  baseDir?: string;
  reloadIntervalMs?: number;
  /** A problem found while (re)loading: bad lines, unreadable files on reload. */
  onProblem?: (message: string) => void;
  now?: () => number;
}

function stampOf(path: string): string {
  const st = statSync(path);
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** The other line keywords of TOR's exit-addresses file. */
const TOR_KEYWORDS: ReadonlySet<string> = new Set(['ExitNode', 'Published', 'LastStatus']);

/** Parses one list's text into `set` under `label`; returns the entry count and bad lines. */
export function parseIntelText(text: string, set: IpPrefixSet, label: number, name: string, budget: number): { entries: number; problems: string[] } {
  const problems: string[] = [];
  let entries = 0;
  let bad = 0;
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    const hash = line.search(/[#;]/);
    if (hash >= 0) line = line.slice(0, hash);
    line = line.trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    // TOR's exit-addresses file: `ExitAddress 1.2.3.4 2024-06-01 10:00:00`; other lines of it are skipped.
    let token = fields[0]!;
    if (token === 'ExitAddress' && fields[1]) token = fields[1];
    else if (TOR_KEYWORDS.has(token)) continue;
    if (entries >= budget) {
      problems.push(`${name}:${lineNo}: more than ${MAX_INTEL_ENTRIES} entries over all intel files; the rest is ignored`);
      break;
    }
    const err = set.addText(token, label);
    if (err === undefined) entries++;
    else if (++bad <= MAX_REPORTED) problems.push(`${name}:${lineNo}: ${err}, skipped`);
  }
  if (bad > MAX_REPORTED) problems.push(`${name}: ${bad - MAX_REPORTED} more bad lines skipped`);
  return { entries, problems };
}

/** The configured lists, one prefix trie over all of them, reloaded when a file changes. */
export class IntelLists {
  private set = new IpPrefixSet();
  private files: FileState[];
  private lastCheck: number;
  private readonly interval: number;
  private readonly onProblem: (message: string) => void;
  private readonly now: () => number;
  /** How many times the lists were (re)built. */
  generation = 0;

  /** Loads every file now; a missing or unreadable file at start is a ConfigError naming it. */
  constructor(options: IntelOptions) {
    this.interval = options.reloadIntervalMs ?? DEFAULT_INTEL_RELOAD_MS;
    this.onProblem = options.onProblem ?? (() => {});
    this.now = options.now ?? Date.now;
    this.files = options.files.map((name) => ({
      name,
      path: isAbsolute(name) ? name : resolve(options.baseDir ?? process.cwd(), name),
      stamp: '',
      entries: 0,
    }));
    const built = this.build(true);
    if (built) this.set = built;
    this.lastCheck = this.now();
  }

  get entries(): number {
    return this.set.entries;
  }

  get lists(): ReadonlyArray<{ name: string; path: string; entries: number }> {
    return this.files.map(({ name, path, entries }) => ({ name, path, entries }));
  }

  /** The longest block of any list holding the address, or undefined. */
  lookup(ip: string): IntelMatch | undefined {
    const hit: PrefixMatch | undefined = this.set.lookup(ip);
    return hit ? { ip, list: this.files[hit.label]?.name ?? '?', prefix: hit.prefix } : undefined;
  }

  /** Checks the files when the reload interval has passed (cheap otherwise); true when reloaded. */
  maybeReload(): boolean {
    const now = this.now();
    if (now - this.lastCheck < this.interval) return false;
    this.lastCheck = now;
    return this.reloadIfChanged();
  }

  /** Re-reads every file when any of them changed (mtime, size or inode: a ConfigMap's symlink swap too). */
  reloadIfChanged(): boolean {
    let changed = false;
    for (const f of this.files) {
      try {
        if (stampOf(f.path) !== f.stamp) changed = true;
      } catch {
        if (f.stamp !== 'missing') changed = true;
      }
    }
    if (!changed) return false;
    const built = this.build(false);
    if (built) this.set = built;
    return built !== undefined;
  }

  private build(initial: boolean): IpPrefixSet | undefined {
    const set = new IpPrefixSet();
    let total = 0;
    for (let label = 0; label < this.files.length; label++) {
      const f = this.files[label]!;
      let text: string;
      let stamp: string;
      try {
        stamp = stampOf(f.path);
        const size = statSync(f.path).size;
        if (size > MAX_INTEL_FILE_BYTES) throw new Error(`${size} bytes, over the limit of ${MAX_INTEL_FILE_BYTES / 1024 / 1024} MiB`);
        text = readFileSync(f.path, 'utf8');
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        if (initial) throw new ConfigError(`intel.files: cannot read ${f.name} (${f.path}): ${why}`);
        // Keep the last good lists: a file being replaced must not open a gap.
        this.onProblem(`intel list ${f.name} (${f.path}): cannot read: ${why}; keeping the previous lists`);
        f.stamp = 'missing';
        return undefined;
      }
      const parsed = parseIntelText(text, set, label, f.name, MAX_INTEL_ENTRIES - total);
      for (const p of parsed.problems) this.onProblem(p);
      total += parsed.entries;
      f.stamp = stamp;
      f.entries = parsed.entries;
    }
    this.generation++;
    return set;
  }
}
