// Helpers every check shares instead of re-implementing: the container walk, field paths,
// host-path normalisation, human-readable names.
import { isRecord, joinPath } from './subject.js';
import type { PodSubject } from './types.js';

export { isRecord, joinPath };

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';
export const CONTAINER_LISTS: readonly ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];

export interface ContainerRef {
  /** The container object (a record; non-record entries are skipped). */
  container: Record<string, unknown>;
  list: ContainerList;
  index: number;
  /** `name`, or `<list>[<index>]` when the container has no name. */
  name: string;
  image: string;
  /** Field path of the container, e.g. `spec.template.spec.initContainers[0]`. */
  path: string;
}

/** Calls `visit` for every container, init container and ephemeral container of the pod. */
export function visitContainers(subject: PodSubject, visit: (ref: ContainerRef) => void): void {
  const spec = subject.spec;
  for (const list of CONTAINER_LISTS) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    for (let index = 0; index < items.length; index++) {
      const container = items[index];
      if (!isRecord(container)) continue;
      const name = typeof container.name === 'string' && container.name ? container.name : `${list}[${index}]`;
      const image = typeof container.image === 'string' ? container.image : '';
      visit({ container, list, index, name, image, path: joinPath(subject.specPath, `${list}[${index}]`) });
    }
  }
}

/** The container's securityContext as a record (`{}` when absent or null). */
export function securityContextOf(container: Record<string, unknown>): Record<string, unknown> {
  const sc = container.securityContext;
  return isRecord(sc) ? sc : {};
}

/** The pod-level securityContext as a record (`{}` when absent or null). */
export function podSecurityContextOf(subject: PodSubject): Record<string, unknown> {
  const sc = subject.spec.securityContext;
  return isRecord(sc) ? sc : {};
}

/** Noun for a container list in messages: `container`, `init container`, `ephemeral container`. */
export function containerNoun(list: ContainerList): string {
  return list === 'containers' ? 'container' : list === 'initContainers' ? 'init container' : 'ephemeral container';
}

/** `container "app"`, `init container "setup"`, … */
export function describeContainer(ref: ContainerRef): string {
  return `${containerNoun(ref.list)} ${JSON.stringify(ref.name)}`;
}

/**
 * Normalises a host path the way the kernel resolves it (without symlinks): collapses `//`,
 * resolves `.` and `..` (never above `/`), drops a trailing `/`. A relative path is taken
 * from `/`. `//etc/` → `/etc`, `/tmp/../etc` → `/etc`, `` → `/`.
 */
export function normaliseHostPath(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

/** True when `a` equals `b` or lies under it (both normalised). */
export function isPathWithin(a: string, b: string): boolean {
  if (a === b) return true;
  if (b === '/') return true;
  return a.startsWith(b + '/');
}

/** Quotes and joins names for messages: `"a"`, `"a", "b"`. */
export function quoteList(names: readonly string[]): string {
  return names.map((n) => JSON.stringify(n)).join(', ');
}

/** `1 thing` / `2 things`. */
export function plural(count: number, singular: string, pluralForm = singular + 's'): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
