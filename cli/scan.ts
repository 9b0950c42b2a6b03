// `bulwark scan`: the policies of the webhook, run offline on manifests (files, directories, stdin).
import { findingLine, foldSameField } from '../policies/same-field.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Option, type Command } from 'commander';
import { compileConfig, exemptionReason, type CompiledConfig } from '../policies/config.js';
import { type BulwarkConfig } from '../config/load.js';
import { ConfigError } from '../core/errors.js';
import { evaluateSubject } from '../policies/evaluate.js';
import { parseProfile } from '../policies/registry.js';
import { toSubject } from '../policies/subject.js';
import { type Finding, type SubjectType } from '../policies/types.js';
import { SEVERITY_RANK, type Severity } from '../core/severity.js';
import { loadConfigFile } from '../config/load.js';
import { isManifestError, isManifestSkip, loadManifests, readStream, type HelmChart, type ManifestSkip } from './manifests.js';
import { globToRegExp } from '../core/glob.js';
import { collect, collectChecked, filenameOptions, outputOptions, resolveFilesAndOutput, type FileAndOutputFlags } from '../core/cli-flags.js';
import type { Action } from '../policies/config.js';
import { stringify as toYaml } from 'yaml';
import { buildPolicyReports, type ReportSubject } from '../background/policyreport.js';
import { judgeCluster } from '../background/cluster.js';
import { loadKubeConfig } from '../background/kube.js';
import { toSarif } from './sarif.js';
import { describe } from '../core/command-descriptions.js';

/** Where the scan reads and writes; injectable so that tests run it in-process. */
export interface ScanIO {
  stdout: { write(chunk: string): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown };
  stdin: AsyncIterable<string | Buffer>;
  env: Record<string, string | undefined>;
  /** Colour the table; by default only when stdout is a TTY and NO_COLOR is unset or empty. */
  color?: boolean;
}

export interface ScanOptions {
  config?: string;
  /** Replace the config's profiles when given (non-empty). */
  profile?: string[];
  format?: ScanFormat;
  /** Judge what the cluster of the kubeconfig holds instead of files. */
  cluster?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  /** Overrides every namespace's mode and the config's actions (cluster scans). */
  mode?: Action;
  /** Globs of paths (or base names) to leave out of directory walks. */
  exclude?: string[];
  /** List each skipped file or document on stderr. */
  verbose?: boolean;
  /** Render this Helm chart with `helm template` and scan what it renders. */
  helmChart?: string;
  /** Values files for --helm-chart. */
  values?: string[];
  /** The helm binary (default helm on PATH). */
  helm?: string;
}

export const SCAN_FORMATS = ['table', 'json', 'sarif', 'policyreport'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

export const EXIT_CLEAN = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_BAD_INPUT = 2;

/** One evaluated object, as `--format json` prints it. */
export interface ScanResult {
  source: string;
  /** The object's apiVersion and uid (uid: cluster objects only). */
  apiVersion?: string;
  uid?: string;
  /** For files: the file and the line the object starts on. */
  file?: string;
  line?: number;
  kind: string;
  namespace: string;
  name: string;
  /** `action`: what admission would do with the finding (config actions; with --cluster also the namespace mode). */
  findings: (Pick<Finding, 'policy' | 'severity' | 'message' | 'path'> & { action?: Action })[];
}

export interface ScanError {
  source: string;
  file: string;
  line?: number;
  column?: number;
  /** Set when a check threw on an object (a bug, or a shape no check expected). */
  policy?: string;
  message: string;
}

export interface ScanSummary {
  files: number;
  objects: number;
  findings: number;
  bySeverity: Record<Severity, number>;
  /** Objects whose kind no active check looks at (ConfigMap, Namespace, …). */
  skipped: number;
  /** Objects in an exempt namespace. */
  exempt: number;
  errors: number;
  /** Files or documents that are not Kubernetes objects (values files, Helm templates, kustomizations). */
  notObjects: number;
}

export interface ScanReport {
  results: ScanResult[];
  errors: ScanError[];
  summary: ScanSummary;
}

const ioStorage = new AsyncLocalStorage<Partial<ScanIO>>();

/** Runs `fn` (e.g. `main([...])`) with the scan's streams replaced. */
export function withScanIO<T>(io: Partial<ScanIO>, fn: () => T): T {
  return ioStorage.run(io, fn);
}

function currentIO(): ScanIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    ...ioStorage.getStore(),
  };
}

const collectProfile = collectChecked(parseProfile);

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description(describe('scan'))
    .argument('[path...]', 'manifest files or directories (recursively: .yaml, .yml, .json), - for stdin')
    .option('-c, --config <file>', 'Bulwark configuration (profiles, actions, exemptions)')
    .option(
      '-p, --profile <name>',
      "policy set, repeatable, replaces the config's profiles: defender, pss-baseline, pss-restricted (pss-restricted@v1.29 pins a version)",
      collectProfile,
    )
    .addOption(filenameOptions()[0]!)
    .addOption(filenameOptions()[1]!)
    .addOption(outputOptions(SCAN_FORMATS)[0]!)
    .addOption(outputOptions(SCAN_FORMATS)[1]!)
    .option('--cluster', 'judge what the cluster of the kubeconfig already holds (instead of files)')
    .option('--kubeconfig <file>', 'with --cluster: the kubeconfig (default $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'with --cluster: the kubeconfig context')
    .option('-n, --namespace <ns>', 'with --cluster: only this namespace; with --helm-chart: the release namespace')
    .option('-A, --all-namespaces', 'with --cluster: every namespace (the default)')
    .addOption(new Option('--mode <action>', 'with --cluster: judge as if every namespace had bulwark.io/mode=<action>').choices(['enforce', 'warn', 'audit']))
    .option('--exclude <glob>', 'leave out files and folders whose path or name matches (repeatable; * matches any run of characters)', collect)
    .option('--helm-chart <dir>', 'render this Helm chart with helm template and scan the result (with or without PATHs)')
    .option('--values <file>', 'with --helm-chart: a values file (repeatable)', collect)
    .option('--helm <path>', 'with --helm-chart: the helm binary (default: helm on PATH)')
    .option('-v, --verbose', 'list each file or document skipped as not a Kubernetes object (values files, Helm templates, kustomizations)')
    .configureOutput({
      writeOut: (s) => void currentIO().stdout.write(s),
      writeErr: (s) => void currentIO().stderr.write(s),
    })
    .action(async (positional: string[], options: ScanOptions & FileAndOutputFlags) => {
      const io = currentIO();
      const { paths, format } = resolveFilesAndOutput(positional, options, SCAN_FORMATS, 'table', (l) => void io.stderr.write(`bulwark scan: ${l}\n`));
      process.exitCode = await runScan(paths, { ...options, format: format as ScanFormat }, io);
    });
}

/** The whole command: loads the config, scans, prints; resolves to the exit code. */
export async function runScan(paths: readonly string[], options: ScanOptions, io: ScanIO): Promise<number> {
  const log = (line: string): void => void io.stderr.write(`bulwark scan: ${line}\n`);
  // -n also names the release namespace of --helm-chart.
  const clusterOnly = (['kubeconfig', 'context', 'namespace', 'allNamespaces', 'mode'] as const).filter(
    (k) => options[k] !== undefined && !(k === 'namespace' && options.helmChart),
  );
  if (options.cluster && paths.length > 0) {
    log('--cluster reads the cluster: give no PATH with it');
    return EXIT_BAD_INPUT;
  }
  if (!options.cluster && clusterOnly.length > 0) {
    log(`--${clusterOnly[0]!.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} needs --cluster`);
    return EXIT_BAD_INPUT;
  }
  if (options.namespace !== undefined && options.allNamespaces) {
    log('give either -n/--namespace or -A/--all-namespaces, not both');
    return EXIT_BAD_INPUT;
  }
  if ((options.values || options.helm) && !options.helmChart) {
    log(`--${options.values ? 'values' : 'helm'} needs --helm-chart`);
    return EXIT_BAD_INPUT;
  }
  if (!options.cluster && paths.length === 0 && !options.helmChart) {
    log("missing required argument 'path' (a manifest file, a directory, - for stdin) or --cluster");
    return EXIT_BAD_INPUT;
  }
  let config: BulwarkConfig;
  let compiled: CompiledConfig;
  try {
    config = loadConfigFile(options.config);
    if (options.profile && options.profile.length > 0) config = { ...config, profiles: [...options.profile] };
    compiled = compileConfig(config); // throws on a profile or PSS version this build does not know
  } catch (err) {
    log(err instanceof ConfigError ? err.message : (err as Error).message);
    return EXIT_BAD_INPUT;
  }
  if (config.exemptions.usernames.length > 0 || config.exemptions.groups.length > 0) {
    log('note: exemptions.usernames and exemptions.groups do not apply offline (a manifest has no requesting user)');
  }

  const format = options.format ?? 'table';
  const color = io.color ?? (io.stdout.isTTY === true && !io.env.NO_COLOR);
  const table = format === 'table' ? new TablePrinter(io.stdout, color, options.verbose === true) : undefined;
  const hooks: ScanHooks = {
    readStdin: () => readStream(io.stdin),
    exclude: (options.exclude ?? []).map((g) => globToRegExp(g)),
    helmCharts: options.helmChart
      ? [
          {
            dir: options.helmChart,
            values: options.values ?? [],
            ...(options.helm ? { helm: options.helm } : {}),
            ...(options.namespace ? { namespace: options.namespace } : {}),
          },
        ]
      : [],
    onSkip: options.verbose ? (s) => log(`skipped ${s.source}: ${s.skipped}`) : undefined,
    onError: (e) => log(`${e.source}: ${e.policy ? `check ${e.policy} failed: ` : ''}${e.message}`),
    onResult: table ? (r) => table.result(r) : undefined,
  };
  let report: ScanReport;
  if (options.cluster) {
    try {
      report = await scanCluster(compiled, options, hooks);
    } catch (err) {
      log((err as Error).message);
      return EXIT_BAD_INPUT;
    }
  } else {
    report = await scanManifests(paths, compiled, hooks);
  }
  if (table) table.summary(report);
  else if (format === 'sarif') io.stdout.write(JSON.stringify(toSarif(report.results, process.env.npm_package_version ?? '0.1.0'), null, 2) + '\n');
  else if (format === 'policyreport') {
    const { reports } = buildPolicyReports(report.results.map(reportSubjectOf));
    io.stdout.write(reports.map((r) => toYaml(r)).join('---\n'));
  } else io.stdout.write(JSON.stringify(contractShape(report), null, 2) + '\n');
  return exitCodeOf(report);
}

/** `--format json` prints the contract's shape: the fields for SARIF and reports stay inside. */
function contractShape(report: ScanReport): ScanReport {
  return {
    ...report,
    results: report.results.map((r) => ({
      source: r.source,
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      findings: r.findings.map((f) => ({ policy: f.policy, severity: f.severity, message: f.message, path: f.path })),
    })),
  };
}

function reportSubjectOf(r: ScanResult): ReportSubject {
  return {
    apiVersion: r.apiVersion ?? '',
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    uid: r.uid ?? '',
    findings: r.findings,
  };
}

function emptyReport(): ScanReport {
  return {
    results: [],
    errors: [],
    summary: {
      files: 0,
      objects: 0,
      findings: 0,
      bySeverity: { high: 0, medium: 0, low: 0, informational: 0 },
      skipped: 0,
      exempt: 0,
      errors: 0,
      notObjects: 0,
    },
  };
}

/**
 * `scan --cluster`: lists the judged kinds from the kubeconfig's cluster and judges each object as
 * admission would judge its creation (background/judge.ts → webhook/decide.ts), owned pods folded
 * into their workload. A kind that cannot be listed (RBAC, not served) is an error (exit 2), the
 * others are still judged; an unreachable cluster or a bad kubeconfig throws.
 */
export async function scanCluster(compiled: CompiledConfig, options: ScanOptions, hooks: ScanHooks = {}): Promise<ScanReport> {
  const kc = await loadKubeConfig({ kubeconfig: options.kubeconfig, context: options.context });
  const source = `cluster ${kc.getCurrentContext() || kc.getCurrentCluster()?.name || ''}`.trim();
  const report = emptyReport();
  const { judged } = await judgeCluster(kc, {
    compiled,
    namespace: options.namespace,
    mode: options.mode,
    onKindError: (kind, error) => {
      const e: ScanError = { source, file: kind, message: `cannot list ${kind}: ${error.message}` };
      report.errors.push(e);
      hooks.onError?.(e);
    },
  });
  for (const j of judged) {
    if (j.outcome === 'skipped') {
      report.summary.skipped++;
      continue;
    }
    if (j.outcome === 'exempt') {
      report.summary.exempt++;
      continue;
    }
    for (const e of j.errors) {
      const err: ScanError = { source, file: `${j.kind}/${j.namespace ? j.namespace + '/' : ''}${j.name}`, policy: e.policy, message: e.message };
      report.errors.push(err);
      hooks.onError?.(err);
    }
    const result: ScanResult = {
      source,
      apiVersion: j.apiVersion,
      uid: j.uid,
      kind: j.kind,
      namespace: j.namespace,
      name: j.name,
      findings: j.findings.map((f) => ({ policy: f.policy, severity: f.severity, message: f.message, path: f.path, action: f.action })),
    };
    report.results.push(result);
    report.summary.objects++;
    report.summary.findings += result.findings.length;
    for (const f of result.findings) report.summary.bySeverity[f.severity]++;
    hooks.onResult?.(result);
  }
  report.summary.errors = report.errors.length;
  return report;
}

export function exitCodeOf(report: ScanReport): number {
  if (report.errors.length > 0) return EXIT_BAD_INPUT;
  return report.summary.findings > 0 ? EXIT_FINDINGS : EXIT_CLEAN;
}

export interface ScanHooks {
  readStdin?: () => Promise<string>;
  exclude?: readonly RegExp[];
  helmCharts?: readonly HelmChart[];
  onSkip?: (skip: ManifestSkip) => void;
  onResult?: (result: ScanResult) => void;
  onError?: (error: ScanError) => void;
}

/** Loads every manifest of `paths` and evaluates the subjects with the config's active checks. */
export async function scanManifests(paths: readonly string[], compiled: CompiledConfig, hooks: ScanHooks = {}): Promise<ScanReport> {
  const checkedTypes = new Set<SubjectType>();
  for (const check of compiled.checks) for (const type of check.appliesTo) checkedTypes.add(type as SubjectType);

  const report = emptyReport();

  const files = new Set<string>();
  const addError = (error: ScanError): void => {
    report.errors.push(error);
    hooks.onError?.(error);
  };

  for await (const entry of loadManifests(paths, {
    ...(hooks.readStdin ? { readStdin: hooks.readStdin } : {}),
    exclude: hooks.exclude ?? [],
    helmCharts: hooks.helmCharts ?? [],
  })) {
    if (isManifestSkip(entry)) {
      report.summary.notObjects++;
      hooks.onSkip?.(entry);
      continue;
    }
    files.add(entry.file);
    if (isManifestError(entry)) {
      const { error, ...where } = entry;
      addError({ ...where, message: error });
      continue;
    }
    const subject = toSubject(entry.object);
    if (!subject || !checkedTypes.has(subject.type)) {
      report.summary.skipped++;
      continue;
    }
    if (exemptionReason(compiled, subject.ref.namespace) !== undefined) {
      report.summary.exempt++;
      continue;
    }
    const evaluation = evaluateSubject(subject, compiled);
    for (const e of evaluation.errors) {
      addError({ source: entry.source, file: entry.file, line: entry.line, policy: e.policy, message: e.error.message });
    }
    const findings = evaluation.findings
      .map((f, i) => ({ f, i }))
      .sort((a, b) => SEVERITY_RANK[b.f.severity] - SEVERITY_RANK[a.f.severity] || a.i - b.i)
      .map(({ f }) => ({
        policy: f.policy,
        severity: f.severity,
        message: f.message,
        path: f.path,
        action: compiled.actionOf.get(f.policy) ?? compiled.config.defaultAction,
      }));
    const result: ScanResult = {
      source: entry.source,
      ...(typeof entry.object.apiVersion === 'string' ? { apiVersion: entry.object.apiVersion } : {}),
      file: entry.file,
      line: entry.line,
      kind: subject.ref.kind,
      namespace: subject.ref.namespace,
      name: subject.ref.name,
      findings,
    };
    report.results.push(result);
    report.summary.objects++;
    report.summary.findings += findings.length;
    for (const f of findings) report.summary.bySeverity[f.severity]++;
    hooks.onResult?.(result);
  }
  report.summary.files = files.size;
  report.summary.errors = report.errors.length;
  return report;
}

const SEVERITY_LABEL: Record<Severity, string> = { high: 'HIGH', medium: 'MEDIUM', low: 'LOW', informational: 'INFO' };
const SEVERITY_COLOR: Record<Severity, string> = { high: '\x1b[31;1m', medium: '\x1b[33m', low: '\x1b[36m', informational: '\x1b[2m' };
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const SEVERITIES_DESC: readonly Severity[] = ['high', 'medium', 'low', 'informational'];

/** The human format: objects with findings as they are evaluated, then one summary line. */
class TablePrinter {
  private printed = 0;

  constructor(
    private readonly out: ScanIO['stdout'],
    private readonly color: boolean,
    private readonly verbose = false,
  ) {}

  result(r: ScanResult): void {
    if (r.findings.length === 0) return;
    const name = r.name || '(unnamed)';
    const where = r.namespace ? `${r.namespace}/${name}` : name;
    const header = `${r.kind} ${where}  (${r.source})`;
    let text = (this.printed++ > 0 ? '\n' : '') + (this.color ? `${BOLD}${header}${RESET}` : header) + '\n';
    for (const f of foldSameField(r.findings)) {
      const label = SEVERITY_LABEL[f.severity].padEnd(6);
      const severity = this.color ? `${SEVERITY_COLOR[f.severity]}${label}${RESET}` : label;
      text += `  ${severity}  ${findingLine(f)}${f.path ? ` (at ${f.path})` : ''}\n`;
    }
    this.out.write(text);
  }

  summary(report: ScanReport): void {
    const s = report.summary;
    const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
    let line = `${plural(s.objects, 'object')} scanned`;
    if (s.findings === 0) line += ', no findings';
    else {
      const withFindings = report.results.filter((r) => r.findings.length > 0).length;
      const bySeverity = SEVERITIES_DESC.filter((sev) => s.bySeverity[sev] > 0).map((sev) => `${s.bySeverity[sev]} ${sev}`);
      line += `, ${plural(s.findings, 'finding')} (${bySeverity.join(', ')}) in ${plural(withFindings, 'object')}`;
    }
    const extra: string[] = [];
    if (s.skipped > 0) extra.push(`${s.skipped} skipped (no checks for their kind)`);
    if (s.exempt > 0) extra.push(`${s.exempt} exempt`);
    if (s.notObjects > 0) extra.push(`${s.notObjects} not Kubernetes objects (values, Helm templates, kustomizations${this.verbose ? '' : '; -v lists them'})`);
    if (s.errors > 0) extra.push(`${plural(s.errors, 'error')} (on stderr)`);
    if (extra.length > 0) line += `; ${extra.join(', ')}`;
    this.out.write(`${this.printed > 0 ? '\n' : ''}${line}\n`);
  }
}
