// What an audit rule is: metadata (like a policy check) and a pure match on one audit event's facts.
import type { CheckMeta, PolicyLists } from '../../policies/types.js';
import type { CompiledTampering } from '../../policies/tampering.js';
import type { Severity } from '../../core/severity.js';
import type { CompiledAuditSettings } from '../config.js';
import type { AuditEvent } from '../event.js';
import type { IntelLists } from '../intel.js';
import type { Observation } from '../anomaly.js';

/** The facts of one event that rules read, computed once per event by the analyser. */
export interface AuditFacts {
  event: AuditEvent;
  /** Effective user: `impersonatedUser` when present, else `user`. */
  username: string;
  /** The impersonator's name when the request was impersonated. */
  impersonator: string | undefined;
  verb: string;
  resource: string;
  subresource: string;
  apiGroup: string;
  namespace: string;
  name: string;
  /** Response code, or undefined (e.g. a RequestReceived stage). */
  code: number | undefined;
  /** code < 400. */
  success: boolean;
  /** `?dryRun=All`: nothing was stored. */
  dryRun: boolean;
  userAgent: string;
  requestURI: string;
  /** A service account's successful request, not the control plane's and not a dry run (the two rules below read it). */
  serviceAccount?: boolean;
  /**
   * Such a request as its
   * baseline saw it (audit/anomaly.ts); absent otherwise or when the baseline is off.
   */
  anomaly?: Observation;
  /** A service account's successful request: the human client its user agent names (lists.humanClientUserAgents). */
  humanClient?: string;
}

export interface RuleContext {
  settings: CompiledAuditSettings;
  /** Every data list (`lists:`), with defaults. */
  lists: PolicyLists;
  /** Threat-intelligence lists (`intel.files`), when configured. */
  intel?: IntelLists;
  /** A glob list compiled once: `matches(lists.eventDeleters, user)`. */
  matches(globs: readonly string[], value: string): boolean;
  /** Bulwark's own objects and who may change them (config `tampering:`). */
  tampering: CompiledTampering;
  /** The config's defaultAction: what a namespace without a bulwark.io/mode label gets. */
  defaultAction: string;
}

/** What a rule returns when it fires; the analyser adds user, times, IDs and the rule's metadata. */
export interface RuleMatch {
  message: string;
  /** Overrides the rule's severity (e.g. exec into kube-system is high). */
  severity?: Severity;
  evidence?: Record<string, unknown>;
  /** Overrides the resource taken from objectRef (e.g. a pentest tool alerts once per user, not per object). */
  resource?: { group: string; version: string; kind: string; name: string };
  namespace?: string;
  /**
   * What else keeps two alerts of this rule apart for one user, resource and namespace (e.g. the
   * operation of serviceaccount-rare-operation): part of the de-duplication fingerprint.
   */
  distinct?: string;
}

export interface AuditRule extends CheckMeta {
  /** Where this alert type can fire (default: the audit log only); for `bulwark rules`. */
  sources?: readonly ('admission' | 'audit' | 'background')[];
  /** Rules about stored changes do not fire on a dry run (it stored nothing). */
  skipDryRun: boolean;
  /**
   * The only `objectRef.resource` values the rule can fire on, when it has such a list: the
   * analyser then runs it for those alone (most events concern leases, pods and configmaps). As in
   * RBAC, `pods` is the resource with any subresource, `pods/exec` that subresource alone.
   */
  resources?: readonly string[];
  /**
   * Facts an event must have for the rule to fire, which the analyser checks before calling
   * `match` (cheaply, once per event for all rules); `match` checks them again. Most events are
   * reads by the control plane and need no rule at all.
   */
  requires?: readonly RuleRequirement[];
  /**
   * When given: true for a request the rule cannot fire on whatever else its event holds, judged
   * from the gate's facts alone (user, verb, resource, subresource, code, user agent, URI). The
   * analyser then does not call `match`, and a line it skims need not be parsed for this rule
   * (AuditAnalyser.skipLine).
   */
  quiet?(f: GateFacts, ctx: RuleContext): boolean;
  /**
   * `match` decides from the facts alone, reads `facts.event` only to describe a match it returns,
   * and changes nothing: the analyser may then judge a line it skimmed with it (parsing the line
   * only when the rule fires). Held to that by a test for every rule that says so.
   */
  judgedOnFacts?: true;
  match(facts: AuditFacts, ctx: RuleContext): RuleMatch | undefined;
}

/** The facts without the event: what decides which parts of the analysis look at an event. */
export type GateFacts = Omit<AuditFacts, 'event'>;

/**
 * What `AuditRule.requires` can name: `success` (code < 400), `change` (verb create, update,
 * patch, delete or deletecollection), `impersonated`, `serviceAccount` (AuditFacts.serviceAccount),
 * `anonymous` (the authenticated user is system:anonymous), `intel` (threat-intelligence entries
 * are loaded), `attackTool` (the user agent names one of `audit.attackToolUserAgents`).
 */
export type RuleRequirement = 'success' | 'change' | 'impersonated' | 'serviceAccount' | 'anonymous' | 'intel' | 'attackTool';

/**
 * A request by the control plane itself (`audit.controlPlaneIdentities`). Exemptions apply to the
 * authenticated user: an impersonated request is never the control plane's own, whoever it names.
 */
export function isControlPlaneRequest(f: AuditFacts, ctx: RuleContext): boolean {
  return f.impersonator === undefined && ctx.settings.isControlPlane(f.username);
}

/** `ns/name`, or `name` for cluster-scoped objects. */
export function qualified(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** A user's name for a sentence: `alice`, `alice (as bob)`… or `an anonymous client`. */
export function actor(f: AuditFacts): string {
  const who = f.username || 'an unauthenticated client';
  return f.impersonator ? `${f.impersonator} (impersonating ${who})` : who;
}
