// seccomp-runtime-default — sets the pod's `securityContext.seccompProfile` to
// `{type: RuntimeDefault}` (the container runtime's default syscall filter).
//
// Leaves the pod alone when the pod or any of its containers already sets a seccompProfile
// (even Unconfined: that is a choice), when the pod template carries a legacy seccomp
// annotation (`seccomp.security.alpha.kubernetes.io/pod`,
// `container.seccomp.security.alpha.kubernetes.io/<name>`: the API server requires the field
// and the annotation to agree, so adding the field would get the pod rejected), and for
// Windows pods (`spec.os.name: windows` forbids seccompProfile).
import { isRecord, podSecurityContextOf, securityContextOf } from '../../policies/helpers.js';
import type { ObjectMeta } from '../../policies/types.js';
import { anyContainer } from './common.js';
import { isSet } from './patch.js';
import type { Mutation } from './types.js';

const POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

export function hasLegacySeccompAnnotation(meta: ObjectMeta): boolean {
  const annotations: unknown = meta.annotations;
  if (!isRecord(annotations)) return false;
  return Object.keys(annotations).some((k) => k === POD_ANNOTATION || k.startsWith(CONTAINER_ANNOTATION_PREFIX));
}

export const seccompRuntimeDefault: Mutation = {
  id: 'seccomp-runtime-default',
  defaultOn: true,
  apply(ctx) {
    if (!ctx.podLevel || ctx.windows) return false;
    if (isSet(podSecurityContextOf(ctx.subject).seccompProfile)) return false;
    if (anyContainer(ctx.subject, (c) => isSet(securityContextOf(c.container).seccompProfile))) return false;
    if (hasLegacySeccompAnnotation(ctx.subject.podMeta)) return false;
    return ctx.patch.fill([...ctx.specSegments, 'securityContext', 'seccompProfile'], { type: 'RuntimeDefault' });
  },
};
