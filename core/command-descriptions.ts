// The one-line descriptions of the top-level commands: cli/commands.ts lists them for `bulwark --help`
// without loading the command modules, and each module describes its command with the same text.

export const COMMAND_DESCRIPTIONS = {
  serve: 'serve the admission webhook over HTTPS: POST /validate, /mutate; GET /healthz, /readyz, /metrics',
  scan: 'evaluate Kubernetes manifests offline (YAML or JSON files, directories, - for stdin)',
  manifests: "print a static install YAML (the Helm chart's defaults) with a freshly generated certificate",
  register: 'create or update the webhook configurations in a cluster (idempotent); --unregister removes them',
  alerts: 'list, inspect and dismiss stored alerts through the alerts API',
  certs: 'create a CA and a serving certificate for the webhook Service (files or a kubernetes.io/tls Secret)',
  audit: 'audit-log threat detection',
  config: 'check the configuration file, or print its JSON Schema',
  rules: 'the catalogue of every policy and alert type (id, title, severity, tactics, remediation, sources)',
  intel: 'threat-intelligence address lists (intel.files)',
  anomaly: 'the service-account baseline of serviceaccount-rare-operation: what each account learned',
  vap: 'print ValidatingAdmissionPolicies + bindings compiled from the policies (enforcement that survives the webhook being down)',
} as const;

export type CommandName = keyof typeof COMMAND_DESCRIPTIONS;

/** The one-line description of a top-level command. */
export function describe(name: CommandName): string {
  return COMMAND_DESCRIPTIONS[name];
}
