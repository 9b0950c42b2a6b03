// admission-webhook-modified: when the rule fires and when it stays quiet, on events shaped like the API server's.
import { describe } from 'vitest';
import { runCases, type Case, forbidden, webhookRef, sa } from './cases.js';

const cases: Case[] = [
  { name: 'patch by a user', event: { verb: 'patch', objectRef: webhookRef }, fires: true },
  { name: 'delete of a mutating webhook', event: { verb: 'delete', objectRef: { ...webhookRef, resource: 'mutatingwebhookconfigurations' } }, fires: true },
  {
    name: 'by cert-manager cainjector (default admin)',
    event: { verb: 'update', user: sa('cert-manager:cert-manager-cainjector'), objectRef: webhookRef },
    fires: false,
  },
  {
    name: 'by a configured admin (glob)',
    event: { verb: 'update', user: { username: 'argo-admin', groups: [] }, objectRef: webhookRef },
    fires: false,
    audit: { webhookAdmins: ['argo-*'] },
  },
  { name: 'a get', event: { verb: 'get', objectRef: webhookRef }, fires: false },
  { name: 'a failed update', event: { verb: 'update', objectRef: webhookRef, responseStatus: forbidden }, fires: false },
];

describe('admission-webhook-modified', () => {
  runCases('admission-webhook-modified', cases);
});
