// `bulwark vap`: prints the ValidatingAdmissionPolicies and bindings compiled from the configuration
// (the backstop that keeps enforcing while the webhook is down), or with --explain what was compiled.
import { Command, Option } from 'commander';
import { collectChecked } from '../core/cli-flags.js';
import { stringify } from 'yaml';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfigFile, parseConfig } from '../config/load.js';
import { compileConfig } from '../policies/config.js';
import { parseProfile } from '../policies/registry.js';
import { renderExplain } from '../vap/explain.js';
import { generateVap, VAP_API_VERSIONS, type VapApiVersion, type VapResult } from '../vap/generate.js';
import { describe } from '../core/command-descriptions.js';

export interface VapCommandOptions {
  config?: string;
  profile?: string[];
  explain?: boolean;
  apiVersion?: VapApiVersion;
  format?: 'yaml' | 'json';
}

const collectProfile = collectChecked(parseProfile);

/** The policies for a config file (or the defaults) and profile override. Throws ConfigError on bad input. */
export function vapForOptions(options: VapCommandOptions): VapResult {
  let config = loadConfigFile(options.config);
  if (options.profile?.length) config = { ...config, profiles: [...options.profile] };
  return generateVap(compileConfig(config), options.apiVersion ?? 'v1');
}

/** The objects as multi-document YAML or one JSON List. */
export function renderVapObjects(result: VapResult, format: 'yaml' | 'json' = 'yaml'): string {
  if (format === 'json') return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: result.objects }, null, 2) + '\n';
  return result.objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

export function registerVap(program: Command): void {
  program
    .command('vap')
    .description(describe('vap'))
    .option('-c, --config <file>', 'Bulwark configuration (profiles, actions, exemptions, lists)')
    .option('-p, --profile <name>', "policy set, repeatable, replaces the config's profiles", collectProfile)
    .option('--explain', 'print what is compiled, its estimated CEL cost, and what stays webhook-only, instead of the objects')
    .addOption(
      new Option('--api-version <version>', 'admissionregistration.k8s.io version: v1 (Kubernetes 1.30+) or v1beta1 (1.28–1.29)')
        .choices([...VAP_API_VERSIONS])
        .default('v1'),
    )
    .addOption(new Option('-o, --format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action((options: VapCommandOptions) => {
      let result: VapResult;
      try {
        result = vapForOptions(options);
      } catch (err) {
        process.stderr.write(`bulwark vap: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(options.explain ? renderExplain(result) : renderVapObjects(result, options.format));
    });
}

/**
 * The ValidatingAdmissionPolicies for `bulwark manifests --vap`: compiled from the config in the install's
 * ConfigMap (so they judge with the same profiles, actions and exemptions as the webhook they back up).
 */
export function vapObjectsForInstall(docs: readonly Record<string, any>[], apiVersion: VapApiVersion): Record<string, unknown>[] {
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && typeof d.data?.['config.yaml'] === 'string');
  const text = configMap ? (configMap.data['config.yaml'] as string) : '';
  const raw = parseYaml(text) as Record<string, unknown> | null;
  // Sections owned by the server (tls, store, api) do not matter here and may hold keys this parser does not know.
  const judged = raw
    ? Object.fromEntries(Object.entries(raw).filter(([k]) => ['profiles', 'defaultAction', 'actions', 'exemptions', 'lists'].includes(k)))
    : {};
  return generateVap(compileConfig(parseConfig(stringify(judged), 'the install ConfigMap')), apiVersion).objects;
}
