// A rejected checkpoint is a tampering signal (someone may have tried to make the scan skip
// events): it is logged, counted (bulwark_audit_checkpoint_rejected_total) and raised as an
// `audit-checkpoint-rejected` alert through the normal alert path.
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { newAlert, type Alert } from '../alerts/model.js';
import { checkpointRejectedTotal } from './metrics.js';

export const CHECKPOINT_REJECTED = 'audit-checkpoint-rejected';

function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

export function checkpointRejectedAlert(checkpointFile: string, reason: string, kind: 'unsafe' | 'entry' | 'mismatch', now = new Date()): Alert {
  checkpointRejectedTotal.inc({ kind });
  return newAlert({
    type: CHECKPOINT_REJECTED,
    title: 'Audit checkpoint rejected',
    severity: kind === 'mismatch' ? 'medium' : 'high',
    source: 'audit',
    firstSeen: now.toISOString(),
    namespace: '',
    resource: { group: '', version: '', kind: 'File', name: resolve(checkpointFile) },
    user: { username: whoAmI(), groups: [] },
    message: reason,
    evidence: { checkpoint: resolve(checkpointFile), kind },
    tactics: ['Defense evasion'],
    remediation:
      kind === 'unsafe'
        ? 'Keep the checkpoint in a folder only the scanning user can write (chmod 700, owned by that user), and find out who changed it.'
        : 'The affected file was read from the start (nothing skipped). Find out who wrote the checkpoint; if a log was rewritten while the scan was stopped, no action is needed.',
  });
}
