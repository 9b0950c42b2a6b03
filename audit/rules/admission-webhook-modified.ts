// admission-webhook-modified — a mutating or validating webhook configuration was created, changed or
// deleted by a user outside `audit.webhookAdmins`. Whoever controls the admission webhooks can switch
// off the guards (Bulwark included) or inject containers into every new pod.
import { actor, type AuditRule } from './types.js';

const RESOURCES: Record<string, string> = {
  mutatingwebhookconfigurations: 'mutating',
  validatingwebhookconfigurations: 'validating',
};
const VERBS: Record<string, string> = { create: 'created', update: 'updated', patch: 'patched', delete: 'deleted', deletecollection: 'deleted' };

export const admissionWebhookModified: AuditRule = {
  id: 'admission-webhook-modified',
  title: 'Admission webhook configuration modified',
  severity: 'medium',
  tactics: ['Persistence', 'Defense Evasion'],
  remediation:
    'Check that the change was planned; if not, restore the configuration from source control and find out how the user got write access to admissionregistration.k8s.io.',
  skipDryRun: true,
  requires: ['success', 'change'],
  resources: Object.keys(RESOURCES),
  judgedOnFacts: true,
  match(f, ctx) {
    // Own keys only: `__proto__` or `toString` as a resource or verb is untrusted text, not a table entry.
    const which = Object.hasOwn(RESOURCES, f.resource) ? RESOURCES[f.resource] : undefined;
    if (which === undefined || f.apiGroup !== 'admissionregistration.k8s.io' || f.subresource !== '') return undefined;
    const done = Object.hasOwn(VERBS, f.verb) ? VERBS[f.verb] : undefined;
    if (done === undefined || !f.success) return undefined;
    // Exemptions apply to the authenticated user, not to a name it impersonates.
    if (f.impersonator === undefined && ctx.settings.isWebhookAdmin(f.username)) return undefined;
    const target = f.verb === 'deletecollection' ? `all ${which} webhook configurations` : `${which} webhook configuration ${f.name || '(unnamed)'}`;
    return { message: `${actor(f)} ${done} ${target}`, severity: f.verb.startsWith('delete') ? 'high' : undefined };
  },
};
