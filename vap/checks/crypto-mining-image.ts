// crypto-mining-image: no container whose image's repository path names a miner (lists.minerNames,
// matched as whole token runs within one path component, by regex), and no command or args entry holding
// a mining-pool scheme (lists.minerPoolSchemes, case-insensitive), nor an env value or exec hook or probe command
// holding one.
import { nameTokens } from '../../policies/helpers.js';
import { badContainers, containerBad, hasChain, lit, message, reEscape } from '../cel.js';
import type { CheckCompiler } from '../types.js';

/** The repository path of `c.image`: trimmed, digest, tag and registry host removed, lower-cased. */
const R1 = `c.image.trim().split('@')[0]`;
const TAG = `${R1}.indexOf(':', ${R1}.lastIndexOf('/') + 1)`;
const R2 = `(${TAG} >= 0 ? ${R1}.substring(0, ${TAG}) : ${R1})`;
const FIRST = `${R2}.split('/')[0]`;
const REPO = `((${R2}.contains('/') && (${FIRST}.contains('.') || ${FIRST}.contains(':') || ${FIRST} == 'localhost')) ? ${R2}.substring(${R2}.indexOf('/') + 1) : ${R2}).lowerAscii()`;

/** An RE2 pattern matching any of the names as a run of whole tokens of one path component. */
export function tokenRunPattern(names: readonly string[], separators: string): string | undefined {
  const alternatives = [...new Set(names.map((n) => nameTokens(n).map(reEscape).join(`[${separators}]+`)).filter((s) => s !== ''))];
  if (alternatives.length === 0) return undefined;
  return `(^|[${separators}/])(${alternatives.join('|')})([${separators}/]|$)`;
}

export const cryptoMiningImage: CheckCompiler = {
  id: 'crypto-mining-image',
  compile(ctx) {
    const validations = [];
    const variables = [];
    const pattern = tokenRunPattern(ctx.lists.minerNames, '\\-_.');
    if (pattern) {
      const bad = containerBad(ctx, `has(c.image) && ${REPO}.matches(${lit(pattern)})`);
      variables.push({ name: 'minerImages', expression: badContainers(bad, `' runs image "' + c.image + '", which names a known crypto miner'`) });
      validations.push({ expression: 'size(variables.minerImages) == 0', messageExpression: message(this.id, 'variables.minerImages[0]') });
    }
    const schemes = [...new Set(ctx.lists.minerPoolSchemes.map((s) => s.toLowerCase()).filter((s) => s !== ''))];
    if (schemes.length) {
      const pool = lit(`(?i)(${schemes.map(reEscape).join('|')})`);
      const list = (path: string): string => `(${hasChain('c', path)} && c.${path}.exists(a, a.matches(${pool})))`;
      const handlers = ['lifecycle.postStart', 'lifecycle.preStop', 'livenessProbe', 'readinessProbe', 'startupProbe'].map((h) => list(`${h}.exec.command`));
      const env = `(has(c.env) && c.env.exists(e, has(e.value) && e.value.matches(${pool})))`;
      const bad = containerBad(ctx, [list('command'), list('args'), env, ...handlers].join(' || '));
      variables.push({
        name: 'minerPools',
        expression: badContainers(bad, lit(` connects to a mining pool (a ${schemes.join(', ')} address in its command, args, env or exec hooks and probes)`)),
      });
      validations.push({ expression: 'size(variables.minerPools) == 0', messageExpression: message(this.id, 'variables.minerPools[0]') });
    }
    return {
      target: 'pod',
      variables,
      validations,
      differences: [
        'the message does not name the miner matched nor the pool address (the webhook names both, with credentials redacted)',
        "a pool address assembled only by Kubernetes' $(VAR) expansion from env entries (none of which holds the scheme whole) is found by the webhook only",
        'pool schemes compare by RE2 case folding; the webhook lower-cases with Unicode case mapping (they differ only for non-ASCII letters such as the long s)',
      ],
    };
  },
};
