// anonymous-request-allowed: when the rule fires and when it stays quiet, on events shaped like the API server's.
import { describe } from 'vitest';
import { runCases, type Case, forbidden, anonymous } from './cases.js';

const cases: Case[] = [
  {
    name: 'anonymous list of namespaces',
    event: { user: anonymous, verb: 'list', requestURI: '/api/v1/namespaces', objectRef: { resource: 'namespaces', apiVersion: 'v1' } },
    fires: true,
  },
  { name: 'anonymous non-resource path', event: { user: anonymous, requestURI: '/metrics', objectRef: undefined }, fires: true },
  {
    name: 'authorizer allowed (decision annotation), error response',
    event: { user: anonymous, requestURI: '/api/v1/namespaces/x/pods/y', responseStatus: { metadata: {}, code: 404 } },
    fires: true,
  },
  { name: '/healthz', event: { user: anonymous, requestURI: '/healthz', objectRef: undefined }, fires: false },
  { name: '/livez/etcd sub-path', event: { user: anonymous, requestURI: '/livez/etcd?verbose', objectRef: undefined }, fires: false },
  { name: '/version', event: { user: anonymous, requestURI: '/version?timeout=32s', objectRef: undefined }, fires: false },
  { name: '/versions is not /version', event: { user: anonymous, requestURI: '/versions', objectRef: undefined }, fires: true },
  { name: 'forbidden', event: { user: anonymous, responseStatus: forbidden, annotations: { 'authorization.k8s.io/decision': 'forbid' } }, fires: false },
  { name: 'an authenticated user', event: { requestURI: '/api/v1/namespaces' }, fires: false },
  {
    name: 'an anonymous client impersonating someone (the authenticated user is anonymous)',
    event: {
      user: anonymous,
      impersonatedUser: { username: 'system:serviceaccount:kube-system:default', groups: [] },
      requestURI: '/api/v1/namespaces/kube-system/secrets',
      objectRef: { resource: 'secrets', namespace: 'kube-system', apiVersion: 'v1' },
    },
    fires: true,
  },
  { name: 'a user impersonating system:anonymous', event: { impersonatedUser: anonymous, requestURI: '/api/v1/namespaces' }, fires: false },
];

describe('anonymous-request-allowed', () => {
  runCases('anonymous-request-allowed', cases);
});
