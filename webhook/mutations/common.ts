// Questions several mutations ask of a pod.
import { isRecord, securityContextOf, visitContainers, type ContainerRef } from '../../policies/helpers.js';
import type { PodSubject } from '../../policies/types.js';

/** True when any container, init container or ephemeral container (exempt or not) matches. */
export function anyContainer(subject: PodSubject, test: (ref: ContainerRef) => boolean): boolean {
  let found = false;
  visitContainers(subject, (ref) => {
    if (!found && test(ref)) found = true;
  });
  return found;
}

/** `CAP_SYS_ADMIN`, `sys_admin` → `SYS_ADMIN`: the forms container runtimes accept. */
export function normaliseCapability(cap: string): string {
  const upper = cap.trim().toUpperCase();
  return upper.startsWith('CAP_') ? upper.slice(4) : upper;
}

/** The container's `securityContext.capabilities.add`, normalised; `[]` when absent. */
export function addedCapabilities(container: Record<string, unknown>): string[] {
  const caps = securityContextOf(container).capabilities;
  const add = isRecord(caps) ? caps.add : undefined;
  return Array.isArray(add) ? add.filter((c): c is string => typeof c === 'string').map(normaliseCapability) : [];
}
