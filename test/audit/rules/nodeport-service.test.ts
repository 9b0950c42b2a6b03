// nodeport-service: when the rule fires and when it stays quiet, on events shaped like the API server's.
import { describe } from 'vitest';
import { runCases, type Case, forbidden, svc, svcRef } from './cases.js';

const cases: Case[] = [
  { name: 'NodePort create', event: { level: 'RequestResponse', verb: 'create', objectRef: svcRef, requestObject: svc('NodePort') }, fires: true },
  {
    name: 'NodePort from the response (level Request kept nothing else)',
    event: { level: 'RequestResponse', verb: 'create', objectRef: svcRef, responseObject: svc('NodePort') },
    fires: true,
  },
  { name: 'ClusterIP', event: { level: 'RequestResponse', verb: 'create', objectRef: svcRef, requestObject: svc('ClusterIP') }, fires: false },
  {
    name: 'failed create',
    event: { level: 'RequestResponse', verb: 'create', objectRef: svcRef, requestObject: svc('NodePort'), responseStatus: forbidden },
    fires: false,
  },
  {
    name: 'dry run',
    event: {
      level: 'RequestResponse',
      verb: 'create',
      requestURI: '/api/v1/namespaces/prod/services?dryRun=All',
      objectRef: svcRef,
      requestObject: svc('NodePort'),
    },
    fires: false,
  },
];

describe('nodeport-service', () => {
  runCases('nodeport-service', cases);
});
