// secrets-enumerated: when the rule fires and when it stays quiet, on events shaped like the API server's.
import { describe } from 'vitest';
import { runCases, type Case, forbidden, sa } from './cases.js';

const cases: Case[] = [
  {
    name: 'list across namespaces',
    event: { verb: 'list', requestURI: '/api/v1/secrets?limit=500', objectRef: { resource: 'secrets', apiVersion: 'v1' } },
    fires: true,
  },
  {
    name: 'watch across namespaces',
    event: { stage: 'ResponseStarted', verb: 'watch', requestURI: '/api/v1/secrets?watch=true', objectRef: { resource: 'secrets', apiVersion: 'v1' } },
    fires: true,
  },
  { name: 'list in one namespace', event: { verb: 'list', objectRef: { resource: 'secrets', namespace: 'prod', apiVersion: 'v1' } }, fires: false },
  {
    name: 'the controller manager (control plane)',
    event: { verb: 'list', user: { username: 'system:kube-controller-manager', groups: [] }, objectRef: { resource: 'secrets', apiVersion: 'v1' } },
    fires: false,
  },
  {
    name: 'a control-plane controller service account',
    event: { verb: 'list', user: sa('kube-system:namespace-controller'), objectRef: { resource: 'secrets', apiVersion: 'v1' } },
    fires: false,
  },
  {
    name: 'a stolen service-account token (not control plane)',
    event: { verb: 'list', user: sa('prod:web'), objectRef: { resource: 'secrets', apiVersion: 'v1' } },
    fires: true,
  },
  {
    name: 'a node (system:node:*) listing every secret',
    event: { verb: 'list', user: { username: 'system:node:worker-1', groups: ['system:nodes'] }, objectRef: { resource: 'secrets', apiVersion: 'v1' } },
    fires: false,
  },
  {
    name: 'a system: name outside the control-plane list',
    event: {
      verb: 'watch',
      stage: 'ResponseStarted',
      user: { username: 'system:serviceaccount:kube-system:default', groups: [] },
      objectRef: { resource: 'secrets', apiVersion: 'v1' },
    },
    fires: true,
  },
  {
    name: 'impersonating the controller manager',
    event: {
      verb: 'list',
      impersonatedUser: { username: 'system:kube-controller-manager', groups: [] },
      objectRef: { resource: 'secrets', apiVersion: 'v1' },
    },
    fires: true,
  },
  { name: 'forbidden', event: { verb: 'list', responseStatus: forbidden, objectRef: { resource: 'secrets', apiVersion: 'v1' } }, fires: false },
];

describe('secrets-enumerated', () => {
  runCases('secrets-enumerated', cases);
});
