// containersOf keeps the walks of the last few subjects beside them (policies/helpers.ts): each
// subject must still get its own containers, whatever was walked in between.
import { describe, expect, it } from 'vitest';
import { containersOf, forgetWalks } from '../../policies/helpers.js';
import { toSubject } from '../../policies/subject.js';
import { compileConfig } from '../../policies/config.js';
import { evaluateSubject } from '../../policies/evaluate.js';
import { defaultConfig } from '../../config/load.js';
import type { PodSubject } from '../../policies/types.js';

function pod(name: string, images: string[], init: string[] = []): PodSubject {
  const subject = toSubject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      containers: images.map((image, i) => ({ name: `c${i}`, image })),
      initContainers: init.map((image, i) => ({ name: `i${i}`, image })),
    },
  });
  if (subject?.type !== 'pod') throw new Error('not a pod subject');
  return subject;
}

const summary = (s: PodSubject) => containersOf(s).map((r) => `${r.list}[${r.index}] ${r.name} ${r.image} ${r.path}`);

describe('containersOf', () => {
  it('walks every list in order, with names, images and paths', () => {
    expect(summary(pod('a', ['nginx', 'redis'], ['busybox']))).toEqual([
      'containers[0] c0 nginx spec.containers[0]',
      'containers[1] c1 redis spec.containers[1]',
      'initContainers[0] i0 busybox spec.initContainers[0]',
    ]);
  });

  it('answers the same walk to every check of one subject', () => {
    const s = pod('a', ['nginx']);
    expect(containersOf(s)).toBe(containersOf(s));
  });

  it('gives each subject its own containers, however many subjects were walked in between', () => {
    const subjects = Array.from({ length: 12 }, (_, i) => pod(`p${i}`, [`image-${i}`, `sidecar-${i}`]));
    // What each walk must say, written out rather than taken from a walk.
    const expected = subjects.map((_, i) => [`containers[0] c0 image-${i} spec.containers[0]`, `containers[1] c1 sidecar-${i} spec.containers[1]`]);
    // Interleaved, in orders that cycle through more subjects than the cache holds, and back.
    for (const order of [
      [0, 1, 0, 2, 1, 0],
      [0, 1, 2, 3, 4, 5, 0, 1, 2],
      [11, 3, 7, 3, 11, 0, 5, 9, 1, 7, 11],
    ]) {
      for (const i of order) expect(summary(subjects[i]!)).toEqual(expected[i]);
    }
  });

  it('walks frozen subjects, and walks again after forgetWalks', () => {
    const s = Object.freeze(pod('frozen', ['nginx']));
    const first = containersOf(s);
    expect(first.map((r) => r.image)).toEqual(['nginx']);
    forgetWalks();
    const again = containersOf(s);
    expect(again).not.toBe(first);
    expect(again.map((r) => r.image)).toEqual(['nginx']);
  });

  it('leaves nothing on the subject (its JSON and keys are as toSubject made them)', () => {
    const s = pod('a', ['nginx']);
    const before = JSON.stringify(s);
    const keys = Reflect.ownKeys(s);
    containersOf(s);
    expect(JSON.stringify(s)).toBe(before);
    expect(Reflect.ownKeys(s)).toEqual(keys);
  });

  it('evaluates two subjects in turn without mixing their findings', () => {
    const compiled = compileConfig({ ...defaultConfig(), profiles: ['defender'] });
    const miner = pod('m', ['xmrig/xmrig:latest']);
    const clean = pod('c', ['nginx:1.27']);
    for (let round = 0; round < 3; round++) {
      expect(evaluateSubject(miner, compiled).findings.map((f) => f.policy)).toContain('crypto-mining-image');
      expect(evaluateSubject(clean, compiled).findings).toEqual([]);
    }
  });
});
