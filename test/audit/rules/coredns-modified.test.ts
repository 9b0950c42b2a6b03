// coredns-modified: when the rule fires and when it stays quiet, on events shaped like the API server's.
import { describe } from 'vitest';
import { runCases, type Case } from './cases.js';

const cases: Case[] = [
  {
    name: 'update',
    event: { verb: 'update', objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'coredns', apiVersion: 'v1' } },
    fires: true,
  },
  {
    name: 'delete',
    event: { verb: 'delete', objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'coredns', apiVersion: 'v1' } },
    fires: true,
  },
  { name: 'a get', event: { verb: 'get', objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'coredns', apiVersion: 'v1' } }, fires: false },
  {
    name: 'another configmap',
    event: { verb: 'update', objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'kube-proxy', apiVersion: 'v1' } },
    fires: false,
  },
  {
    name: 'coredns in another namespace',
    event: { verb: 'update', objectRef: { resource: 'configmaps', namespace: 'dns', name: 'coredns', apiVersion: 'v1' } },
    fires: false,
  },
];

describe('coredns-modified', () => {
  runCases('coredns-modified', cases);
});
