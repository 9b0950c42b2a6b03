// kube-events-deleted: when the rule fires and when it stays quiet, on events shaped like the API server's.
import { describe } from 'vitest';
import { runCases, type Case, forbidden, sa } from './cases.js';

const cases: Case[] = [
  {
    name: 'core events deletecollection',
    event: { verb: 'deletecollection', requestURI: '/api/v1/namespaces/prod/events', objectRef: { resource: 'events', namespace: 'prod', apiVersion: 'v1' } },
    fires: true,
  },
  {
    name: 'events.k8s.io delete',
    event: {
      verb: 'delete',
      requestURI: '/apis/events.k8s.io/v1/namespaces/prod/events/web.17d',
      objectRef: { resource: 'events', namespace: 'prod', name: 'web.17d', apiGroup: 'events.k8s.io', apiVersion: 'v1' },
    },
    fires: true,
  },
  {
    name: 'by a system: identity',
    event: {
      verb: 'delete',
      user: sa('kube-system:namespace-controller'),
      objectRef: { resource: 'events', namespace: 'prod', name: 'x', apiVersion: 'v1' },
    },
    fires: false,
  },
  {
    name: 'failed delete',
    event: { verb: 'delete', responseStatus: forbidden, objectRef: { resource: 'events', namespace: 'prod', name: 'x', apiVersion: 'v1' } },
    fires: false,
  },
  { name: 'listing events', event: { verb: 'list', objectRef: { resource: 'events', namespace: 'prod', apiVersion: 'v1' } }, fires: false },
  {
    name: 'a dry run',
    event: {
      verb: 'delete',
      requestURI: '/api/v1/namespaces/prod/events/x?dryRun=All',
      objectRef: { resource: 'events', namespace: 'prod', name: 'x', apiVersion: 'v1' },
    },
    fires: false,
  },
];

describe('kube-events-deleted', () => {
  runCases('kube-events-deleted', cases);
});
