// Message clipping: the warnings and the denial message the API server carries, one
// `[policy-id] sentence` line per finding, within the byte limits the API server keeps.
import type { Finding } from '../policies/types.js';
import { findingLine, foldSameField } from '../policies/same-field.js';

export interface LineLimits {
  maxLineBytes: number;
  maxTotalBytes: number;
}

/** Warnings: one per finding, each at most 256 bytes, all within 4 KiB (the API server truncates beyond). */
export const WARNING_LIMITS: LineLimits = { maxLineBytes: 256, maxTotalBytes: 4096 };
/** The denial's status.message: one line per finding, bounded so a pathological object cannot bloat it. */
export const DENIAL_LIMITS: LineLimits = { maxLineBytes: 1024, maxTotalBytes: 16384 };

/** Distinct policy IDs in first-seen order. */
export function policyIds(findings: readonly { policy: string }[]): string[] {
  const ids: string[] = [];
  for (const f of findings) if (!ids.includes(f.policy)) ids.push(f.policy);
  return ids;
}

// Characters the API server cannot carry in a Warning header or a one-line message.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]+/g;

/** The text, on one line, clipped to `maxBytes` of UTF-8 with an ellipsis. */
export function clip(text: string, maxBytes: number): string {
  const line = text.replace(CONTROL_CHARACTERS, ' ');
  if (Buffer.byteLength(line) <= maxBytes) return line;
  const chars = Array.from(line);
  let bytes = 3; // '…'
  let out = '';
  for (const ch of chars) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    out += ch;
  }
  return out + '…';
}

/**
 * One `[policy-id] sentence` line per finding (duplicates once; a defender and a PSS finding on the
 * same field share a line, policies/same-field.ts), each within `maxLineBytes`, all
 * within `maxTotalBytes`; findings that do not fit are summarised in a last line:
 * `[bulwark] 7 more findings: policy-a, policy-b (see the alert)`.
 */
export interface Omitted {
  /** Findings left out before the lines were made (policies/evaluate.ts MAX_FINDINGS_PER_CHECK). */
  count: number;
  /** Their policy IDs. */
  ids: readonly string[];
}

export function limitLines(findings: readonly Finding[], limits: LineLimits, dryRun = false, omitted?: Omitted): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const f of foldSameField(findings)) {
    const line = findingLine(f);
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(clip(line, limits.maxLineBytes));
    }
  }
  let total = 0;
  for (const l of lines) total += Buffer.byteLength(l);
  const extra = omitted && omitted.count > 0 ? omitted : undefined;
  if (total <= limits.maxTotalBytes && !extra) return lines;

  // Keep what fits while leaving room for the summary line (at most maxLineBytes).
  const kept: string[] = [];
  let used = 0;
  let i = 0;
  for (; i < lines.length; i++) {
    const n = Buffer.byteLength(lines[i]!);
    if (used + n + limits.maxLineBytes > limits.maxTotalBytes) break;
    kept.push(lines[i]!);
    used += n;
  }
  const rest = lines.slice(i);
  const ids: string[] = [];
  for (const l of rest) {
    const id = l.slice(1, l.indexOf(']'));
    if (!ids.includes(id)) ids.push(id);
  }
  for (const id of extra?.ids ?? []) if (!ids.includes(id)) ids.push(id);
  kept.push(summaryLine(rest.length + (extra?.count ?? 0), ids, dryRun, limits.maxLineBytes));
  return kept;
}

function summaryLine(count: number, ids: readonly string[], dryRun: boolean, maxBytes: number): string {
  const head = `[bulwark] ${count} more ${count === 1 ? 'finding' : 'findings'}: `;
  const tail = dryRun ? ' (dry run: no alert recorded)' : ' (see the alert)';
  let list = '';
  for (let i = 0; i < ids.length; i++) {
    const next = list ? `${list}, ${ids[i]}` : ids[i]!;
    const more = i < ids.length - 1 ? ', …' : '';
    if (Buffer.byteLength(head + next + more + tail) > maxBytes) {
      list = list ? `${list}, …` : '…';
      break;
    }
    list = next;
  }
  return clip(head + list + tail, maxBytes);
}
