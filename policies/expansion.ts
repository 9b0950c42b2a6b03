// Kubernetes' `$(VAR)` expansion of a container's env values, command and args, as the kubelet does
// it before the container starts (k8s.io/kubernetes third_party/forked/golang/expansion):
// - `$(NAME)` is replaced by the value of NAME when it is known, and left as written when it is not;
// - `$$` is an escaped `$` (`$$(NAME)` is the literal text `$(NAME)`);
// - a `$` followed by anything else, or a `$(` never closed, is copied as is;
// - env values are expanded in order, each from the entries before it (a later entry is not
//   visible to an earlier one; a repeated name takes the later value from then on); command and
//   args are expanded from the whole list.
// What the pod spec cannot show stays unresolved: valueFrom (secrets, config maps, fields),
// envFrom, and the service variables the kubelet adds.
//
// Bounded: each expanded text is cut at MAX_EXPANDED characters, so `B=$(A)$(A)`, `C=$(B)$(B)`, …
// cannot double without limit.
import { isRecord } from './subject.js';

export const MAX_EXPANDED = 64 * 1024;

/** Expands `$(VAR)` references in `input` from `vars`; the result is at most MAX_EXPANDED characters. */
export function expandVars(input: string, vars: ReadonlyMap<string, string>): string {
  if (input.indexOf('$') < 0) return input;
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input.charCodeAt(cursor) !== 36 /* $ */ || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1]!;
    if (next === '$') {
      out += '$';
      cursor += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) {
        out += '$(';
        cursor += 1;
      } else {
        const name = input.slice(cursor + 2, close);
        const value = vars.get(name);
        out += value !== undefined ? value : `$(${name})`;
        cursor = close;
      }
    } else {
      out += '$' + next;
      cursor += 1;
    }
    checkpoint = cursor + 1;
    if (out.length >= MAX_EXPANDED) return out.slice(0, MAX_EXPANDED);
  }
  out += input.slice(checkpoint);
  return out.length > MAX_EXPANDED ? out.slice(0, MAX_EXPANDED) : out;
}

/** Whether a text holds a reference the expansion may replace (`$(` not preceded by an escaping `$`, roughly). */
export function mayExpand(text: string): boolean {
  return text.indexOf('$(') >= 0;
}

/**
 * The container's env as the kubelet resolves plain `value` entries: name → expanded value, and the
 * expanded value of each entry by index (undefined for entries without a string value).
 */
export function containerEnv(container: Record<string, unknown>): { vars: Map<string, string>; expanded: (string | undefined)[] } {
  const vars = new Map<string, string>();
  const expanded: (string | undefined)[] = [];
  const env = container.env;
  if (!Array.isArray(env)) return { vars, expanded };
  for (let i = 0; i < env.length; i++) {
    const entry: unknown = env[i];
    if (!isRecord(entry) || typeof entry.name !== 'string') {
      expanded.push(undefined);
      continue;
    }
    // valueFrom entries have no value the spec shows: the reference stays unresolved.
    if (typeof entry.value !== 'string') {
      vars.delete(entry.name);
      expanded.push(undefined);
      continue;
    }
    const value = expandVars(entry.value, vars);
    vars.set(entry.name, value);
    expanded.push(value);
  }
  return { vars, expanded };
}
