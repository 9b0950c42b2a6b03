// mutationDefaults validation, quantities, and the registry against the config's known IDs.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MUTATIONS, KNOWN_MUTATIONS } from '../../../config/schema.js';
import { parseConfig } from '../../../config/load.js';
import { ConfigError } from '../../../core/errors.js';
import { compileMutations, computeMutation, MUTATIONS } from '../../../webhook/mutate.js';
import { parseQuantity } from '../../../core/quantity.js';
import { compiledWith, objectOf, requestFor } from './support.js';

describe('the mutation registry', () => {
  it('knows exactly the IDs the config accepts, with the documented defaults on', () => {
    expect(MUTATIONS.map((m) => m.id).sort()).toEqual([...KNOWN_MUTATIONS].sort());
    expect(
      MUTATIONS.filter((m) => m.defaultOn)
        .map((m) => m.id)
        .sort(),
    ).toEqual([...DEFAULT_MUTATIONS].sort());
  });

  it('compiles the default config', () => {
    expect(compileMutations(parseConfig('')).mutations.map((m) => m.id)).toEqual(DEFAULT_MUTATIONS);
  });
});

describe('mutationDefaults', () => {
  const compile = (yaml: string) => compileMutations(parseConfig(yaml));

  it('reads resources', () => {
    const c = compile(
      'mutations: [default-resources]\nmutationDefaults:\n  resources:\n    requests: {cpu: 100m, memory: 128Mi}\n    limits: {memory: 512Mi, cpu: 1}\n',
    );
    expect(c.defaults.resources).toEqual({
      requests: [
        ['cpu', '100m'],
        ['memory', '128Mi'],
      ],
      limits: [
        ['memory', '512Mi'],
        ['cpu', '1'],
      ],
    });
  });

  it.each([
    ['mutations: [default-resources]', 'mutationDefaults.resources: required when the default-resources mutation is on'],
    ['mutationDefaults: {resource: {}}', 'mutationDefaults.resource: unknown key (known keys: resources)'],
    ['mutationDefaults: {resources: [1]}', 'mutationDefaults.resources: must be a mapping with requests and/or limits'],
    ['mutationDefaults: {resources: {request: {cpu: 1}}}', 'mutationDefaults.resources.request: unknown key (known keys: requests, limits)'],
    ['mutationDefaults: {resources: {requests: 100m}}', 'mutationDefaults.resources.requests: must be a mapping of resource name to quantity'],
    [
      'mutationDefaults: {resources: {requests: {cpu: lots}}}',
      'mutationDefaults.resources.requests.cpu: must be a non-negative Kubernetes quantity such as 100m, 0.5 or 128Mi, got "lots"',
    ],
    ['mutationDefaults: {resources: {limits: {memory: -1Gi}}}', 'mutationDefaults.resources.limits.memory: must be a non-negative Kubernetes quantity'],
    [
      'mutationDefaults: {resources: {requests: {nvidia.com/gpu: 1}}}',
      'mutationDefaults.resources.requests.nvidia.com/gpu: unknown resource (known: cpu, memory, ephemeral-storage)',
    ],
    [
      'mutationDefaults: {resources: {requests: {memory: 1Gi}, limits: {memory: 512Mi}}}',
      'mutationDefaults.resources.requests.memory: 1Gi is more than the default limit 512Mi',
    ],
    ['mutationDefaults: {resources: {}}', 'mutationDefaults.resources: sets no requests and no limits'],
  ])('rejects %s', (yaml, message) => {
    expect(() => compile(yaml)).toThrow(ConfigError);
    expect(() => compile(yaml)).toThrow(message);
  });

  it('rejects an unknown mutation in a config built in code', () => {
    expect(() => compileMutations({ mutations: ['seccomp'], mutationDefaults: {} })).toThrow('mutations: unknown mutation "seccomp"');
  });

  it('surfaces a bad config from computeMutation too (the server should compile at start-up)', () => {
    const compiled = compiledWith({ mutations: ['default-resources'] });
    expect(() => computeMutation(requestFor(objectOf('Pod', { containers: [] })), compiled)).toThrow(ConfigError);
  });
});

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1],
    ['1', 1],
    [1, 1],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['1k', 1000],
    ['1e3', 1000],
    ['+2', 2],
    ['5n', 5e-9],
  ])('%j → %d', (q, n) => {
    expect(parseQuantity(q)).toBeCloseTo(n);
  });
  it.each(['', 'lots', '-1', '1Ki1', '1mi', 'Mi', null, {}, -1, Number.NaN])('rejects %j', (q) => {
    expect(parseQuantity(q)).toBeUndefined();
  });
});
