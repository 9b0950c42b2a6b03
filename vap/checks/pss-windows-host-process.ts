// pss-windows-host-process: windowsOptions.hostProcess is false or unset (pod and containers).
import { anyContainer, cSc, containerBad, firstContainer, firstOf, lit, message, podSc } from '../cel.js';
import type { CheckCompiler } from '../types.js';

export const pssWindowsHostProcess: CheckCompiler = {
  id: 'pss-windows-host-process',
  versions: ['v1.0'],
  compile(ctx) {
    const pod = podSc('windowsOptions.hostProcess', (v) => `${v} == true`);
    const bad = containerBad(
      ctx,
      cSc('windowsOptions.hostProcess', (v) => `${v} == true`),
    );
    return {
      target: 'pod',
      validations: [
        {
          expression: `!(${pod} || ${anyContainer(bad)})`,
          messageExpression: message(
            this.id,
            firstOf(
              [{ when: pod, text: lit('pod must not set securityContext.windowsOptions.hostProcess=true') }],
              `${firstContainer(bad)} + ' must not set securityContext.windowsOptions.hostProcess=true'`,
            ),
          ),
        },
      ],
    };
  },
};
