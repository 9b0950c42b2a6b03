import { describe, expect, it } from 'vitest';
import { cryptoMiningImage, imageRepositoryPath } from '../../../policies/defender/crypto-mining-image.js';
import { container, cronJob, evaluateWithConfig, GARBAGE, lists, pathsOf, pod, runCheck } from './fixtures.js';

const withImage = (image: unknown) => pod({ containers: [{ name: 'app', image }] });

describe('crypto-mining-image', () => {
  it.each([
    ['xmrig/xmrig:latest'],
    ['xmrig'],
    ['docker.io/xmrig/xmrig'],
    ['localhost:5000/xmrig:6.21'],
    ['localhost/xmrig'],
    ['ghcr.io/acme/xmr-stak:2.10'],
    ['acme/xmr-stak-cpu'],
    ['acme/xmr_stak'],
    ['evil.example.com/a/b/t-rex@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
    ['quay.io/team/cpuminer-opt:v3'],
    ['quay.io/team/tools.cpuminer'],
    ['XMRig/XMRig:Latest'],
    ['registry.example.com/mining/lolminer'],
    ['team/monitor-ethminer-exporter'],
  ])('fires on image %j', (image) => {
    expect(pathsOf(cryptoMiningImage, withImage(image))).toEqual(['spec.containers[0].image']);
  });

  it.each([
    ['nginx'],
    ['nginx:1.27'],
    ['docker.io/library/nginx'],
    ['minecraft-server'],
    ['itzg/minecraft-server:java21'],
    ['registry.example.com/team/miner-dashboard'],
    ['xmrigger/app'],
    ['acme/xmrstak'],
    ['acme/xmr/stak'],
    ['acme/trex'],
    ['xmrig.example.com/tools/agent'],
    ['localhost:5000/tools/agent:xmrig'],
    ['busybox@sha256:xmrig'],
    [''],
  ])('does not fire on image %j', (image) => {
    expect(pathsOf(cryptoMiningImage, withImage(image))).toEqual([]);
  });

  it.each([
    ['command', { command: ['/bin/sh', '-c', 'worker -o stratum+tcp://pool.example.net:3333 -u wallet'] }, 'command[2]'],
    ['args', { args: ['--url=STRATUM+SSL://pool.example.net:443', '--threads=4'] }, 'args[0]'],
    ['args, a separate argument', { args: ['-o', 'stratum+tls://pool.example.net:443'] }, 'args[1]'],
    ['a stratum2 pool', { args: ['stratum2+tcp://p:1'] }, 'args[0]'],
  ])('fires on a pool address in %s', (_name, extra, field) => {
    expect(pathsOf(cryptoMiningImage, pod({ containers: [container('worker', extra, 'alpine:3')] }))).toEqual([`spec.containers[0].${field}`]);
  });

  it.each([
    ['an http URL', { args: ['--url=https://pool.example.net'] }],
    ['the word stratum', { command: ['echo', 'stratum tcp'] }],
    ['non-string arguments', { args: [1, null, { url: 'stratum+tcp://x' }] }],
    ['args as a string', { args: 'stratum+tcp://x' }],
  ])('does not fire on %s', (_name, extra) => {
    expect(pathsOf(cryptoMiningImage, pod({ containers: [container('worker', extra, 'alpine:3')] }))).toEqual([]);
  });

  it.each([
    ['stratum+tcp://wallet123:S3cretPass@pool.example.net:3333', 'stratum+tcp://***@pool.example.net:3333'],
    ['stratum+ssl://4AbcWallet.worker1@pool.example.net:443/x', 'stratum+ssl://***@pool.example.net:443/x'],
    ['stratum+tcp://pool.example.net:3333', 'stratum+tcp://pool.example.net:3333'],
  ])('never repeats pool credentials in its message (%s)', (address, shown) => {
    const findings = runCheck(cryptoMiningImage, pod({ containers: [container('worker', { args: ['-o', address] }, 'alpine:3')] }));
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain(JSON.stringify(shown));
    expect(findings[0]!.message).not.toMatch(/S3cretPass|wallet123|4AbcWallet/);
  });

  it('checks init, ephemeral and CronJob containers', () => {
    expect(
      pathsOf(cryptoMiningImage, pod({ initContainers: [{ name: 'i', image: 'xmrig/xmrig' }], ephemeralContainers: [{ name: 'e', image: 'nbminer' }] })),
    ).toEqual(['spec.initContainers[0].image', 'spec.ephemeralContainers[0].image']);
    expect(pathsOf(cryptoMiningImage, cronJob({ containers: [{ name: 'c', image: 'a/b', args: ['stratum+tcp://p:1'] }] }))).toEqual([
      'spec.jobTemplate.spec.template.spec.containers[0].args[0]',
    ]);
  });

  it('reports both the image and the pool of one container', () => {
    expect(pathsOf(cryptoMiningImage, pod({ containers: [{ name: 'm', image: 'xmrig/xmrig', args: ['-o', 'stratum+tcp://p:1'] }] }))).toEqual([
      'spec.containers[0].image',
      'spec.containers[0].args[1]',
    ]);
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j', (g) => {
    expect(() => runCheck(cryptoMiningImage, withImage(g))).not.toThrow();
    expect(() => runCheck(cryptoMiningImage, pod({ containers: [{ name: 'a', command: g, args: [g] }] }))).not.toThrow();
  });

  it('reads names and schemes from the lists', () => {
    const ctx = { lists: lists({ minerNames: ['Gold-Digger'], minerPoolSchemes: ['POOL://'] }) };
    expect(pathsOf(cryptoMiningImage, withImage('acme/gold_digger:1'), ctx)).toHaveLength(1);
    expect(pathsOf(cryptoMiningImage, withImage('xmrig/xmrig'), ctx)).toEqual([]);
    expect(pathsOf(cryptoMiningImage, pod({ containers: [container('a', { args: ['pool://x'] })] }), ctx)).toHaveLength(1);
  });

  it('remembers verdicts per image and per list without mixing them up (a direct-mapped memo)', () => {
    // Thousands of distinct images between the asks, so every slot of the memo is taken over
    // many times; each image must keep its own verdict, under each list.
    const miners = ['xmrig/xmrig:6.21', 'acme/xmr-stak-cpu', 'quay.io/team/cpuminer-opt:v3'];
    const custom = { lists: lists({ minerNames: ['acme-agent'] }) };
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6000; i++) {
        const benign = `registry.example.com/team-${i}/app-${i}:1.${i}`;
        expect(pathsOf(cryptoMiningImage, withImage(benign))).toEqual([]);
        if (i % 1000 === 0) {
          for (const m of miners) expect(pathsOf(cryptoMiningImage, withImage(m))).toEqual(['spec.containers[0].image']);
          expect(pathsOf(cryptoMiningImage, withImage('acme/acme-agent:2'), custom)).toEqual(['spec.containers[0].image']);
          expect(pathsOf(cryptoMiningImage, withImage('acme/acme-agent:2'))).toEqual([]);
          expect(pathsOf(cryptoMiningImage, withImage('xmrig/xmrig:6.21'), custom)).toEqual([]);
        }
      }
    }
  });

  it('names the container, the image and the miner, or the pool', () => {
    expect(runCheck(cryptoMiningImage, pod({ containers: [{ name: 'app', image: 'acme/xmr-stak-cpu:1' }] }))).toEqual([
      {
        policy: 'crypto-mining-image',
        severity: 'high',
        message: 'container "app" runs image "acme/xmr-stak-cpu:1", which names the crypto miner "xmr-stak-cpu"',
        path: 'spec.containers[0].image',
        image: 'acme/xmr-stak-cpu:1',
      },
    ]);
    expect(
      runCheck(cryptoMiningImage, pod({ containers: [container('w', { args: ['-c', 'run --pool "stratum+tcp://p.example:3333" now'] })] }))[0]!.message,
    ).toBe('container "w" connects to the mining pool "stratum+tcp://p.example:3333" (args[1])');
  });

  it.each([
    ['xmrig/xmrig:latest', 'xmrig/xmrig'],
    ['localhost:5000/x:tag', 'x'],
    ['host/a/b@sha256:abc', 'host/a/b'],
    ['docker.io/library/nginx', 'library/nginx'],
    ['registry.example.com:443/Team/App:v1@sha256:abc', 'team/app'],
    ['nginx', 'nginx'],
  ])('repository path of %j is %j', (image, path) => {
    expect(imageRepositoryPath(image)).toBe(path);
  });

  it('fires through the configuration path; image exemptions drop it', () => {
    const obj = withImage('xmrig/xmrig:6');
    expect(evaluateWithConfig('crypto-mining-image', obj)).toHaveLength(1);
    expect(evaluateWithConfig('crypto-mining-image', obj, {}, (c) => (c.exemptions.images = ['xmrig/*']))).toEqual([]);
  });
});

describe('crypto-mining-image: pool addresses assembled or hidden elsewhere (#14 §4)', () => {
  const env = (pairs: Array<[string, string]>) => pairs.map(([name, value]) => ({ name, value }));
  const run = (extra: Record<string, unknown>) => runCheck(cryptoMiningImage, pod({ containers: [container('worker', extra, 'alpine:3')] }));

  it.each([
    [
      'args from $(VAR) of one env entry',
      { env: env([['POOL', 'stratum+tcp://pool.example.net:3333']]), args: ['-o', '$(POOL)'] },
      ['spec.containers[0].env[0].value', 'spec.containers[0].args[1]'],
    ],
    [
      'a scheme split over two env entries',
      {
        env: env([
          ['S', 'stratum+'],
          ['T', 'tcp'],
        ]),
        args: ['-o', '$(S)$(T)://pool.example.net:3333'],
      },
      ['spec.containers[0].args[1]'],
    ],
    [
      'an env entry built from earlier entries',
      {
        env: env([
          ['A', 'stratum'],
          ['B', '$(A)+ssl'],
          ['URL', '$(B)://p.example:443'],
        ]),
        command: ['miner', '$(URL)'],
      },
      ['spec.containers[0].env[2].value', 'spec.containers[0].command[1]'],
    ],
    [
      'a postStart hook',
      { lifecycle: { postStart: { exec: { command: ['sh', '-c', 'nohup worker -o stratum+tcp://p:3333 &'] } } } },
      ['spec.containers[0].lifecycle.postStart.exec.command[2]'],
    ],
    [
      'a preStop hook through $(VAR)',
      { env: env([['S', 'stratum+tcp']]), lifecycle: { preStop: { exec: { command: ['worker', '$(S)://p:1'] } } } },
      ['spec.containers[0].lifecycle.preStop.exec.command[1]'],
    ],
    [
      'a liveness exec probe',
      { livenessProbe: { exec: { command: ['sh', '-c', 'pgrep worker || worker -o stratum+ssl://p:443'] } } },
      ['spec.containers[0].livenessProbe.exec.command[2]'],
    ],
    ['a startup probe', { startupProbe: { exec: { command: ['worker', 'stratum+tcp://p:1'] } } }, ['spec.containers[0].startupProbe.exec.command[1]']],
    ['a readiness probe', { readinessProbe: { exec: { command: ['worker', 'stratum+tcp://p:1'] } } }, ['spec.containers[0].readinessProbe.exec.command[1]']],
  ])('fires on %s', (_name, extra, paths) => {
    expect(run(extra).map((f) => f.path)).toEqual(paths);
  });

  it('the message says the address came through expansion, with credentials redacted', () => {
    const [finding] = run({ env: env([['S', 'stratum+tcp://wallet.1:x@']]), args: ['-o', '$(S)pool.example.net:3333'] }).filter((f) =>
      f.path.endsWith('args[1]'),
    );
    expect(finding!.message).toBe(
      'container "worker" connects to the mining pool "stratum+tcp://***@pool.example.net:3333" (args[1], after $(VAR) expansion from env)',
    );
  });

  it.each([
    ['$$ escapes: $$(S) is the literal text $(S)', { env: env([['S', 'stratum+tcp']]), args: ['$$(S)://p:1'] }],
    ['an unresolved reference is left as is', { args: ['$(NOPE)+tcp://p:1'] }],
    [
      'a later env entry is not visible to an earlier one',
      {
        env: env([
          ['URL', '$(S)://p:1'],
          ['S', 'stratum+tcp'],
        ]),
      },
    ],
    ['valueFrom is not known', { env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }], args: ['$(S)://p:1'] }],
    ['an http probe', { livenessProbe: { httpGet: { path: '/stratum+tcp://', port: 80 } } }],
    ['garbage hooks and probes', { lifecycle: { postStart: 'x', preStop: { exec: { command: 'stratum+tcp://x' } } }, livenessProbe: [1], env: 'x' }],
  ])('does not fire when %s', (_name, extra) => {
    expect(run(extra)).toEqual([]);
  });

  it('expansion is bounded: doubling env entries do not grow without limit', () => {
    const entries: Array<[string, string]> = [['V0', 'x'.repeat(64)]];
    for (let i = 1; i < 200; i++) entries.push([`V${i}`, `$(V${i - 1})$(V${i - 1})`]);
    const findings = run({ env: env(entries), args: [`$(V199)stratum+tcp://p:1`] });
    expect(findings.map((f) => f.path)).toEqual(['spec.containers[0].args[0]']);
  });
});
