// Small builders of CEL text shared by every check's compilation: literals, the container walk,
// container descriptions for messages, and the image-exemption guard.
import type { CompileContext } from './types.js';

/** A CEL string literal (single-quoted, backslashes and quotes escaped). */
export function lit(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** A CEL list literal of strings. */
export function listLit(items: readonly string[]): string {
  return `[${items.map(lit).join(', ')}]`;
}

/** `has(a.b) && has(a.b.c) && …` for a dotted field path under `base` (`fieldChain('c', 'securityContext.privileged')`). */
export function hasChain(base: string, path: string): string {
  const parts = path.split('.');
  const out: string[] = [];
  let cur = base;
  for (const p of parts) {
    cur = `${cur}.${p}`;
    out.push(`has(${cur})`);
  }
  return `(${out.join(' && ')})`;
}

/** `has(…) && <base>.<path> == <value>`: a field that is present and equals the CEL value. */
export function fieldIs(base: string, path: string, value: string): string {
  return `(${hasChain(base, path)} && ${base}.${path} == ${value})`;
}

/** A string field or '' (Go's zero value) when absent. */
export function stringOr(base: string, path: string): string {
  return `(${hasChain(base, path)} ? ${base}.${path} : '')`;
}

/** Escapes a literal for RE2. */
export function reEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

export const CONTAINER_LISTS = [
  { variable: 'containers', noun: 'container' },
  { variable: 'initContainers', noun: 'init container' },
  { variable: 'ephemeralContainers', noun: 'ephemeral container' },
] as const;

/** The container predicate with the image exemption applied (findings about exempt images are dropped). */
export function containerBad(ctx: CompileContext, bad: string): string {
  return ctx.imageExempt ? `((${bad}) && !(${ctx.imageExempt('c')}))` : `(${bad})`;
}

/** True when some container (of the three lists) is bad. */
export function anyContainer(bad: string): string {
  return `variables.allContainers.exists(c, ${bad})`;
}

/**
 * A CEL string naming the first bad container as the webhook does (`container "app"`,
 * `init container "setup"`), followed by a suffix built from it (`c` bound to that container).
 * Evaluated only after the validation failed, so some container is bad.
 */
export function firstContainer(bad: string, suffix = "''"): string {
  return `${badContainers(bad, suffix)}[0]`;
}

/** The list of sentences (`container "app"` + suffix) for every bad container, in the webhook's order. */
export function badContainers(bad: string, suffix = "''"): string {
  const parts = CONTAINER_LISTS.map(({ variable, noun }) => `variables.${variable}.filter(c, ${bad}).map(c, ${lit(`${noun} "`)} + c.name + '"' + (${suffix}))`);
  return `(${parts.join(' + ')})`;
}

/** `[id] ` + text. */
export function message(id: string, text: string): string {
  return `${lit(`[${id}] `)} + (${text})`;
}

/** Nested conditionals: the text of the first case whose condition holds. */
export function firstOf(cases: readonly { when: string; text: string }[], otherwise: string): string {
  let expr = otherwise;
  for (let i = cases.length - 1; i >= 0; i--) expr = `(${cases[i]!.when}) ? ${cases[i]!.text} : ${expr}`;
  return `(${expr})`;
}

/** `Pod "web"` / `Deployment "web"` (name, else generateName), as describeObject writes it. */
export const DESCRIBE_OBJECT =
  `object.kind + (has(object.metadata.name) && object.metadata.name != '' ? ' "' + object.metadata.name + '"' : ` +
  `has(object.metadata.generateName) && object.metadata.generateName != '' ? ' "' + object.metadata.generateName + '"' : '')`;

/** The pod-level securityContext field predicate. */
export function podSc(path: string, cond: (v: string) => string): string {
  return `(${hasChain('variables.podSpec', `securityContext.${path}`)} && ${cond(`variables.podSpec.securityContext.${path}`)})`;
}

/** The container securityContext field predicate (`c` bound). */
export function cSc(path: string, cond: (v: string) => string): string {
  return `(${hasChain('c', `securityContext.${path}`)} && ${cond(`c.securityContext.${path}`)})`;
}

export const WINDOWS_POD = `(${hasChain('variables.podSpec', 'os.name')} && variables.podSpec.os.name == 'windows')`;
export const USER_NAMESPACE_POD = `(has(variables.podSpec.hostUsers) && variables.podSpec.hostUsers == false)`;
