// pss-proc-mount (baseline, v1.35): procMount is unset or Default, unless the pod has hostUsers: false.
import { anyContainer, cSc, containerBad, firstContainer, message, USER_NAMESPACE_POD } from '../cel.js';
import type { CheckCompiler, CompileContext } from '../types.js';

/** procMount is set to something other than Default. Shared with pss-proc-mount-restricted. */
export function procMountValidation(id: string, ctx: CompileContext, guard: string) {
  const bad = containerBad(
    ctx,
    cSc('procMount', (v) => `${v} != 'Default'`),
  );
  return {
    expression: `${guard}!${anyContainer(bad)}`,
    messageExpression: message(id, firstContainer(bad, `' must not set securityContext.procMount to "' + c.securityContext.procMount + '"'`)),
  };
}

export const pssProcMount: CheckCompiler = {
  id: 'pss-proc-mount',
  versions: ['v1.35'],
  compile(ctx) {
    return { target: 'pod', validations: [procMountValidation(this.id, ctx, `${USER_NAMESPACE_POD} || `)] };
  },
};
