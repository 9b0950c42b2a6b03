// One audit event in, alert occurrences out (each with count 1; de-duplication is dedup.ts's job).
//
// Stages: a request is analysed once, at its first ResponseStarted, ResponseComplete or Panic
// event. Long-running requests (exec, attach, port-forward, proxy, watch) log ResponseStarted when
// the session opens and ResponseComplete when it ends; the session alerts when it opens and its
// ResponseComplete is skipped. A 401 is a lone ResponseStarted with `user: {}`. RequestReceived
// never alerts (it has no response yet). Which requests are pending is a bounded FIFO set.
//
// A request is keyed on itself, not on its auditID alone: the API server takes auditID from the
// client's `Audit-ID` header, so an attacker can send a watch, an exec and a secret listing under
// one chosen ID. The key is auditID + verb + requestURI + user (and impersonated user) +
// requestReceivedTimestamp, which every stage of one request repeats and two requests do not share.
import { createHash } from 'node:crypto';
import { fingerprintOf, newAlert, shortHash, type Alert, type AlertUser } from '../alerts/model.js';
import { compileConfig, exemptionReason, isExcepted, type CompiledConfig } from '../policies/config.js';
import { globToRegExp } from '../core/glob.js';
import { type BulwarkConfig } from '../config/load.js';
import { evaluateSubject, MAX_FINDINGS_PER_CHECK, type CheckError } from '../policies/evaluate.js';
import { toSubject } from '../policies/subject.js';
import { isRecord } from '../core/record.js';
import { compileTampering, tamperingSettingsOf } from '../policies/tampering.js';
import { type Finding } from '../policies/types.js';
import { SEVERITY_RANK, type Severity } from '../core/severity.js';
import { auditSettingsOf, compileAuditSettings, type AuditSettings, type CompiledAuditSettings } from './config.js';
import {
  effectiveUser,
  eventTime,
  groupsOf,
  isDryRun,
  kindOfResource,
  parseTimestamp,
  refVersion,
  requestURIOf,
  usernameOf,
  verbOf,
  type AuditEvent,
} from './event.js';
import { objectOfWrite } from './objects.js';
import { IntelLists } from './intel.js';
import { AnomalyBaseline, anomalySettingsOf, CHANGES, humanClientOf, isServiceAccountName, operationOf } from './anomaly.js';
import { listOf } from '../policies/lists.js';
import { stringMemo } from '../core/memo.js';
import { evictionBatch, oldestKeys } from '../core/evict.js';
import { parseSection } from '../config/load.js';
import { vapFindings } from './vap.js';
import { AUDIT_RULES } from './rules/index.js';
import { isRequestReceivedLine, skimLine, type SkimmedLine } from './skim.js';
import { actor, qualified, type AuditFacts, type AuditRule, type GateFacts, type RuleContext, type RuleRequirement } from './rules/types.js';

/** How many pending/alerted requests are remembered (oldest forgotten first). */
export const DEFAULT_MAX_TRACKED_IDS = 100_000;

// Maps, not object literals: a verb is untrusted text, and `constructor` must not find Object.prototype's.
const WRITE_VERBS: ReadonlyMap<string, string> = new Map([
  ['create', 'created'],
  ['update', 'updated'],
  ['patch', 'patched'],
]);
const OPERATION: ReadonlyMap<string, string> = new Map([
  ['create', 'CREATE'],
  ['update', 'UPDATE'],
  ['patch', 'UPDATE'],
]);

export interface AnalyserOptions {
  /** The Bulwark configuration: `audit:` settings, and actions/lists/exemptions for the object checks. */
  config: BulwarkConfig;
  /** Already-validated audit settings (default: parsed from config.audit). */
  settings?: AuditSettings;
  maxTrackedIDs?: number;
  /** Where Bulwark runs (POD_NAMESPACE): its namespace for bulwark-tampering when `tampering.namespace` is unset. */
  serverNamespace?: string;
  /** Threat-intelligence lists (default: built from `intel.files` of the config). */
  intel?: IntelLists;
  /** A problem with the intel lists (a bad line, a file unreadable on reload); default: stderr. */
  onIntelProblem?: (message: string) => void;
  /**
   * The service-account baseline (default: a new one from `anomaly:`, unless
   * serviceaccount-rare-operation is disabled); `serve` shares it with BaselineSync.
   */
  anomaly?: AnomalyBaseline | null;
  /** Called when a policy check throws on an audit object (the other checks still run). */
  onCheckError?: (error: CheckError, event: AuditEvent) => void;
}

/** A rule and the mask of its `requires`. */
interface RuleEntry {
  rule: AuditRule;
  needs: number;
}

/**
 * What a skimmed line's facts hold for `event`: any look at it — a field, `in`, its keys — throws
 * NOT_READ (the line is then parsed).
 */
const NOT_READ = new Error('the event of a skimmed line is not read');
const notRead = (): never => {
  throw NOT_READ;
};
const UNREAD = new Proxy({} as AuditEvent, { get: notRead, has: notRead, ownKeys: notRead, getOwnPropertyDescriptor: notRead });

/** Whether a rule judged on facts fires on a skimmed line's facts (reading the event means it would: it describes a match). */
function firesOnFacts(rule: AuditRule, f: AuditFacts, ctx: RuleContext): boolean {
  try {
    return rule.match(f, ctx) !== undefined;
  } catch (err) {
    if (err === NOT_READ) return true;
    throw err;
  }
}

/** Whether a rule may fire on an event with these facts, which meets the requirements `has` (a mask). */
function applies(e: RuleEntry, has: number, f: GateFacts, ctx: RuleContext): boolean {
  return (e.needs & has) === e.needs && !(f.dryRun && e.rule.skipDryRun) && !(e.rule.quiet !== undefined && e.rule.quiet(f, ctx));
}

const REQUIREMENT: Readonly<Record<RuleRequirement, number>> = {
  success: 1,
  change: 2,
  impersonated: 4,
  serviceAccount: 8,
  anonymous: 16,
  intel: 32,
  attackTool: 64,
};

function requirementMask(requires: readonly RuleRequirement[] | undefined): number {
  let mask = 0;
  for (const r of requires ?? []) mask |= REQUIREMENT[r];
  return mask;
}

const CHANGE_VERBS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const ANONYMOUS = 'system:anonymous';

/** Changes to the tracked requests: [request key, state before]. */
export type AnalyserJournal = Array<[string, 'started' | 'alerted' | undefined]>;

export interface AnalyserStats {
  events: number;
  /** Events analysed (first ResponseStarted/ResponseComplete/Panic of their request). */
  analysed: number;
  occurrences: number;
}

/** The answer of most events: one shared, frozen empty list (no allocation per event). */
const NONE: readonly Alert[] = Object.freeze([]);

/** Keys longer than this are hashed, so that tracked memory stays bounded whatever the URI or ID length. */
const MAX_PLAIN_KEY = 512;

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * What identifies one request across its stages: auditID, verb, requestURI, user, impersonated
 * user and requestReceivedTimestamp (the API server sets the last one; the client cannot reuse it).
 */
export function requestKey(ev: AuditEvent): string {
  const impersonated = isRecord(ev.impersonatedUser) ? usernameOf(ev.impersonatedUser) : '';
  const user = isRecord(ev.user) ? usernameOf(ev.user) : '';
  const rest = `${verbOf(ev)}\u0000${requestURIOf(ev)}\u0000${user}\u0000${impersonated}\u0000${str(ev.requestReceivedTimestamp)}`;
  // The auditID part leads, prefixed with its length, so that auditIDOfKey() reads it back exactly
  // (a NUL in it included) from a plain or a hashed key.
  const id = auditIDPart(ev.auditID);
  const head = `${id.length}:${id}\u0000`;
  return head.length + rest.length <= MAX_PLAIN_KEY ? head + rest : head + 'sha256:' + createHash('sha256').update(rest).digest('hex');
}

/** The auditID as the first part of a request key, and the auditID index's key: itself, or its hash when long. */
function auditIDPart(auditID: unknown): string {
  const id = str(auditID);
  return id.length <= 128 ? id : 'sha256:' + createHash('sha256').update(id).digest('hex');
}

/** Parts dropped before the filter is rebuilt, however few are tracked. */
const MIN_STALE_BEFORE_REBUILD = 4096;

/** Bits of the tracked-auditID filter: 128 KiB, a few percent of them set at the 100,000 tracked requests. */
const ID_FILTER_BITS = 1 << 20;

/** The idFilter bit of an auditID part: its length and last 12 characters (a UUID's most varied). */
function idBit(part: string): number {
  const n = part.length;
  let h = n;
  for (let i = n > 12 ? n - 12 : 0; i < n; i++) h = Math.imul(h, 31) + part.charCodeAt(i);
  return (h ^ (h >>> 13)) & (ID_FILTER_BITS - 1);
}

/** The auditID part of a request key (a key from an older checkpoint, without one, is its own). */
function auditIDOfKey(key: string): string {
  const colon = key.indexOf(':');
  const length = colon > 0 && colon <= 3 ? Number(key.slice(0, colon)) : NaN;
  if (!Number.isInteger(length) || key.charCodeAt(colon + 1 + length) !== 0) return key;
  return key.slice(colon + 1, colon + 1 + length);
}

export class AuditAnalyser {
  readonly settings: CompiledAuditSettings;
  readonly stats: AnalyserStats = { events: 0, analysed: 0, occurrences: 0 };
  private readonly compiled: CompiledConfig;
  private readonly rules: AuditRule[];
  /**
   * The rules to run (rulesFor), in catalogue order: by resource (`pods`), by resource and a
   * subresource some rule names (`pods/exec`); resources no rule lists get `anyResourceRules`.
   */
  private readonly rulesByResource = new Map<string, RuleEntry[]>();
  private readonly rulesBySubresource = new Map<string, Map<string, RuleEntry[]>>();
  private readonly anyResourceRules: RuleEntry[];
  private readonly ctx: RuleContext;
  /** request key → 'started' (a later ResponseComplete is skipped) or 'alerted' (a replay is skipped). */
  private readonly tracked = new Map<string, 'started' | 'alerted'>();
  /**
   * auditID part → how many tracked keys start with it. Most events' auditID has none, and then
   * their request key is never built (it was the analyser's largest single cost).
   */
  private readonly trackedIDs = new Map<string, number>();
  /**
   * A filter over the parts in `trackedIDs`, one bit each (idBit): an event whose bit is clear has
   * no tracked request, and is known so without hashing its auditID (a fresh string in every event).
   * A part that is no longer tracked leaves its bit set until the filter is rebuilt from
   * `trackedIDs`, once as many parts were dropped as are kept (so a rebuild is paid for by them).
   */
  private readonly idFilter = new Uint32Array(ID_FILTER_BITS >>> 5);
  private idFilterStale = 0;
  private readonly maxTracked: number;
  private readonly onCheckError: AnalyserOptions['onCheckError'];
  /** Whether a user agent names an attack tool; which human client it names (both bounded memos). */
  private readonly toolAgent: (ua: string) => boolean;
  private readonly humanClient: (ua: string) => string | undefined;
  /** The service-account baseline; null when serviceaccount-rare-operation is off. */
  readonly anomaly: AnomalyBaseline | null;
  /** Whether a rule requires `attackTool` (pentest-tool is on): only then is the user agent looked up. */
  private readonly toolRule: boolean;
  /** Whether a service account's requests are looked at (either service-account rule is on). */
  private readonly watchAccounts: boolean;
  /** `cluster.name` of the config, on every alert. */
  private readonly cluster: string | undefined;

  constructor(options: AnalyserOptions) {
    const settings = options.settings ?? auditSettingsOf(options.config);
    this.settings = compileAuditSettings(settings);
    // The object checks are the defender set's, with the user's actions, lists and exemptions.
    this.compiled = compileConfig({ ...options.config, profiles: ['defender'] });
    this.compiled.checks = this.compiled.checks.filter((c) => !this.settings.disabled.has(c.id));
    this.rules = AUDIT_RULES.filter((r) => !this.settings.disabled.has(r.id));
    const entry = (rule: AuditRule): RuleEntry => ({ rule, needs: requirementMask(rule.requires) });
    const covers = (r: AuditRule, resource: string, subresource: string): boolean =>
      r.resources === undefined || r.resources.includes(resource) || (subresource !== '' && r.resources.includes(`${resource}/${subresource}`));
    this.anyResourceRules = this.rules.filter((r) => r.resources === undefined).map(entry);
    for (const listed of new Set(this.rules.flatMap((r) => r.resources ?? []))) {
      const slash = listed.indexOf('/');
      const resource = slash < 0 ? listed : listed.slice(0, slash);
      if (!this.rulesByResource.has(resource)) this.rulesByResource.set(resource, this.rules.filter((r) => covers(r, resource, '')).map(entry));
      if (slash < 0) continue;
      const subresource = listed.slice(slash + 1);
      let bySub = this.rulesBySubresource.get(resource);
      if (bySub === undefined) this.rulesBySubresource.set(resource, (bySub = new Map()));
      bySub.set(subresource, this.rules.filter((r) => covers(r, resource, subresource)).map(entry));
    }
    this.toolRule = this.rules.some((r) => r.requires?.includes('attackTool'));
    const serverNamespace = options.serverNamespace ?? (typeof options.config.server?.namespace === 'string' ? options.config.server.namespace : undefined);
    const globCache = new Map<readonly string[], RegExp>();
    this.ctx = {
      settings: this.settings,
      lists: this.compiled.config.lists,
      matches(globs, value) {
        let re = globCache.get(globs);
        if (re === undefined) {
          re = globs.length ? new RegExp(globs.map((g) => globToRegExp(g).source).join('|')) : /(?!)/;
          globCache.set(globs, re);
        }
        return value !== '' && re.test(value);
      },
      tampering: compileTampering(tamperingSettingsOf(options.config.tampering), serverNamespace),
      defaultAction: options.config.defaultAction,
    };
    const intelFiles = options.config.intel?.files ?? [];
    const intel =
      options.intel ??
      (intelFiles.length > 0 && !this.settings.disabled.has('threat-intel-source')
        ? new IntelLists({
            files: intelFiles,
            baseDir: options.config.configDir,
            reloadIntervalMs: options.config.intel?.reloadInterval !== undefined ? parseSection('intel', options.config.intel).reloadInterval : undefined,
            onProblem: options.onIntelProblem ?? ((m) => process.stderr.write(`bulwark: ${m}\n`)),
          })
        : undefined);
    if (intel) this.ctx.intel = intel;
    this.cluster = typeof options.config.cluster?.name === 'string' ? options.config.cluster.name : undefined;
    const tools = this.settings.attackTools;
    this.toolAgent = stringMemo((ua) => {
      const lower = ua.toLowerCase();
      return tools.some((t) => lower.includes(t));
    });
    const clients = listOf(this.ctx.lists, 'humanClientUserAgents');
    this.humanClient = stringMemo((ua) => humanClientOf(ua, clients));
    this.anomaly =
      options.anomaly !== undefined
        ? options.anomaly
        : this.settings.disabled.has('serviceaccount-rare-operation')
          ? null
          : new AnomalyBaseline(anomalySettingsOf(options.config));
    this.watchAccounts = this.anomaly !== null || !this.settings.disabled.has('serviceaccount-token-misuse');
    this.maxTracked = options.maxTrackedIDs ?? DEFAULT_MAX_TRACKED_IDS;
    this.onCheckError = options.onCheckError;
  }

  /**
   * The alerts one event raises (usually none). With a journal, the changes to the tracked
   * auditIDs are recorded so that `rollback` can undo them (a batch whose alerts were not recorded).
   */
  analyse(ev: AuditEvent, journal?: AnalyserJournal): readonly Alert[] {
    this.stats.events++;
    const stage = ev.stage;
    if (stage === 'RequestReceived') return NONE;
    // The key is built only when this auditID has a tracked key, or the request is to be tracked.
    let id = stage === 'ResponseStarted' || this.mayBeTracked(auditIDPart(ev.auditID)) ? requestKey(ev) : undefined;
    const prior = id === undefined ? undefined : this.tracked.get(id);
    if (stage === 'ResponseStarted') {
      if (prior !== undefined) return NONE;
      journal?.push([id!, prior]);
      this.track(id!, 'started');
    } else if (prior !== undefined) {
      // The ResponseComplete/Panic of a session analysed at ResponseStarted, or a replayed event.
      journal?.push([id!, prior]);
      this.untrack(id!);
      return NONE;
    }
    this.stats.analysed++;
    const alerts = this.evaluate(ev);
    if (alerts.length > 0 && stage !== 'ResponseStarted') {
      id ??= requestKey(ev);
      journal?.push([id, prior]);
      this.track(id, 'alerted');
    }
    this.stats.occurrences += alerts.length;
    return alerts;
  }

  /** An event the reader knew would not be analysed (a RequestReceived line left unparsed): counted as analyse would. */
  countUnanalysed(): void {
    this.stats.events++;
  }

  /**
   * A line the analysis is known not to need, counted as `analyse` would count its event: a
   * RequestReceived stage, or a completed request (skimLine) that no rule, object check, baseline
   * or tracked session would look at — the same decisions `evaluate` takes, on the same facts read
   * from the line. False: parse the line and `analyse` it. Only for events analysed in the order of
   * their lines (a line skipped here must not wait behind unanalysed ones).
   */
  skipLine(text: string): boolean {
    if (isRequestReceivedLine(text)) {
      this.countUnanalysed();
      return true;
    }
    const s = skimLine(text);
    if (s === undefined || this.needsEvent(s)) return false;
    this.stats.events++;
    this.stats.analysed++;
    return true;
  }

  /** Whether `evaluate` would look at the event of a skimmed line: its decisions, on the same facts (the event unreadable). */
  private needsEvent(s: SkimmedLine): boolean {
    if (this.mayBeTracked(auditIDPart(s.auditID))) return true;
    const f: AuditFacts = {
      event: UNREAD,
      username: s.username,
      impersonator: undefined,
      verb: s.verb,
      resource: s.resource,
      subresource: s.subresource,
      apiGroup: s.apiGroup,
      namespace: s.namespace,
      name: s.name,
      code: s.code,
      success: s.code < 400,
      dryRun: false,
      userAgent: s.userAgent,
      requestURI: s.requestURI,
      serviceAccount: false,
      anomaly: undefined,
      humanClient: undefined,
    };
    if (this.objectChecksApply(f)) return true;
    this.ctx.intel?.maybeReload();
    // A request that would teach the baseline something is analysed (peeked at, not learned, here).
    if (this.observes(f) && !this.observeAccount(f, parseTimestamp(s.requestReceivedTimestamp), false)) return true;
    const has = this.requirementsMet(f);
    const rules = this.rulesFor(f.resource, f.subresource);
    for (let i = 0; i < rules.length; i++) {
      const e = rules[i]!;
      if (applies(e, has, f, this.ctx) && (e.rule.judgedOnFacts !== true || firesOnFacts(e.rule, f, this.ctx))) return true;
    }
    return false;
  }

  /** Undoes what `analyse` did with this journal, so that a retried batch (answered 5xx) is analysed again. */
  rollback(journal: AnalyserJournal): void {
    for (let i = journal.length - 1; i >= 0; i--) {
      const [id, prior] = journal[i]!;
      if (prior === undefined) this.untrack(id);
      else this.setTracked(id, prior);
    }
    journal.length = 0;
  }

  /** The request keys of sessions analysed at ResponseStarted whose ResponseComplete is still to come (for checkpoints). */
  pendingSessions(limit = 10_000): string[] {
    const out: string[] = [];
    for (const [id, state] of this.tracked) if (state === 'started') out.push(id);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  restorePendingSessions(ids: readonly string[]): void {
    for (const id of ids) if (typeof id === 'string') this.track(id, 'started');
  }

  private track(id: string, state: 'started' | 'alerted'): void {
    this.setTracked(id, state);
    if (this.tracked.size > this.maxTracked) for (const oldest of oldestKeys(this.tracked, evictionBatch(this.maxTracked))) this.untrack(oldest);
  }

  private mayBeTracked(part: string): boolean {
    const bit = idBit(part);
    return (this.idFilter[bit >>> 5]! & (1 << (bit & 31))) !== 0 && this.trackedIDs.has(part);
  }

  private setTracked(id: string, state: 'started' | 'alerted'): void {
    if (!this.tracked.has(id)) {
      const part = auditIDOfKey(id);
      const n = this.trackedIDs.get(part) ?? 0;
      this.trackedIDs.set(part, n + 1);
      if (n === 0) this.setIdBit(part);
    }
    this.tracked.set(id, state);
  }

  private untrack(id: string): void {
    if (!this.tracked.delete(id)) return;
    const part = auditIDOfKey(id);
    const n = (this.trackedIDs.get(part) ?? 1) - 1;
    if (n > 0) this.trackedIDs.set(part, n);
    else {
      this.trackedIDs.delete(part);
      if (++this.idFilterStale > Math.max(MIN_STALE_BEFORE_REBUILD, this.trackedIDs.size)) this.rebuildIdFilter();
    }
  }

  private setIdBit(part: string): void {
    const bit = idBit(part);
    this.idFilter[bit >>> 5]! |= 1 << (bit & 31);
  }

  private rebuildIdFilter(): void {
    this.idFilter.fill(0);
    for (const part of this.trackedIDs.keys()) this.setIdBit(part);
    this.idFilterStale = 0;
  }

  private facts(ev: AuditEvent): AuditFacts {
    // Each field of the event is read once (an event's hidden class varies with the fields it has,
    // so every read is a megamorphic load), and the facts have one shape from the start.
    const user = ev.user;
    const imp = ev.impersonatedUser;
    const impersonated = isRecord(imp);
    const eff = impersonated ? imp : isRecord(user) ? user : undefined;
    const ref = ev.objectRef;
    const r = isRecord(ref) ? ref : undefined;
    const status = ev.responseStatus;
    const rawCode = isRecord(status) ? status.code : undefined;
    const code = typeof rawCode === 'number' ? rawCode : undefined;
    const uri = str(ev.requestURI);
    return {
      event: ev,
      username: eff === undefined ? '' : str(eff.username),
      // Groups are read only when an alert is built (most events raise none).
      impersonator: impersonated ? usernameOf(user) || '(unknown)' : undefined,
      verb: str(ev.verb),
      resource: r === undefined ? '' : str(r.resource),
      subresource: r === undefined ? '' : str(r.subresource),
      apiGroup: r === undefined ? '' : str(r.apiGroup),
      namespace: r === undefined ? '' : str(r.namespace),
      name: r === undefined ? '' : str(r.name),
      code,
      success: code !== undefined && code < 400,
      dryRun: isDryRun(ev),
      userAgent: str(ev.userAgent),
      requestURI: uri,
      serviceAccount: false,
      anomaly: undefined,
      humanClient: undefined,
    };
  }

  private evaluate(ev: AuditEvent): readonly Alert[] {
    const f = this.facts(ev);
    this.ctx.intel?.maybeReload();
    if (this.observes(f)) this.observeAccount(f, eventTime(ev), true);
    let out: Alert[] | undefined;
    const rules = this.rulesFor(f.resource, f.subresource);
    const has = this.requirementsMet(f);
    for (let i = 0; i < rules.length; i++) {
      if (!applies(rules[i]!, has, f, this.ctx)) continue;
      const rule = rules[i]!.rule;
      const m = rule.match(f, this.ctx);
      if (!m) continue;
      if (this.compiled.exceptions.size > 0 && this.excepted(rule.id, f, m)) continue;
      const alert = this.alert(f, {
        type: rule.id,
        title: rule.title,
        severity: m.severity ?? rule.severity,
        tactics: rule.tactics,
        remediation: rule.remediation,
        message: m.message,
        evidence: m.evidence,
        resource: m.resource,
        namespace: m.namespace,
      });
      if (m.distinct !== undefined) alert.fingerprint = distinctFingerprint(alert.fingerprint, m.distinct);
      (out ??= []).push(alert);
    }
    if (this.objectChecksApply(f)) {
      const objectAlerts = this.objectChecks(f);
      if (objectAlerts.length) (out ??= []).push(...objectAlerts);
    }
    if (!f.dryRun && ev.annotations !== undefined) {
      const vapAlerts = this.vapAlerts(f, out);
      if (vapAlerts.length) (out ??= []).push(...vapAlerts);
    }
    return out ?? NONE;
  }

  /** The rules that may fire on a resource and subresource (the `resources` of each rule). */
  private rulesFor(resource: string, subresource: string): readonly RuleEntry[] {
    if (subresource !== '') {
      const bySub = this.rulesBySubresource.get(resource)?.get(subresource);
      if (bySub !== undefined) return bySub;
    }
    return this.rulesByResource.get(resource) ?? this.anyResourceRules;
  }

  /** Whether a service account's own successful request: the baseline learns or judges it (observeAccount). */
  private observes(f: GateFacts): boolean {
    return this.watchAccounts && f.success && !f.dryRun && isServiceAccountName(f.username) && !this.settings.isControlPlane(f.username);
  }

  /**
   * Whether the defender checks judge the stored object: a successful create/update/patch of an
   * object (or its ephemeral containers), not by the control plane itself — its own writes
   * (controllers creating pods of a workload, bootstrap RBAC) are skipped, unless someone
   * impersonated a control-plane identity.
   */
  private objectChecksApply(f: GateFacts): boolean {
    return (
      f.success &&
      !f.dryRun &&
      WRITE_VERBS.has(f.verb) &&
      this.compiled.checks.length > 0 &&
      (f.subresource === '' || f.subresource === 'ephemeralcontainers') &&
      !(f.impersonator === undefined && this.settings.isControlPlane(f.username))
    );
  }

  /** Which of the rules' requirements (RuleRequirement) this event meets, as a mask. */
  private requirementsMet(f: GateFacts): number {
    let has = 0;
    if (f.success) has |= REQUIREMENT.success;
    if (CHANGE_VERBS.has(f.verb)) has |= REQUIREMENT.change;
    if (f.serviceAccount) has |= REQUIREMENT.serviceAccount;
    if (f.impersonator !== undefined) has |= REQUIREMENT.impersonated;
    // The authenticated user: the impersonator when there is one (an anonymous client impersonating alice is anonymous).
    if ((f.impersonator ?? f.username) === ANONYMOUS) has |= REQUIREMENT.anonymous;
    const intel = this.ctx.intel;
    if (intel !== undefined && intel.entries > 0) has |= REQUIREMENT.intel;
    if (this.toolRule && f.userAgent !== '' && this.toolAgent(f.userAgent)) has |= REQUIREMENT.attackTool;
    return has;
  }

  /**
   * A service account's successful request at event time `t`: the human client its user agent
   * names, and what its baseline made of it. Only the account's own requests are learned; an
   * impersonated one is judged. Without `commit`, the baseline is only peeked at: false when the
   * request would teach it something.
   */
  private observeAccount(f: AuditFacts, t: number, commit: boolean): boolean {
    f.serviceAccount = true;
    const client = this.humanClient(f.userAgent);
    if (client !== undefined) f.humanClient = client;
    if (this.anomaly === null) return true;
    const operation = operationOf(f);
    if (operation === undefined) return true;
    const learn = f.impersonator === undefined;
    const seen = commit
      ? this.anomaly.observe(f.username, operation, f.humanClient, t, learn)
      : this.anomaly.peek(f.username, operation, f.humanClient, t, learn);
    if (seen === CHANGES) return false;
    if (seen) f.anomaly = seen;
    return true;
  }

  /** Whether `exceptions.<rule>` covers this match (judged on the authenticated user). */
  private excepted(id: string, f: AuditFacts, m: { namespace?: string; resource?: { name: string }; evidence?: Record<string, unknown> }): boolean {
    const user = f.event.user;
    const image = typeof m.evidence?.image === 'string' ? m.evidence.image : undefined;
    return isExcepted(this.compiled.exceptions, id, {
      username: usernameOf(user),
      groups: groupsOf(user),
      namespace: m.namespace ?? f.namespace,
      name: m.resource?.name ?? f.name,
      image,
    });
  }

  /**
   * Findings of Bulwark's ValidatingAdmissionPolicies (audit/vap.ts): an alert of the policy ID per
   * policy, unless this event's object checks already raised that type. Control-plane writes are skipped
   * as in objectChecks (a workload's pods, created by its controller, alert through the workload).
   */
  private vapAlerts(f: AuditFacts, already: readonly Alert[] | undefined): readonly Alert[] {
    const found = vapFindings(f.event);
    if (found.length === 0) return NONE;
    if (f.impersonator === undefined && this.settings.isControlPlane(f.username)) return NONE;
    const kind = kindOfResource(f.resource);
    const alerts: Alert[] = [];
    for (const policy of new Set(found.map((x) => x.policy))) {
      if (this.settings.disabled.has(policy) || already?.some((a) => a.type === policy) || alerts.some((a) => a.type === policy)) continue;
      const findings = found.filter((x) => x.policy === policy);
      const meta = findings[0]!.meta;
      alerts.push(
        this.alert(f, {
          type: policy,
          title: meta.title,
          severity: meta.severity,
          tactics: meta.tactics,
          remediation: meta.remediation,
          message: `${actor(f)} ${WRITE_VERBS.get(f.verb) ?? f.verb} ${kind} ${qualified(f.namespace, f.name)}: ${findings.map((x) => x.message).join('; ')} (ValidatingAdmissionPolicy bulwark-${policy})`,
          evidence: {
            validatingAdmissionPolicy: `bulwark-${policy}`,
            findings: findings.map((x) => ({
              message: x.message,
              binding: x.binding,
              expressionIndex: x.expressionIndex ?? null,
              validationActions: x.validationActions,
            })),
          },
          resource: undefined,
          namespace: undefined,
        }),
      );
    }
    return alerts;
  }

  /** The defender checks on the stored object of a successful create/update/patch. */
  private objectChecks(f: AuditFacts): readonly Alert[] {
    const obj = objectOfWrite(f.event);
    if (!obj) return NONE;
    const subject = toSubject(obj);
    if (!subject) return NONE;
    // The URL's namespace is the object's (the API server rejects a body that disagrees); clients
    // that put it only in the URL (client-go, curl, controllers) send a body without one.
    if (f.namespace) subject.ref.namespace = f.namespace;
    const namespace = subject.ref.namespace;
    const user = { username: f.username, groups: groupsOf(effectiveUser(f.event)) };
    // Config exemptions apply to the authenticated user, not to whom it impersonates.
    const authenticated = f.impersonator === undefined ? user : { username: usernameOf(f.event.user), groups: groupsOf(f.event.user) };
    if (exemptionReason(this.compiled, namespace, authenticated) !== undefined) return NONE;
    // Checks that read the user (kube-system-workload) judge the authenticated one: impersonating a
    // system: identity must not make a human's workload look like the control plane's.
    const evaluation = evaluateSubject(
      subject,
      this.compiled,
      { user: authenticated, operation: OPERATION.get(f.verb) ?? f.verb.toUpperCase() },
      { maxFindingsPerCheck: MAX_FINDINGS_PER_CHECK },
    );
    for (const error of evaluation.errors) this.onCheckError?.(error, f.event);
    if (evaluation.findings.length === 0) return NONE;
    const byPolicy = new Map<string, Finding[]>();
    for (const finding of evaluation.findings) {
      const list = byPolicy.get(finding.policy);
      if (list) list.push(finding);
      else byPolicy.set(finding.policy, [finding]);
    }
    const kind = subject.ref.kind || kindOfResource(f.resource);
    const name = f.name || subject.ref.name;
    const alerts: Alert[] = [];
    for (const [policy, findings] of byPolicy) {
      const check = this.compiled.checks.find((c) => c.id === policy);
      let severity: Severity = findings[0]!.severity;
      for (const x of findings) if (SEVERITY_RANK[x.severity] > SEVERITY_RANK[severity]) severity = x.severity;
      alerts.push(
        this.alert(f, {
          type: policy,
          title: check?.title ?? policy,
          severity,
          tactics: check?.tactics ?? [],
          remediation: check?.remediation ?? '',
          message: `${actor(f)} ${WRITE_VERBS.get(f.verb)} ${kind} ${qualified(namespace, name)}: ${findings.map((x) => x.message).join('; ')}${omittedNote(evaluation.omitted?.get(policy))}`,
          evidence: {
            findings: findings.map((x) => ({ message: x.message, path: x.path, ...(x.image ? { image: x.image } : {}) })),
            ...(evaluation.omitted?.has(policy) ? { omittedFindings: evaluation.omitted.get(policy) } : {}),
          },
          resource: { group: f.apiGroup || subject.ref.group, version: refVersion(f.event) || subject.ref.version, kind, name },
          namespace,
        }),
      );
    }
    return alerts;
  }

  private alert(
    f: AuditFacts,
    a: {
      type: string;
      title: string;
      severity: Severity;
      tactics: string[];
      remediation: string;
      message: string;
      evidence: Record<string, unknown> | undefined;
      resource: Alert['resource'] | undefined;
      namespace: string | undefined;
    },
  ): Alert {
    const ev = f.event;
    const user: AlertUser = { username: f.username, groups: groupsOf(effectiveUser(ev)) };
    if (f.impersonator !== undefined) user.impersonator = { username: usernameOf(ev.user), groups: groupsOf(ev.user) };
    const received = typeof ev.requestReceivedTimestamp === 'string' ? ev.requestReceivedTimestamp : undefined;
    const staged = typeof ev.stageTimestamp === 'string' ? ev.stageTimestamp : undefined;
    const firstSeen = received ?? staged ?? new Date().toISOString();
    const alert = newAlert({
      type: a.type,
      title: a.title,
      severity: a.severity,
      source: 'audit',
      firstSeen,
      lastSeen: staged ?? firstSeen,
      namespace: a.namespace ?? f.namespace,
      resource: a.resource ?? { group: f.apiGroup, version: refVersion(ev), kind: kindOfResource(f.resource), name: f.name },
      user,
      sourceIPs: Array.isArray(ev.sourceIPs) ? ev.sourceIPs.filter((s): s is string => typeof s === 'string') : [],
      userAgent: f.userAgent,
      auditIDs: [ev.auditID],
      message: a.message,
      evidence: eventEvidence(f, a.evidence),
      tactics: [...a.tactics],
      remediation: a.remediation,
    });
    if (this.cluster !== undefined) {
      alert.cluster = this.cluster;
      alert.fingerprint = fingerprintOf(alert);
    }
    return alert;
  }
}

/** An alert's evidence: the request's verb, URI, code and stage, then the rule's own (which wins on a clash). */
function eventEvidence(f: AuditFacts, own: Record<string, unknown> | undefined): Record<string, unknown> {
  const evidence: Record<string, unknown> = { verb: f.verb, requestURI: f.requestURI, responseCode: f.code ?? null, stage: f.event.stage };
  if (f.subresource) evidence.subresource = f.subresource;
  if (f.dryRun) evidence.dryRun = true;
  // The rule's keys are names in its code (never taken from the event), so plain assignment is safe.
  if (own !== undefined) for (const key of Object.keys(own)) evidence[key] = own[key];
  return evidence;
}

/** A fingerprint that also keeps apart what `distinct` names (RuleMatch.distinct). */
function distinctFingerprint(fingerprint: string, distinct: string): string {
  return shortHash(fingerprint + '\u0000' + distinct);
}

/** `; and 12 more` for findings left out at evaluation (MAX_FINDINGS_PER_CHECK). */
function omittedNote(count: number | undefined): string {
  return count ? `; and ${count} more` : '';
}
