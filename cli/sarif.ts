// `bulwark scan --format sarif`: SARIF 2.1.0 (OASIS) for code-scanning tools. One run, the tool's
// rules from the policy metadata, one result per finding; files are physical locations (with the
// line of the document when known), cluster objects logical ones.
import { allPolicyMetas } from '../policies/registry.js';
import type { Severity } from '../core/severity.js';
import { categoryOf } from '../background/policyreport.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const INFORMATION_URI = 'https://github.com/bulwark-security/bulwark';

export interface SarifInput {
  /** A file path (physical location), or undefined for a cluster object. */
  file?: string | undefined;
  line?: number | undefined;
  apiVersion?: string | undefined;
  kind: string;
  namespace: string;
  name: string;
  findings: readonly { policy: string; severity: Severity; message: string; path?: string | undefined }[];
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { high: 'error', medium: 'warning', low: 'note', informational: 'note' };
/** GitHub code scanning reads `security-severity` (0–10) from a rule's properties. */
const SECURITY_SEVERITY: Record<Severity, string> = { high: '8.0', medium: '5.5', low: '3.0', informational: '1.0' };

export function toSarif(results: readonly SarifInput[], version: string): object {
  const metas = allPolicyMetas();
  const used = new Set<string>();
  for (const r of results) for (const f of r.findings) used.add(f.policy);
  const ruleIds = [...new Set([...metas.keys(), ...used])].sort();
  const index = new Map(ruleIds.map((id, i) => [id, i]));
  const rules = ruleIds.map((id) => {
    const m = metas.get(id);
    return {
      id,
      name: id,
      shortDescription: { text: m?.title ?? id },
      fullDescription: { text: m?.title ?? id },
      help: { text: m?.remediation ?? 'see the Bulwark documentation', markdown: m?.remediation ?? 'see the Bulwark documentation' },
      defaultConfiguration: { level: LEVEL[m?.severity ?? 'medium'] },
      properties: {
        tags: ['security', 'kubernetes', categoryOf(id), ...(m?.tactics ?? [])],
        'security-severity': SECURITY_SEVERITY[m?.severity ?? 'medium'],
      },
    };
  });
  const sarifResults = [];
  for (const r of results) {
    const qualified = `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name || '(unnamed)'}`;
    const logical = {
      name: r.name || '(unnamed)',
      fullyQualifiedName: qualified,
      kind: 'resource',
      ...(r.namespace ? { decoratedName: `${r.namespace}/${r.name}` } : {}),
    };
    for (const f of r.findings) {
      const location = r.file
        ? {
            physicalLocation: {
              artifactLocation: { uri: fileUri(r.file) },
              ...(r.line !== undefined && r.line > 0 ? { region: { startLine: r.line } } : {}),
            },
            logicalLocations: [logical],
          }
        : { logicalLocations: [logical] };
      sarifResults.push({
        ruleId: f.policy,
        ruleIndex: index.get(f.policy)!,
        level: LEVEL[f.severity],
        message: { text: `${qualified}: [${f.policy}] ${f.message}${f.path ? ` (at ${f.path})` : ''}` },
        locations: [location],
        partialFingerprints: { 'bulwark/v1': `${f.policy}:${qualified}:${f.path ?? ''}` },
      });
    }
  }
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'bulwark', informationUri: INFORMATION_URI, semanticVersion: version, rules } },
        results: sarifResults,
      },
    ],
  };
}

/** A relative path as a URI reference (forward slashes, percent-encoded segments); stdin is `stdin`. */
function fileUri(file: string): string {
  return file
    .split(/[\\/]/)
    .map((seg) => encodeURIComponent(seg))
    .join('/');
}
