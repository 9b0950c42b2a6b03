// The top-level commands: name, one-line description, and where the command is defined. Only the
// command being run is loaded (its module pulls in the Kubernetes client, zod, x509 and the
// policies); `bulwark --help` lists the others from this table alone. The modules take their
// descriptions from here, so the short list and the full command cannot disagree.
import type { Command } from 'commander';
import { COMMAND_DESCRIPTIONS } from '../core/command-descriptions.js';

export type Register = (program: Command) => void;

export interface CommandEntry {
  readonly description: string;
  readonly load: () => Promise<Register>;
}

export const COMMANDS = {
  serve: {
    description: COMMAND_DESCRIPTIONS.serve,
    load: async () => (await import('./serve.js')).registerServe,
  },
  scan: {
    description: COMMAND_DESCRIPTIONS.scan,
    load: async () => (await import('./scan.js')).registerScan,
  },
  manifests: {
    description: COMMAND_DESCRIPTIONS.manifests,
    load: async () => (await import('./install.js')).registerManifests,
  },
  register: {
    description: COMMAND_DESCRIPTIONS.register,
    load: async () => (await import('./install.js')).registerRegister,
  },
  alerts: {
    description: COMMAND_DESCRIPTIONS.alerts,
    load: async () => (await import('../alerts/cli.js')).registerAlerts,
  },
  certs: {
    description: COMMAND_DESCRIPTIONS.certs,
    load: async () => (await import('../certs/cli.js')).registerCerts,
  },
  audit: {
    description: COMMAND_DESCRIPTIONS.audit,
    load: async () => (await import('../audit/cli.js')).registerAudit,
  },
  config: {
    description: COMMAND_DESCRIPTIONS.config,
    load: async () => (await import('../config/cli.js')).registerConfig,
  },
  rules: {
    description: COMMAND_DESCRIPTIONS.rules,
    load: async () => (await import('./rules.js')).registerRules,
  },
  intel: {
    description: COMMAND_DESCRIPTIONS.intel,
    load: async () => (await import('./intel.js')).registerIntel,
  },
  vap: {
    description: COMMAND_DESCRIPTIONS.vap,
    load: async () => (await import('./vap.js')).registerVap,
  },
} as const satisfies Record<string, CommandEntry>;

export type CommandName = keyof typeof COMMANDS;
