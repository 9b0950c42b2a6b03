// run-as-non-root (off by default) — sets the pod's `securityContext.runAsNonRoot: true`: the
// kubelet refuses to start a container whose user is root.
//
// Leaves the pod alone when the pod or any container sets runAsNonRoot (true or false),
// when the pod or any container sets `runAsUser: 0` (the pod could never start), when any
// container is privileged (such containers nearly always run as root), and for Windows pods.
// It cannot see an image's USER: a container whose image runs as root, or as a non-numeric
// user, and that sets no runAsUser, will fail with CreateContainerConfigError. Turn it on
// where images run as a numeric non-root user.
import { podSecurityContextOf, securityContextOf } from '../../policies/helpers.js';
import { anyContainer } from './common.js';
import { isSet } from './patch.js';
import type { Mutation } from './types.js';

export const runAsNonRoot: Mutation = {
  id: 'run-as-non-root',
  defaultOn: false,
  apply(ctx) {
    if (!ctx.podLevel || ctx.windows) return false;
    const pod = podSecurityContextOf(ctx.subject);
    if (isSet(pod.runAsNonRoot) || pod.runAsUser === 0) return false;
    const refuses = anyContainer(ctx.subject, ({ container }) => {
      const sc = securityContextOf(container);
      return isSet(sc.runAsNonRoot) || sc.runAsUser === 0 || sc.privileged === true;
    });
    if (refuses) return false;
    return ctx.patch.fill([...ctx.specSegments, 'securityContext', 'runAsNonRoot'], true);
  },
};
