// configmap-credentials — a created or updated ConfigMap whose data holds credentials: an AWS access
// key ID (AKIA…/ASIA…), an aws_secret_access_key setting, a PEM private key block, or an entry whose
// key names a password, passphrase, secret, token or API key (`audit.credentialKeyNames`; the name
// ends in a listed name, with `-`, `.` and camelCase humps read as `_`) with a non-empty
// value — as a data key or as a `name=value` / `name: value` line inside a config file. ConfigMaps
// are readable by far more principals than Secrets and are not encrypted at rest.
// The evidence names the data key and what was found in it, never the value.
import { isRecord } from '../../core/record.js';
import { normaliseKeyName } from '../config.js';
import { objectOfWrite } from '../objects.js';
import { actor, qualified, type AuditRule } from './types.js';

const AWS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/;
const AWS_SECRET_SETTING = /aws_secret_access_key\s*[:=]\s*["']?[A-Za-z0-9/+=]{16,}/i;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
/** `name = value` / `name: value` / `"name": "value"` lines inside a config file value. */
const SETTING_LINE = /^\s*["']?([A-Za-z0-9_.-]+)["']?\s*[:=]\s*(.*?)\s*,?\s*$/;

export interface CredentialHit {
  key: string;
  reason: string;
}

function isPlaceholder(value: string): boolean {
  const v = value.replace(/^["']|["']$/g, '').trim();
  return v === '' || v === 'null' || v === '~' || /^\$\{[^}]*\}$/.test(v) || /^\$\([^)]*\)$/.test(v) || /^<[^>]*>$/.test(v) || /^\{\{.*\}\}$/.test(v);
}

function namesCredential(name: string, names: readonly string[]): boolean {
  const n = normaliseKeyName(name);
  return names.some((c) => n === c || n.endsWith('_' + c) || n.endsWith(c));
}

/** Where the credentials are, by data key; values are never returned. */
export function findCredentials(data: Record<string, unknown>, names: readonly string[]): CredentialHit[] {
  const hits: CredentialHit[] = [];
  for (const [key, raw] of Object.entries(data)) {
    if (typeof raw !== 'string') continue;
    if (namesCredential(key, names) && !isPlaceholder(raw)) {
      hits.push({ key, reason: 'the key names a credential and has a value' });
      continue;
    }
    if (AWS_KEY_ID.test(raw)) hits.push({ key, reason: 'an AWS access key ID' });
    const awsSecret = AWS_SECRET_SETTING.test(raw);
    if (awsSecret) hits.push({ key, reason: 'an aws_secret_access_key setting' });
    if (PRIVATE_KEY.test(raw)) hits.push({ key, reason: 'a PEM private key block' });
    if (raw.includes('\n') || SETTING_LINE.test(raw)) {
      for (const line of raw.split('\n')) {
        const m = SETTING_LINE.exec(line);
        // Already reported as an aws_secret_access_key setting: once is enough. Otherwise (a short
        // or unusual value) the name alone says it, as for any other `*access_key` name.
        if (!m || (awsSecret && /aws_secret_access_key/i.test(m[1]!))) continue;
        if (namesCredential(m[1]!, names) && !isPlaceholder(m[2]!)) hits.push({ key, reason: `sets ${m[1]}` });
      }
    }
  }
  return hits;
}

export const configmapCredentials: AuditRule = {
  id: 'configmap-credentials',
  title: 'Credentials stored in a ConfigMap',
  severity: 'medium',
  tactics: ['Credential Access'],
  remediation: 'Move the credentials to a Secret (or an external secret store), rotate them, and remove them from the ConfigMap and its history.',
  skipDryRun: true,
  requires: ['success', 'change'],
  resources: ['configmaps'],
  match(f, ctx) {
    if (f.resource !== 'configmaps' || f.apiGroup !== '' || f.subresource !== '' || !f.success) return undefined;
    if (f.verb !== 'create' && f.verb !== 'update' && f.verb !== 'patch') return undefined;
    const cm = objectOfWrite(f.event);
    if (!cm || !isRecord(cm.data)) return undefined;
    const hits = findCredentials(cm.data, ctx.settings.credentialKeyNames);
    if (hits.length === 0) return undefined;
    const meta = isRecord(cm.metadata) ? cm.metadata : {};
    const name = f.name || (typeof meta.name === 'string' ? meta.name : '');
    const keys = [...new Set(hits.map((h) => h.key))];
    const done = f.verb === 'create' ? 'created' : 'updated';
    return {
      message: `${actor(f)} ${done} ConfigMap ${qualified(f.namespace, name)} with credentials in ${keys.length === 1 ? 'key' : 'keys'} ${keys.map((k) => JSON.stringify(k)).join(', ')}`,
      evidence: { credentials: hits },
    };
  },
};
