// Where each top-level command is defined. Only the command being run is loaded (its module pulls
// in the Kubernetes client, zod, x509 and the policies); `bulwark --help` lists the others from
// core/command-descriptions.ts alone, the text each module also describes its command with.
import type { Command } from 'commander';
import type { CommandName } from '../core/command-descriptions.js';

export type Register = (program: Command) => void;

export const COMMANDS: Readonly<Record<CommandName, () => Promise<Register>>> = {
  serve: async () => (await import('./serve.js')).registerServe,
  scan: async () => (await import('./scan.js')).registerScan,
  manifests: async () => (await import('./install.js')).registerManifests,
  register: async () => (await import('./install.js')).registerRegister,
  alerts: async () => (await import('../alerts/cli.js')).registerAlerts,
  certs: async () => (await import('../certs/cli.js')).registerCerts,
  audit: async () => (await import('../audit/cli.js')).registerAudit,
  config: async () => (await import('../config/cli.js')).registerConfig,
  rules: async () => (await import('./rules.js')).registerRules,
  intel: async () => (await import('./intel.js')).registerIntel,
  anomaly: async () => (await import('./anomaly.js')).registerAnomaly,
  vap: async () => (await import('./vap.js')).registerVap,
};
