// crypto-mining-image — flags a container (of any of the three lists) that looks like a
// cryptocurrency miner: either its image's repository path names a known miner
// (lists.minerNames), or a mining-pool address (a scheme of lists.minerPoolSchemes such as
// `stratum+tcp://`, case-insensitive) appears in what the container runs: its command and args,
// literally or after Kubernetes' `$(VAR)` expansion from its env (policies/expansion.ts: a scheme
// split over env entries is reassembled as the kubelet would), an env value itself (a shell's
// `$POOL` reads it at run time), and the exec commands of its lifecycle hooks (postStart, preStop)
// and exec probes (liveness, readiness, startup), literally or expanded. Miners are the most common
// payload of a compromised cluster: they burn the nodes' CPU and the owner's money (MITRE "Resource
// Hijacking").
//
// Where a name may match: only in the repository path — the registry host, the tag and the digest
// are removed first (`localhost:5000/xmrig:v6` → `xmrig`, `docker.io/library/nginx` →
// `library/nginx`). Each `/`-separated component is split into tokens at `-`, `_` and `.`, and a
// miner name matches when its own tokens occur there as a contiguous run: `xmrig/xmrig`,
// `acme/xmr-stak-cpu`, `team/t-rex_miner` and `tools/cpuminer.opt` match; `nginx`,
// `minecraft-server`, `registry.example.com/team/miner-dashboard` (`miner` is not a listed name)
// and `xmrigger` (one token) do not. A name never matches across a `/` (`xmr/stak` is not `xmr-stak`).
import { NO_FINDINGS, compileTokenMatcher, containersOf, describeContainer, joinPath, perList, quoteList, type ContainerRef } from '../helpers.js';
import { containerEnv, expandVars, mayExpand } from '../expansion.js';
import { isRecord } from '../helpers.js';
import { stringMemo } from '../../core/memo.js';
import type { Check, Finding, PodSubject } from '../types.js';

/**
 * The repository path of an image reference, lower-cased: registry host, tag and digest removed.
 * The first component is a registry host when it holds a `.` or a `:` or is `localhost` (the
 * Docker reference grammar).
 */
export function imageRepositoryPath(image: string): string {
  let ref = image.trim();
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const colon = ref.indexOf(':', ref.lastIndexOf('/') + 1);
  if (colon >= 0) ref = ref.slice(0, colon);
  const slash = ref.indexOf('/');
  if (slash >= 0) {
    const first = ref.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') ref = ref.slice(slash + 1);
  }
  return ref.toLowerCase();
}

const minerMatcher = perList(compileTokenMatcher);
const lowerSchemes = perList((list) => list.map((s) => s.toLowerCase()).filter((s) => s !== ''));

/**
 * Verdicts per image string, per miner list: a cluster runs few distinct images, so tokenising
 * each one once is enough. A direct-mapped memo (core/memo.ts): the image of every review is a
 * fresh string, which a Map would hash whole on each lookup. Bounded: IMAGE_MEMO_SLOTS entries,
 * images longer than MAX_MEMO_IMAGE never kept, so hostile input cannot grow it.
 */
const IMAGE_MEMO_SLOTS = 4096;
const MAX_MEMO_IMAGE = 512;
const imageVerdicts = perList((names) => stringMemo((image: string): string | undefined => minerInRepository(image, names), IMAGE_MEMO_SLOTS, MAX_MEMO_IMAGE));

function minerInRepository(image: string, names: readonly string[]): string | undefined {
  const matcher = minerMatcher(names);
  for (const component of imageRepositoryPath(image).split('/')) {
    const hit = matcher.match(component);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

function minerInImage(image: string, names: readonly string[]): string | undefined {
  return image ? imageVerdicts(names)(image) : undefined;
}

/** The pool address in `text` (from the scheme to the next space or quote), or undefined. */
function poolAddress(text: string, schemes: readonly string[]): string | undefined {
  for (const scheme of schemes) {
    const start = schemeAt(text, scheme);
    if (start < 0) continue;
    let end = start + scheme.length;
    while (end < text.length && !' \t\n\r"\'`;,'.includes(text[end]!)) end++;
    return text.slice(start, end);
  }
  return undefined;
}

/**
 * Where a lower-case `scheme` first occurs in `text`, case-insensitively, or -1. Only the few places
 * holding the scheme's needle (its `://`) are compared, so a URL-rich argument is not lower-cased whole.
 */
function schemeAt(text: string, scheme: string): number {
  const needle = schemeNeedle(scheme);
  if (needle === undefined) return text.toLowerCase().indexOf(scheme);
  const offset = scheme.indexOf(needle);
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const start = at - offset;
    if (start >= 0 && start + scheme.length <= text.length && text.slice(start, start + scheme.length).toLowerCase() === scheme) return start;
  }
  return -1;
}

/** A scheme's longest run of ASCII characters that are not letters (`://` of `stratum+tcp://`), or undefined. */
function longestNonLetterRun(scheme: string): string | undefined {
  let best = '';
  for (const run of scheme.split(/[a-z\u0080-\uffff]+/)) if (run.length > best.length) best = run;
  return best || undefined;
}
const needleCache = new Map<string, string | undefined>();
function schemeNeedle(scheme: string): string | undefined {
  let needle = needleCache.get(scheme);
  if (needle === undefined && !needleCache.has(scheme)) {
    needle = longestNonLetterRun(scheme);
    if (needleCache.size >= 1000) needleCache.clear();
    needleCache.set(scheme, needle);
  }
  return needle;
}

/**
 * Substrings every text holding one of the schemes must contain verbatim (before lower-casing),
 * or undefined when some scheme has none. Each is a scheme's longest run of ASCII characters
 * that are not letters (`://` of `stratum+tcp://`): lower-casing maps no other character to one
 * of those, so a text without any of them cannot hold a scheme, and most arguments are passed
 * over with one indexOf instead of a lower-cased copy.
 */
const schemeNeedles = perList((schemes): readonly string[] | undefined => {
  const needles = new Set<string>();
  for (const scheme of schemes) {
    const best = longestNonLetterRun(scheme);
    if (!best) return undefined;
    needles.add(best);
  }
  return [...needles];
});

function mayHoldScheme(text: string, needles: readonly string[] | undefined): boolean {
  if (needles === undefined) return true;
  for (let i = 0; i < needles.length; i++) if (text.indexOf(needles[i]!) >= 0) return true;
  return false;
}

/**
 * The exec command list of a hook or probe (`lifecycle.postStart.exec.command`), scanned when there
 * is one. The holders are read by name below (lifecycle hooks, then the three probes): a read with a
 * key from a table is a megamorphic keyed load on every container of every review.
 */
function scanHandler(scan: Scan, holder: unknown, field: string): void {
  if (!isRecord(holder)) return;
  const exec = holder.exec;
  if (!isRecord(exec) || !Array.isArray(exec.command)) return;
  scanCommands(scan, exec.command, `${field}.exec.command`);
}

/** `stratum+tcp://wallet:pass@pool:3333` → `stratum+tcp://***@pool:3333`: credentials never reach warnings, alerts or logs. */
export function redactUserinfo(address: string): string {
  const scheme = address.indexOf('://');
  if (scheme < 0) return address;
  const rest = address.slice(scheme + 3);
  const slash = rest.search(/[/?#]/);
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf('@');
  if (at < 0) return address;
  return address.slice(0, scheme + 3) + '***' + rest.slice(at);
}

/** What one container's scan needs; built once per container, no closures on the hot path. */
interface Scan {
  ref: ContainerRef;
  schemes: readonly string[];
  needles: readonly string[] | undefined;
  /** The env, resolved only when something refers to it (most containers never do). */
  env: ReturnType<typeof containerEnv> | undefined;
  findings: Finding[] | undefined;
}

function envOf(scan: Scan): ReturnType<typeof containerEnv> {
  return (scan.env ??= containerEnv(scan.ref.container));
}

function reportPool(scan: Scan, address: string, path: string, expanded: boolean, what = 'connects to'): void {
  const ref = scan.ref;
  (scan.findings ??= []).push({
    policy: cryptoMiningImage.id,
    severity: cryptoMiningImage.severity,
    message: `${describeContainer(ref)} ${what} the mining pool ${quoteList([redactUserinfo(address)])} (${path}${expanded ? ', after $(VAR) expansion from env' : ''})`,
    path: joinPath(ref.path, path),
    image: ref.image,
  });
}

/** A command list: each argument literally, or after expansion when it refers to env. */
function scanCommands(scan: Scan, list: readonly unknown[], label: string): void {
  for (let k = 0; k < list.length; k++) {
    const arg: unknown = list[k];
    if (typeof arg !== 'string') continue;
    let address = mayHoldScheme(arg, scan.needles) ? poolAddress(arg, scan.schemes) : undefined;
    let expanded = false;
    if (address === undefined && mayExpand(arg)) {
      const text = expandVars(arg, envOf(scan).vars);
      if (text !== arg && mayHoldScheme(text, scan.needles)) {
        address = poolAddress(text, scan.schemes);
        expanded = address !== undefined;
      }
    }
    if (address !== undefined) reportPool(scan, address, `${label}[${k}]`, expanded);
  }
}

/** Env values: a pool address literally, or after expansion from the entries before it. */
function scanEnv(scan: Scan, envList: readonly unknown[]): void {
  for (let k = 0; k < envList.length; k++) {
    const entry: unknown = envList[k];
    if (!isRecord(entry) || typeof entry.value !== 'string') continue;
    const raw = entry.value;
    let address = mayHoldScheme(raw, scan.needles) ? poolAddress(raw, scan.schemes) : undefined;
    let expanded = false;
    if (address === undefined && mayExpand(raw)) {
      const text = envOf(scan).expanded[k];
      if (text !== undefined && text !== raw && mayHoldScheme(text, scan.needles)) {
        address = poolAddress(text, scan.schemes);
        expanded = address !== undefined;
      }
    }
    if (address !== undefined) {
      const name = typeof entry.name === 'string' ? entry.name : '';
      reportPool(scan, address, `env[${k}].value`, expanded, `sets env ${quoteList([name])} to`);
    }
  }
}

export const cryptoMiningImage: Check<PodSubject> = {
  id: 'crypto-mining-image',
  title: 'Cryptocurrency miner',
  severity: 'high',
  tactics: ['Impact'],
  remediation:
    'Delete the workload and investigate how it was created: rotate the credentials of the user or service account that submitted it and look for other persistence.',
  appliesTo: ['pod'],
  evaluate(subject, ctx) {
    const schemes = lowerSchemes(ctx.lists.minerPoolSchemes);
    const needles = schemeNeedles(schemes);
    const scan: Scan = { ref: undefined as unknown as ContainerRef, schemes, needles, env: undefined, findings: undefined };
    for (const ref of containersOf(subject)) {
      scan.ref = ref;
      scan.env = undefined;
      const miner = minerInImage(ref.image, ctx.lists.minerNames);
      if (miner !== undefined) {
        (scan.findings ??= []).push({
          policy: cryptoMiningImage.id,
          severity: cryptoMiningImage.severity,
          message: `${describeContainer(ref)} runs image ${quoteList([ref.image])}, which names the crypto miner ${quoteList([miner])}`,
          path: joinPath(ref.path, 'image'),
          image: ref.image,
        });
      }
      const container = ref.container;
      if (Array.isArray(container.env)) scanEnv(scan, container.env);
      if (Array.isArray(container.command)) scanCommands(scan, container.command, 'command');
      if (Array.isArray(container.args)) scanCommands(scan, container.args, 'args');
      const lifecycle = container.lifecycle;
      if (isRecord(lifecycle)) {
        scanHandler(scan, lifecycle.postStart, 'lifecycle.postStart');
        scanHandler(scan, lifecycle.preStop, 'lifecycle.preStop');
      }
      scanHandler(scan, container.livenessProbe, 'livenessProbe');
      scanHandler(scan, container.readinessProbe, 'readinessProbe');
      scanHandler(scan, container.startupProbe, 'startupProbe');
    }
    return scan.findings ?? NO_FINDINGS;
  },
};
