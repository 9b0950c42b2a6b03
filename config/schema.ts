// The configuration file's one schema (zod). From it come the TypeScript types, the validation
// and its messages (config/load.ts), the JSON Schema for editors (`bulwark config schema`) and the
// reference page docs/configuration.md (checked against it by a test). Every command validates
// the whole file with it, so a file `serve` rejects is rejected by `scan` and `audit scan` too.
//
// Sections validate and convert units (durations → ms, sizes → bytes); the module that owns a
// section fills in its defaults and compiles it (policies/, audit/, alerts/, webhook/, cli/).
import { createRequire } from 'node:module';
import type { z } from 'zod';
import { parseDurationSetting } from '../core/duration.js';
import { parseQuantity } from '../core/quantity.js';
import { parseByteSize } from '../core/size.js';
import { suggest } from '../core/suggest.js';
import { ACTIONS } from '../policies/config.js';
import { DEFAULT_LISTS } from '../policies/lists.js';
import { allPolicyMetas, parseProfile } from '../policies/registry.js';
import { storeKind } from './store-url.js';
import { AUDIT_ALERT_TYPE_NAMES } from '../core/alert-types.js';

/** Marks the message of an unknown-key issue: the formatter turns it into one line per key. */
export const KNOWN_KEYS_MARK = '\u0000known:';

/** A value as a message quotes it (JSON where it can). */
export const show = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

/** IDs of the mutations /mutate knows (webhook/mutations/ has one file each; a test keeps them equal). */
export const KNOWN_MUTATIONS = [
  'seccomp-runtime-default',
  'no-privilege-escalation',
  'drop-all-capabilities',
  'run-as-non-root',
  'read-only-root-filesystem',
  'default-resources',
] as const;
export const DEFAULT_MUTATIONS = ['seccomp-runtime-default', 'no-privilege-escalation', 'drop-all-capabilities'];

/** api.cacheTTL may not exceed this (alerts/auth/kubernetes.ts keeps the same bound; a test says so). */
export const MAX_API_CACHE_TTL_MS = 60_000;

/** Resource names default-resources may fill (extended resources and hugepages need requests = limits: not defaults material). */
export const DEFAULTABLE_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'] as const;
const RESOURCES_EXAMPLE = 'e.g. {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 512Mi}}';

/** Why the resource defaults are missing for the enabled mutations, or undefined. */
export function missingResourceDefaults(mutations: readonly string[], resources: unknown): string | undefined {
  return mutations.includes('default-resources') && resources == null ? `required when the default-resources mutation is on (${RESOURCES_EXAMPLE})` : undefined;
}

const requireFromHere = createRequire(import.meta.url);

/** zod, loaded on first use: commands that read no configuration file never pay for it. */
export function zod(): typeof import('zod') {
  return requireFromHere('zod') as typeof import('zod');
}

/** Builds the schema (once, on first use; see schemas()). */
function build() {
  const { z } = zod();
  /** A mapping with exactly these keys (unknown keys are reported with the known ones). */
  function section<T extends z.ZodRawShape>(shape: T, what: string) {
    const known = Object.keys(shape).join(',');
    return z.strictObject(shape, {
      error: (iss) => (iss.code === 'unrecognized_keys' ? `${KNOWN_KEYS_MARK}${known}` : `must be a mapping with ${what}, got ${show(iss.input)}`),
    });
  }

  function nonEmptyString(what = 'a non-empty string') {
    return z.string({ error: (iss) => `must be ${what}, got ${show(iss.input)}` }).min(1, { error: `must be ${what}, got ""` });
  }

  /** A list of strings; `null` (an empty YAML key) reads as the empty list. */
  function stringList(what = 'a list of strings') {
    return z
      .array(z.string({ error: `must be ${what}` }), { error: (iss) => `must be ${what}, got ${show(iss.input)}` })
      .nullable()
      .transform((v) => v ?? []);
  }

  /** A duration: `90s`, `10m`, `1h`, `1d`, `1h30m`, `500ms`, or a number of seconds. Milliseconds out. */
  /** A timer longer than 2^31 ms fires at once in Node (and then every millisecond): poll intervals stop at a day. */
  const POLL_MAX = { ms: 86_400_000, why: 'a polling interval' };

  function duration(opts: { positive?: boolean; max?: { ms: number; why: string } } = {}) {
    const expected = `must be a duration like 90s, 10m, 1h or 30d (or a number of seconds)`;
    return z
      .union([z.number(), z.string()], { error: (iss) => `${expected}, got ${show(iss.input)}` })
      .transform((v, ctx) => {
        const ms = parseDurationSetting(v);
        if (ms === undefined || (opts.positive && ms <= 0)) {
          ctx.addIssue({ code: 'custom', message: `${expected}${ms !== undefined ? ', more than 0' : ''}, got ${show(v)}` });
          return z.NEVER;
        }
        if (opts.max && ms > opts.max.ms) {
          ctx.addIssue({ code: 'custom', message: `must be at most ${opts.max.ms / 1000}s (${opts.max.why}), got ${show(v)}` });
          return z.NEVER;
        }
        return ms;
      })
      .meta({ description: 'duration: 90s, 10m, 1h, 1d, 1h30m, 500ms, or a number of seconds' });
  }

  /** A byte size: `6Mi`, `512KiB`, `16Mi`, or a number of bytes. Bytes out. */
  function byteSize(min = 1) {
    const expected = `must be a size in bytes (e.g. 6291456, 6Mi, 512Ki)${min > 1 ? ` of at least ${min}` : ''}`;
    return z
      .union([z.number(), z.string()], { error: (iss) => `${expected}, got ${show(iss.input)}` })
      .transform((v, ctx) => {
        const n = parseByteSize(v);
        if (n === undefined || n < min) {
          ctx.addIssue({ code: 'custom', message: `${expected}, got ${show(v)}` });
          return z.NEVER;
        }
        return n;
      })
      .meta({ description: 'size: a number of bytes, or 512Ki, 6Mi, 1Gi' });
  }

  const port = (what = 'a port number 0-65535') =>
    z
      .number({ error: (iss) => `must be ${what}, got ${show(iss.input)}` })
      .int({ error: (iss) => `must be ${what}, got ${show(iss.input)}` })
      .min(0, { error: (iss) => `must be ${what}, got ${show(iss.input)}` })
      .max(65535, { error: (iss) => `must be ${what}, got ${show(iss.input)}` });

  const enumOf = <const T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: (iss) => `must be one of ${values.join(', ')}, got ${show(iss.input)}` });

  // ---- policies: profiles, actions, exemptions, lists ----

  const LIST_NAMES: string[] = Object.keys(DEFAULT_LISTS);

  /** Descriptions of the lists in the reference (the rest get a generic one). */
  const LIST_DESCRIPTIONS: Record<string, string> = {
    dashboardPodLabels:
      'the dashboardPodLabels list (`name: key=value,…`: pod labels of known dashboards; see [detections](detections.md)); a list replaces the default, {append: [...]} extends it',
    systemNamespaces: 'namespaces reserved for the control plane (kube-system-workload, serviceaccount-in-kube-namespace; default kube-system, kube-public)',
    systemWorkloadUsers: 'users (globs) who may put workloads in systemNamespaces without kube-system-workload (default system:*)',
    eventDeleters: 'users (globs) who may delete events without kube-events-deleted (default system:*)',
    attackToolUserAgents:
      'substrings (case-insensitive) of user agents of attack tools (pentest-tool); also audit.attackToolUserAgents, which this replaces or extends',
    controlPlaneIdentities:
      'identities (globs) of the control plane, whose own writes are skipped; also audit.controlPlaneIdentities, which this replaces or extends',
    webhookAdmins: 'users (globs) who may change admission webhook configurations; also audit.webhookAdmins, which this replaces or extends',
    anonymousAllowedPaths: 'paths system:anonymous may reach; also audit.anonymousAllowedPaths, which this replaces or extends',
    credentialKeyNames: 'ConfigMap key names (suffixes) that hold credentials; also audit.credentialKeyNames, which this replaces or extends',
  };

  /** `lists.<name>`: a list replaces the default; `{append: [...]}` extends it. */
  function listSpec(name: string) {
    return z
      .union(
        [
          z.array(z.string({ error: 'must be a list of strings' }), { error: 'must be a list of strings' }),
          z.null(),
          z.strictObject({ append: stringList() }, { error: `must be a list of strings (replaces the default ${name}) or {append: [...]} (extends it)` }),
        ],
        { error: (iss) => `must be a list of strings (replaces the default ${name}) or {append: [...]} (extends it), got ${show(iss.input)}` },
      )
      .transform((v) => (v === null ? [] : Array.isArray(v) ? v : { append: v.append }));
  }

  /** One exception of a rule: every field it gives must match. */
  const exceptionEntry = section(
    {
      users: stringList().optional().meta({ description: 'user name globs (the authenticated user)' }),
      groups: stringList().optional().meta({ description: 'group globs' }),
      namespaces: stringList().optional().meta({ description: 'namespace globs' }),
      names: stringList().optional().meta({ description: 'object name globs' }),
      images: stringList().optional().meta({ description: 'image globs' }),
    },
    'users, groups, namespaces, names, images',
  );

  const profileName = z.string({ error: 'must be a profile name' }).superRefine((p, ctx) => {
    try {
      parseProfile(p);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

  const policySchema = {
    profiles: z
      .array(profileName, { error: (iss) => `must be a list of strings, got ${show(iss.input)}` })
      .nullable()
      .transform((v) => v ?? [])
      .refine((v) => v.length > 0, { error: 'must name at least one profile' })
      .optional()
      .meta({
        description: 'active policy sets: defender, pss-baseline, pss-restricted (PSS ones may be pinned: pss-restricted@v1.29)',
        items: { type: 'string', pattern: '^(defender|pss-(baseline|restricted)(@(latest|v1\\.(0|[1-9][0-9]*)))?)$' },
      }),
    defaultAction: enumOf(ACTIONS).optional().meta({ description: 'enforce (deny), warn (allow with a warning) or audit (allow, alert only)' }),
    actions: z
      .record(z.string(), enumOf(['enforce', 'warn', 'audit', 'off']), {
        error: (iss) => `must be a mapping of policy ID to enforce, warn, audit or off, got ${show(iss.input)}`,
      })
      .nullable()
      .transform((v) => v ?? {})
      .superRefine((v, ctx) => {
        const known = allPolicyMetas();
        for (const id of Object.keys(v)) {
          if (!known.has(id)) ctx.addIssue({ code: 'custom', path: [id], message: `unknown policy ID ${show(id)}${suggest(id, [...known.keys()])}` });
        }
      })
      .optional()
      .meta({
        description: 'per-policy override of defaultAction (policy ID → enforce, warn, audit or off)',
        propertyNames: { enum: [...allPolicyMetas().keys()] },
      }),
    exemptions: section(
      {
        namespaces: stringList().optional().meta({ description: 'namespaces never judged' }),
        usernames: stringList().optional().meta({ description: 'users never judged' }),
        groups: stringList().optional().meta({ description: 'groups never judged' }),
        images: stringList().optional().meta({ description: 'image globs (`*` any run, `?` one character) never judged' }),
      },
      'namespaces, usernames, groups, images',
    )
      .nullable()
      .optional()
      .meta({ description: 'who and what is never judged' }),
    mutations: z
      .array(
        z.string({ error: 'must be a string' }).refine((m) => (KNOWN_MUTATIONS as readonly string[]).includes(m), {
          error: (iss) => `unknown mutation ${show(iss.input)} (known: ${KNOWN_MUTATIONS.join(', ')})`,
        }),
        { error: (iss) => `must be a list of strings, got ${show(iss.input)}` },
      )
      .nullable()
      .transform((v) => v ?? [])
      .optional()
      .meta({
        description: `what /mutate fills in (default: ${DEFAULT_MUTATIONS.join(', ')}); known: ${KNOWN_MUTATIONS.join(', ')}`,
        items: { type: 'string', enum: [...KNOWN_MUTATIONS] },
      }),
    lists: section(
      Object.fromEntries(
        LIST_NAMES.map((n) => [
          n,
          listSpec(n)
            .optional()
            .meta({ description: LIST_DESCRIPTIONS[n] ?? `the ${n} list: a list replaces the default, {append: [...]} extends it` }),
        ]),
      ) as Record<string, z.ZodOptional<ReturnType<typeof listSpec>>>,
      LIST_NAMES.join(', '),
    )
      .nullable()
      .optional()
      .meta({ description: 'every data list the rules use (policy and audit); a list replaces the default, {append: [...]} extends it' }),
    exceptions: z
      .record(
        z.string(),
        z
          .union([exceptionEntry, z.array(exceptionEntry, { error: 'must be a list of exceptions' })], {
            error: (iss) => `must be an exception {users, groups, namespaces, names, images} or a list of them, got ${show(iss.input)}`,
          })
          .transform((v) => (Array.isArray(v) ? v : [v])),
        { error: (iss) => `must be a mapping of rule ID to exceptions, got ${show(iss.input)}` },
      )
      .nullable()
      .transform((v) => v ?? {})
      .superRefine((v, ctx) => {
        const known = [...allPolicyMetas().keys(), ...AUDIT_ALERT_TYPE_NAMES];
        for (const id of Object.keys(v)) {
          if (!known.includes(id)) ctx.addIssue({ code: 'custom', path: [id], message: `unknown rule ID ${show(id)}${suggest(id, known)}` });
        }
      })
      .optional()
      .meta({
        description:
          'per rule ID (policy or alert type): cases it does not fire on; each exception matches when all the fields it gives match (globs): users, groups, namespaces, names, images',
      }),
    onError: enumOf(['allow', 'deny']).optional().meta({ description: 'what the webhook answers when a check throws' }),
  };

  // ---- server: the webhook listener ----

  const serverSection = section(
    {
      port: port('an integer from 0 to 65535').nullable().optional().meta({ description: 'webhook port (default 8443)' }),
      address: nonEmptyString().nullable().optional().meta({ description: 'address to bind (default 127.0.0.1, loopback only; the chart sets 0.0.0.0)' }),
      tlsCert: nonEmptyString().nullable().optional().meta({ description: 'serving certificate (PEM)' }),
      tlsKey: nonEmptyString().nullable().optional().meta({ description: 'private key of the serving certificate (PEM)' }),
      clientCA: nonEmptyString().nullable().optional().meta({ description: "require client certificates signed by this CA (the API server's)" }),
      namespace: nonEmptyString().nullable().optional().meta({ description: 'namespace Bulwark runs in (POD_NAMESPACE wins)' }),
      bodyLimit: byteSize().nullable().optional().meta({ description: 'largest AdmissionReview body (default 6Mi)' }),
      shutdownGrace: duration().nullable().optional().meta({ description: 'how long in-flight reviews may finish on shutdown (default 25s)' }),
      shutdownDelay: duration().nullable().optional().meta({ description: 'wait after SIGTERM before closing, for endpoints to update (default 0)' }),
      certPollInterval: duration({ max: POLL_MAX })
        .nullable()
        .optional()
        .meta({ description: 'how often the certificate files are checked for rotation (default 10s; 0: only the folder watch; at most 1d)' }),
      configPollInterval: duration({ max: POLL_MAX })
        .nullable()
        .optional()
        .meta({ description: 'how often the config file is checked for changes to reload (default 10s; 0: only on SIGHUP; at most 1d)' }),
      metricsPort: port('an integer from 0 to 65535')
        .nullable()
        .optional()
        .meta({ description: 'a dedicated HTTPS listener for GET /metrics, which a NetworkPolicy can restrict (default: none)' }),
      metricsOnWebhookPort: z
        .boolean({ error: (iss) => `must be true or false, got ${show(iss.input)}` })
        .nullable()
        .optional()
        .meta({ description: 'whether the webhook port answers GET /metrics too (default true; false needs metricsPort)' }),
    },
    'port, address, tlsCert, tlsKey, …',
  );

  // ---- store and api: the alert store and the alerts HTTP API ----

  const countError = (iss: { input?: unknown }) => `must be a positive whole number, or off, got ${show(iss.input)}`;

  const storeSection = section(
    {
      url: z
        .string({ error: 'must be a string: sqlite:PATH or postgres://user:pass@host/db' })
        .superRefine((url, ctx) => {
          try {
            storeKind(url);
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^store\.url /, '') });
          }
        })
        .optional()
        .meta({ description: 'sqlite:PATH (default sqlite:./data/bulwark.db) or postgres://user:pass@host/db (BULWARK_STORE_URL wins)' }),
      dedupWindow: duration({ positive: true }).optional().meta({ description: 'one alert for repeats of the same alert within this time (default 10m)' }),
      retention: section(
        {
          maxAge: z
            .union([z.literal('off'), z.null(), duration({ positive: true })], {
              error: (iss) => `must be a duration like 90s, 10m, 1h or 30d (or a number of seconds), or off, got ${show(iss.input)}`,
            })
            .optional()
            .meta({
              description:
                'delete alerts the store has not written (stored, merged, status changed) for this long, by its own clock, never by event time (default 30d); off keeps them',
            }),
          maxCount: z
            .union([z.literal('off'), z.null(), z.number().int({ error: countError }).min(1, { error: countError })], { error: countError })
            .optional()
            .meta({
              description: 'keep at most this many alerts, the lowest severity removed first, then the least recently written (default 100000); off: no limit',
            }),
          interval: duration({ positive: true }).optional().meta({ description: 'how often retention runs (default 1h)' }),
        },
        'maxAge, maxCount, interval',
      )
        .nullable()
        .optional()
        .meta({ description: 'how long alerts are kept' }),
      floodLimit: z
        .union([z.literal('off'), z.null(), z.number().int({ error: countError }).min(1, { error: countError })], { error: countError })
        .optional()
        .meta({
          description:
            'alerts of one source, type and user stored per minute (default 600); the rest are counted into one alert-flood alert per source, type and user (each is still logged); off: no limit',
        }),
      maxConnections: z
        .number({ error: (iss) => `must be a whole number from 1 to 100, got ${show(iss.input)}` })
        .int({ error: 'must be a whole number from 1 to 100' })
        .min(1, { error: 'must be a whole number from 1 to 100' })
        .max(100, { error: 'must be a whole number from 1 to 100' })
        .optional()
        .meta({ description: 'PostgreSQL: connections this replica opens at most (default 10); replicas × maxConnections must fit the server' }),
    },
    'url, dedupWindow, retention, floodLimit, maxConnections',
  );

  const apiSection = section(
    {
      enabled: z
        .boolean({ error: (iss) => `must be true or false, got ${show(iss.input)}` })
        .optional()
        .meta({ description: 'serve the alerts API (default: true when the api section says anything)' }),
      port: port().optional().meta({ description: 'its own HTTPS port (default 8444)' }),
      address: nonEmptyString().nullable().optional().meta({ description: 'address to bind (default 127.0.0.1, loopback only; the chart sets 0.0.0.0)' }),
      tlsCert: nonEmptyString().nullable().optional().meta({ description: "certificate (default: the webhook's)" }),
      tlsKey: nonEmptyString().nullable().optional().meta({ description: 'its private key' }),
      tokenFile: nonEmptyString()
        .nullable()
        .optional()
        .meta({ description: 'kube-apiserver token-file format: token,user,uid,"group1,group2" (auth: tokens)' }),
      roles: section(
        {
          admin: z
            .array(nonEmptyString('a list of group names'), { error: 'must be a list of group names' })
            .nullable()
            .transform((v) => v ?? [])
            .optional()
            .meta({ description: 'groups that may read and change alerts' }),
          reader: z
            .array(nonEmptyString('a list of group names'), { error: 'must be a list of group names' })
            .nullable()
            .transform((v) => v ?? [])
            .optional()
            .meta({ description: 'groups that may read alerts' }),
        },
        'admin and reader: lists of groups',
      )
        .nullable()
        .optional()
        .meta({ description: 'groups → roles (auth: tokens)' }),
      auth: z
        .enum(['tokens', 'kubernetes'], { error: (iss) => `must be tokens or kubernetes, got ${show(iss.input)}` })
        .optional()
        .meta({ description: 'tokens (the token file) or kubernetes (TokenReview + SubjectAccessReview)' }),
      kubeconfig: nonEmptyString().nullable().optional().meta({ description: 'auth: kubernetes: the cluster to ask (default in-cluster, $KUBECONFIG)' }),
      cacheTTL: duration({ positive: true, max: { ms: MAX_API_CACHE_TTL_MS, why: 'it is how long a revoked token or a removed RoleBinding keeps access' } })
        .optional()
        .meta({ description: `auth: kubernetes: how long review answers are reused (default 10s, at most ${MAX_API_CACHE_TTL_MS / 1000}s)` }),
      audiences: z
        .array(z.string({ error: 'must be a list of audience names' }), {
          error: (iss) => `must be a non-empty list of audience names (default [bulwark]), got ${show(iss.input)}`,
        })
        .min(1, { error: (iss) => `must be a non-empty list of audience names (default [bulwark]), got ${show(iss.input)}` })
        .superRefine((a, ctx) => {
          if (a.some((v) => v.trim() === ''))
            ctx.addIssue({ code: 'custom', message: `must be a non-empty list of audience names (default [bulwark]), got ${show(a)}` });
        })
        .optional()
        .meta({ description: 'auth: kubernetes: TokenReview audiences; an answer must name one of them (default [bulwark])' }),
    },
    'port, tokenFile, roles, …',
  ).superRefine((api, ctx) => {
    if ((api.tlsCert == null) !== (api.tlsKey == null)) {
      ctx.addIssue({ code: 'custom', path: ['tlsCert'], message: 'api.tlsCert and api.tlsKey go together: set both or neither' });
    }
    const enabled = api.enabled ?? Object.keys(api).length > 0;
    if (enabled && (api.auth ?? 'tokens') === 'tokens' && api.tokenFile == null) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenFile'],
        message:
          'required when api.auth is tokens (the default): a token file in the kube-apiserver format token,user,uid,"group1,group2"; or set api.auth: kubernetes in a cluster',
      });
    }
  });

  // ---- audit: the audit-log analyser ----

  const AUDIT_LISTS = {
    attackToolUserAgents: 'substrings (case-insensitive) of user agents of attack tools',
    controlPlaneIdentities: "identities (globs) whose writes the object checks skip: the control plane's own",
    webhookAdmins: 'users (globs) allowed to change admission webhook configurations without an alert',
    anonymousAllowedPaths: 'paths system:anonymous may reach without an alert (with their sub-paths)',
    credentialKeyNames: 'ConfigMap data key names (suffixes) that hold credentials',
    disabled: 'alert types (audit rules or policy IDs) not raised from the audit log',
  } as const;

  const auditSection = section(
    {
      dedupWindow: duration()
        .optional()
        .meta({ description: 'same type, resource, namespace and user within this much event time is one alert (default 10m)' }),
      maxLineBytes: byteSize(1024).optional().meta({ description: 'longest audit line read; longer ones are reported and skipped (default 16Mi)' }),
      webhookTokenFile: nonEmptyString().optional().meta({
        description:
          "a file holding the bearer token POST /audit requires (the audit webhook kubeconfig's user token); relative to the config file's folder. Without it or a client CA, audit alerts are marked verified: false",
      }),
      ...(Object.fromEntries(
        Object.entries(AUDIT_LISTS).map(([k, d]) => [
          k,
          stringList()
            .optional()
            .meta({ description: `${d}; replaces the default` }),
        ]),
      ) as Record<keyof typeof AUDIT_LISTS, z.ZodOptional<ReturnType<typeof stringList>>>),
    },
    'dedupWindow, maxLineBytes and the lists',
  );

  // ---- tampering: Bulwark's own objects and who may change them (policies/tampering.ts) ----

  const namespaceName = z
    .string({ error: (iss) => `must be a namespace name, got ${show(iss.input)}` })
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: (iss) => `must be a namespace name, got ${show(iss.input)}` });

  const tamperingSection = section(
    {
      namespace: namespaceName
        .nullable()
        .optional()
        .meta({ description: "Bulwark's namespace (default: where it runs: POD_NAMESPACE, server.namespace, else bulwark-system)" }),
      names: stringList().optional().meta({
        description: 'globs of Bulwark\'s own ConfigMaps, Secrets, Deployments (in its namespace) and webhook configurations (default ["*bulwark*"])',
      }),
      allowedUsers: stringList().optional().meta({
        description:
          "users (globs; {namespace} is Bulwark's namespace) who may change Bulwark's objects (default: cert-manager's controller and cainjector, system:serviceaccount:{namespace}:*)",
      }),
      allowedGroups: stringList().optional().meta({ description: "groups who may change Bulwark's objects (default none)" }),
      modeAdmins: section(
        {
          users: stringList().optional().meta({ description: 'users (globs) who may weaken a namespace’s mode (default none)' }),
          groups: stringList().optional().meta({ description: 'groups who may weaken a namespace’s mode (default [system:masters])' }),
        },
        'users, groups',
      )
        .nullable()
        .optional()
        .meta({ description: 'who may relabel a namespace to a weaker bulwark.io/mode or out of the webhook (bulwark.io/webhook=ignore)' }),
    },
    'namespace, names, allowedUsers, allowedGroups, modeAdmins',
  );

  // ---- cluster, intel: the cluster's name on alerts; threat-intelligence lists ----

  const clusterSection = section(
    {
      name: nonEmptyString().nullable().optional().meta({ description: 'the cluster name every alert carries in `cluster`' }),
    },
    'name',
  );

  const intelSection = section(
    {
      files: stringList('a list of file paths').optional().meta({
        description:
          "address lists (IPv4/IPv6 addresses and CIDRs, one a line, # comments; the TOR bulk exit list format) for threat-intel-source; relative paths resolve against the config file's folder",
      }),
      reloadInterval: duration({ positive: true }).optional().meta({ description: 'how often the files are checked for changes and re-read (default 30s)' }),
    },
    'files, reloadInterval',
  );

  // ---- anomaly: the service-account baseline (serviceaccount-rare-operation, serviceaccount-token-misuse) ----

  const wholeNumber = (min: number, max: number) =>
    z
      .number({ error: (iss) => `must be a whole number from ${min} to ${max}, got ${show(iss.input)}` })
      .int({ error: (iss) => `must be a whole number from ${min} to ${max}, got ${show(iss.input)}` })
      .min(min, { error: (iss) => `must be a whole number from ${min} to ${max}, got ${show(iss.input)}` })
      .max(max, { error: (iss) => `must be a whole number from ${min} to ${max}, got ${show(iss.input)}` });

  const anomalySection = section(
    {
      learningPeriod: duration({ positive: true, max: { ms: 365 * 86_400_000, why: 'a learning period' } })
        .optional()
        .meta({
          description: "how long (event time, from an account's first request) a service account's operations are learned before others alert (default 7d)",
        }),
      maxOperationsPerAccount: wholeNumber(1, 10_000)
        .optional()
        .meta({ description: 'operations learned per service account at most; an account that reaches it is too broad to judge (default 500)' }),
      maxAccounts: wholeNumber(1, 1_000_000).optional().meta({ description: 'service accounts tracked at most; later ones are not judged (default 50000)' }),
      syncInterval: duration({ positive: true, max: POLL_MAX })
        .optional()
        .meta({ description: 'how often serve writes what it learned to the store and reads what other replicas learned (default 30s)' }),
    },
    'learningPeriod, maxOperationsPerAccount, maxAccounts, syncInterval',
  );

  // ---- notify: alert forwarding (alerts/notify.ts) ----

  const sinkSchema = section(
    {
      name: z
        .string({ error: (iss) => `must be a sink name, got ${show(iss.input)}` })
        .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { error: (iss) => `must be a name of lower-case letters, digits and -, got ${show(iss.input)}` })
        .optional()
        .meta({
          description:
            "the sink's name: deliveries are queued by it, metrics and logs carry it (default: its type, then type-2, type-3… in list order; name sinks to keep queued deliveries across reordering)",
        }),
      type: enumOf(['webhook', 'slack', 'syslog', 'jsonl']).meta({
        description:
          'webhook (the alert as JSON, HMAC-SHA256 signed), slack (an incoming webhook), syslog (RFC 5424 over TLS), jsonl (JSON lines on stdout or in a file)',
      }),
      url: nonEmptyString('an https:// URL').optional().meta({ description: 'webhook, slack: where to POST (https only)' }),
      urlFile: nonEmptyString('a file path')
        .optional()
        .meta({ description: 'webhook, slack: a file holding the URL (a Slack URL is a secret: keep it in a Secret)' }),
      secretFile: nonEmptyString('a file path')
        .optional()
        .meta({ description: 'webhook: a file holding the HMAC-SHA256 key (at least 16 characters) of X-Bulwark-Signature' }),
      caFile: nonEmptyString('a file path').optional().meta({ description: "webhook, slack, syslog: a CA bundle to trust instead of the system's" }),
      consoleUrl: nonEmptyString('a URL').optional().meta({ description: "slack: the console's address, linked from each message" }),
      address: nonEmptyString('host:port').optional().meta({ description: 'syslog: the collector, host:port' }),
      tls: z
        .boolean({ error: (iss) => `must be true or false, got ${show(iss.input)}` })
        .optional()
        .meta({ description: 'syslog: TLS (default true); false sends plain TCP (a collector on the same host only)' }),
      file: nonEmptyString('a file path or -').optional().meta({ description: 'jsonl: the file to append to (mode 0600), or - for stdout (the default)' }),
      minSeverity: enumOf(['informational', 'low', 'medium', 'high']).optional().meta({ description: 'only alerts at or above this severity' }),
      types: stringList().optional().meta({ description: 'only these alert types (default: all)' }),
      namespaces: stringList().optional().meta({ description: 'only alerts in these namespaces (default: all)' }),
      timeout: duration({ positive: true, max: { ms: 300_000, why: 'a delivery timeout' } })
        .optional()
        .meta({ description: 'how long one delivery may take (default 10s)' }),
    },
    'name, type, url, urlFile, secretFile, caFile, consoleUrl, address, tls, file, minSeverity, types, namespaces, timeout',
  );

  const notifySection = section(
    {
      sinks: z
        .array(sinkSchema, { error: (iss) => `must be a list of sinks, got ${show(iss.input)}` })
        .max(32, { error: 'at most 32 sinks' })
        .nullable()
        .optional()
        .meta({ description: 'where new alerts are forwarded (each alert once per sink, at least once); `notify:` may also be this list itself' }),
      maxAge: duration({ positive: true, max: { ms: 30 * 86_400_000, why: 'how long deliveries are retried' } })
        .optional()
        .meta({ description: 'deliveries still failing after this long are given up, counted and logged (default 24h)' }),
      pollInterval: duration({ positive: true, max: POLL_MAX })
        .optional()
        .meta({ description: 'how often the outbox is looked at for due deliveries (default 1s)' }),
    },
    'sinks, maxAge, pollInterval',
  );

  // ---- mutationDefaults: values the mutations fill in ----

  const quantities = (part: 'requests' | 'limits') =>
    z
      .record(z.string(), z.union([z.string(), z.number()]), { error: `must be a mapping of resource name to quantity (${RESOURCES_EXAMPLE})` })
      .nullable()
      .transform((v, ctx) => {
        const out: [string, string][] = [];
        for (const [name, quantity] of Object.entries(v ?? {})) {
          if (!(DEFAULTABLE_RESOURCES as readonly string[]).includes(name)) {
            ctx.addIssue({ code: 'custom', path: [name], message: `unknown resource (known: ${DEFAULTABLE_RESOURCES.join(', ')})` });
          } else if (parseQuantity(quantity) === undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `must be a non-negative Kubernetes quantity such as 100m, 0.5 or 128Mi, got ${show(quantity)}`,
            });
          } else out.push([name, String(quantity)]);
        }
        return out;
      })
      .optional()
      .meta({ description: `default ${part}: ${DEFAULTABLE_RESOURCES.join(', ')} → quantity` });

  const mutationDefaultsSection = section(
    {
      resources: section({ requests: quantities('requests'), limits: quantities('limits') }, `requests and/or limits (${RESOURCES_EXAMPLE})`)
        .transform((r, ctx) => {
          const requests = r.requests ?? [];
          const limits = r.limits ?? [];
          for (const [name, request] of requests) {
            const limit = limits.find(([n]) => n === name)?.[1];
            if (limit !== undefined && parseQuantity(request)! > parseQuantity(limit)!) {
              ctx.addIssue({ code: 'custom', path: ['requests', name], message: `${request} is more than the default limit ${limit}` });
            }
          }
          if (requests.length === 0 && limits.length === 0) ctx.addIssue({ code: 'custom', message: `sets no requests and no limits (${RESOURCES_EXAMPLE})` });
          return { requests, limits };
        })
        .nullable()
        .optional()
        .meta({ description: 'requests and limits default-resources fills in' }),
    },
    'resources',
  );

  // ---- backgroundScan, reports: the background scanner of `serve` (background/) ----

  const backgroundScanSection = section(
    {
      enabled: z
        .boolean({ error: (iss) => `must be true or false, got ${show(iss.input)}` })
        .optional()
        .meta({
          description:
            'judge what the cluster already holds and write PolicyReports (default false; the chart sets true); needs a cluster (kubeconfig or in-cluster)',
        }),
      resync: duration({ positive: true }).optional().meta({ description: 'full re-evaluation of every object this often (default 1h)' }),
      debounce: duration({ positive: true }).optional().meta({ description: 'changes seen within this time are evaluated together (default 5s)' }),
    },
    'enabled, resync, debounce',
  );

  const reportsSection = section(
    {
      includePass: z
        .boolean({ error: (iss) => `must be true or false, got ${show(iss.input)}` })
        .optional()
        .meta({ description: 'list pass results in the PolicyReports too (default false: only fail and warn)' }),
      maxResultsPerReport: z
        .number({ error: (iss) => `must be a whole number from 1 to 10000, got ${show(iss.input)}` })
        .int()
        .min(1)
        .max(10000)
        .optional()
        .meta({ description: 'at most this many results in one report; the rest are counted in its summary and a metric (default 1000)' }),
    },
    'includePass, maxResultsPerReport',
  );

  // ---- the whole file ----

  const SECTIONS = {
    server: serverSection,
    store: storeSection,
    api: apiSection,
    audit: auditSection,
    mutationDefaults: mutationDefaultsSection,
    tampering: tamperingSection,
    backgroundScan: backgroundScanSection,
    reports: reportsSection,
    intel: intelSection,
    cluster: clusterSection,
    anomaly: anomalySection,
    notify: notifySection,
  } as const;

  const configSchema = section(
    {
      ...policySchema,
      server: serverSection.nullable().optional().meta({ description: 'the webhook listener' }),
      store: storeSection.nullable().optional().meta({ description: 'the alert store' }),
      api: apiSection.nullable().optional().meta({ description: 'the alerts HTTP API (its own HTTPS listener)' }),
      audit: auditSection.nullable().optional().meta({ description: 'the audit-log analyser' }),
      mutationDefaults: mutationDefaultsSection.nullable().optional().meta({ description: 'values the mutations fill in' }),
      tampering: tamperingSection
        .nullable()
        .optional()
        .meta({ description: "Bulwark's own objects, who may change them and who may weaken a namespace's mode (bulwark-tampering)" }),
      backgroundScan: backgroundScanSection.nullable().optional().meta({ description: 'the background scanner of serve (see docs/background-scan.md)' }),
      reports: reportsSection.nullable().optional().meta({ description: 'the PolicyReports the background scanner writes' }),
      intel: intelSection.nullable().optional().meta({ description: 'threat-intelligence address lists (threat-intel-source)' }),
      cluster: clusterSection.nullable().optional().meta({ description: 'this cluster' }),
      anomaly: anomalySection
        .nullable()
        .optional()
        .meta({ description: 'the service-account baseline of serviceaccount-rare-operation and serviceaccount-token-misuse' }),
      notify: notifySection.nullable().optional().meta({ description: 'alert forwarding: webhook, Slack, syslog, JSON lines' }),
    },
    'keys (profiles, defaultAction, …)',
  ).superRefine((c, ctx) => {
    const missing = missingResourceDefaults(c.mutations ?? DEFAULT_MUTATIONS, c.mutationDefaults?.resources);
    if (missing) ctx.addIssue({ code: 'custom', path: ['mutationDefaults', 'resources'], message: missing });
  });

  return { configSchema, SECTIONS };
}

type Built = ReturnType<typeof build>;
let built: Built | undefined;

/** The configuration schema and its sections, built on first use. */
export function schemas(): Built {
  return (built ??= build());
}
type Sections = Built['SECTIONS'];
export type SectionName = keyof Sections;
/** The file as validated (units converted, nulls read as empty). */
export type ConfigFile = z.output<Built['configSchema']>;
/** A section as written in the file. */
export type SectionInput<K extends SectionName> = NonNullable<z.input<Sections[K]>>;
/** A section as validated: units converted; absent keys stay absent (the owning module fills its defaults). */
export type SectionOutput<K extends SectionName> = z.output<Sections[K]>;
