// The top-level commands: name, one-line description, and where the command is defined. Only the
// command being run is loaded (its module pulls in the Kubernetes client, zod, x509 and the
// policies); `bulwark --help` lists the others from this table alone. The modules take their
// descriptions from here, so the short list and the full command cannot disagree.
import type { Command } from 'commander';

export type Register = (program: Command) => void;

export interface CommandEntry {
  readonly description: string;
  readonly load: () => Promise<Register>;
}

export const COMMANDS = {
  serve: {
    description: 'serve the admission webhook over HTTPS: POST /validate, /mutate; GET /healthz, /readyz, /metrics',
    load: async () => (await import('./serve.js')).registerServe,
  },
  scan: {
    description: 'evaluate Kubernetes manifests offline (YAML or JSON files, directories, - for stdin)',
    load: async () => (await import('./scan.js')).registerScan,
  },
  manifests: {
    description: "print a static install YAML (the Helm chart's defaults) with a freshly generated certificate",
    load: async () => (await import('./install.js')).registerManifests,
  },
  register: {
    description: 'create or update the webhook configurations in a cluster (idempotent); --unregister removes them',
    load: async () => (await import('./install.js')).registerRegister,
  },
  alerts: {
    description: 'list, inspect and dismiss stored alerts through the alerts API',
    load: async () => (await import('../alerts/cli.js')).registerAlerts,
  },
  certs: {
    description: 'create a CA and a serving certificate for the webhook Service (files or a kubernetes.io/tls Secret)',
    load: async () => (await import('../certs/cli.js')).registerCerts,
  },
  audit: {
    description: 'audit-log threat detection',
    load: async () => (await import('../audit/cli.js')).registerAudit,
  },
  config: {
    description: 'check the configuration file, or print its JSON Schema',
    load: async () => (await import('../config/cli.js')).registerConfig,
  },
  rules: {
    description: 'the catalogue of every policy and alert type (id, title, severity, tactics, remediation, sources)',
    load: async () => (await import('./rules.js')).registerRules,
  },
  intel: {
    description: 'threat-intelligence address lists (intel.files)',
    load: async () => (await import('./intel.js')).registerIntel,
  },
  vap: {
    description: 'print ValidatingAdmissionPolicies + bindings compiled from the policies (enforcement that survives the webhook being down)',
    load: async () => (await import('./vap.js')).registerVap,
  },
} as const satisfies Record<string, CommandEntry>;

export type CommandName = keyof typeof COMMANDS;

/** The one-line description of a top-level command. */
export function describe(name: CommandName): string {
  return COMMANDS[name].description;
}
