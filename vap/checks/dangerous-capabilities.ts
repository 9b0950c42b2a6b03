// dangerous-capabilities: capabilities.add holds only lists.allowedCapabilities (case-insensitive,
// with or without CAP_).
import { canonicalCapability } from '../../policies/defender/dangerous-capabilities.js';
import { badContainers, containerBad, hasChain, lit, message, reEscape } from '../cel.js';
import type { CheckCompiler } from '../types.js';

export const dangerousCapabilities: CheckCompiler = {
  id: 'dangerous-capabilities',
  compile(ctx) {
    const allowed = [...new Set(ctx.lists.allowedCapabilities.map(canonicalCapability))].filter((c) => c !== '');
    // Canonical names compared by one case-insensitive regex: trimmed, with or without CAP_.
    const badCap = allowed.length ? `!x.matches(${lit(`(?i)^\\s*(CAP_)?(${allowed.map(reEscape).join('|')})\\s*$`)})` : 'true';
    const bad = containerBad(ctx, `${hasChain('c', 'securityContext.capabilities.add')} && c.securityContext.capabilities.add.exists(x, ${badCap})`);
    const suffix = `c.securityContext.capabilities.add.filter(x, ${badCap}).map(x, ' must not add capability "' + x + '": ' + (x.trim().upperAscii() in ['ALL', 'CAP_ALL'] ? 'it grants every capability' : 'it is outside the allowed set'))[0]`;
    return {
      target: 'pod',
      // Computed once, read by the validation and its message.
      variables: [{ name: 'dangerousAdds', expression: badContainers(bad, suffix) }],
      validations: [{ expression: 'size(variables.dangerousAdds) == 0', messageExpression: message(this.id, 'variables.dangerousAdds[0]') }],
      differences: [
        'capability names compare by RE2 case folding; the webhook upper-cases with Unicode case mapping (they differ only for non-ASCII letters such as the Kelvin sign)',
      ],
    };
  },
};
