// `bulwark rules`: the catalogue of every policy and alert type, as data. Each entry is built from
// the rule's own metadata (id, title, severity, tactics, remediation), so the catalogue cannot
// drift from what the rules raise; `sources` says where each one can fire.
import type { Command } from 'commander';
import { AUDIT_RULES } from '../audit/rules/index.js';
import { DEFENDER_CHECKS } from '../policies/defender/index.js';
import { PSS_CHECK_METAS } from '../policies/pss/index.js';
import { TAMPERING_META } from '../policies/tampering.js';
import { FLOOD_META } from '../alerts/flood.js';
import type { CheckMeta } from '../policies/types.js';
import { describe } from '../core/command-descriptions.js';

export const RULE_SOURCES = ['admission', 'audit', 'background'] as const;
export type RuleSource = (typeof RULE_SOURCES)[number];

export interface CatalogueEntry {
  id: string;
  title: string;
  severity: string;
  tactics: string[];
  remediation: string;
  sources: RuleSource[];
  /** defender | pss-baseline | pss-restricted for policies; audit for audit-only alert types; pipeline for the alert pipeline's own. */
  set: string;
}

function entry(meta: CheckMeta, set: string, sources: RuleSource[]): CatalogueEntry {
  return { id: meta.id, title: meta.title, severity: meta.severity, tactics: [...meta.tactics], remediation: meta.remediation, sources, set };
}

/**
 * Every policy and alert type this build raises, each ID once:
 * - the defender policies judge admission reviews, the objects of audit-log writes and, through
 *   `scan --cluster` and the background scanner, what a cluster already holds;
 * - the Pod Security Standards policies judge admission and stored objects (not the audit log);
 * - audit rules read the audit log; those whose `sources` say more (bulwark-tampering) also fire
 *   at admission or from the background scanner.
 */
export function ruleCatalogue(): CatalogueEntry[] {
  const out = new Map<string, CatalogueEntry>();
  for (const c of DEFENDER_CHECKS) out.set(c.id, entry(c, 'defender', ['admission', 'audit', 'background']));
  for (const c of PSS_CHECK_METAS) {
    const level = (c as CheckMeta & { level?: string }).level ?? 'baseline';
    out.set(c.id, entry(c, `pss-${level}`, ['admission', 'background']));
  }
  for (const r of AUDIT_RULES) {
    const prior = out.get(r.id);
    if (prior) {
      for (const s of r.sources ?? ['audit']) if (!prior.sources.includes(s)) prior.sources.push(s);
      continue;
    }
    out.set(r.id, entry(r, 'audit', [...(r.sources ?? ['audit'])]));
  }
  if (!out.has(TAMPERING_META.id)) out.set(TAMPERING_META.id, entry(TAMPERING_META, 'audit', ['admission', 'audit']));
  // Raised by the alert pipeline over any source's alerts (store.floodLimit).
  out.set(FLOOD_META.id, entry(FLOOD_META, 'pipeline', ['admission', 'audit', 'background']));
  for (const e of out.values()) e.sources.sort((a, b) => RULE_SOURCES.indexOf(a) - RULE_SOURCES.indexOf(b));
  return [...out.values()];
}

/** The catalogue as a fixed-width table (id, severity, sources, tactics, title). */
export function formatCatalogueTable(entries: readonly CatalogueEntry[]): string {
  const rows = [
    ['ID', 'SEVERITY', 'SOURCES', 'TACTICS', 'TITLE'],
    ...entries.map((e) => [e.id, e.severity, e.sources.join(','), e.tactics.join(', '), e.title]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function registerRules(program: Command): void {
  program
    .command('rules')
    .description(describe('rules'))
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-o, --output <format>', 'alias of --format')
    .action((opts: { format: string; output?: string }) => {
      const format = opts.output ?? opts.format;
      if (format !== 'table' && format !== 'json') {
        process.stderr.write(`bulwark rules: --format must be table or json, got ${JSON.stringify(format)}\n`);
        process.exitCode = 2;
        return;
      }
      const entries = ruleCatalogue();
      process.stdout.write(format === 'json' ? JSON.stringify(entries, null, 2) + '\n' : formatCatalogueTable(entries));
    });
}
