// Start-up wall time of the CLI (issue #18 item 4): `bulwark --help` and `bulwark scan` on one
// small file, each run N times as a fresh process; prints min / median / max. A figure, never a
// test: run it on a quiet machine (`npm run bench:startup`). Goal: median under 0.25 s.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/bulwark.js');
const runs = Number(process.env.BENCH_RUNS ?? 10);

const cases: [string, string[]][] = [
  ['bulwark --help', ['--help']],
  ['bulwark scan <one file>', ['scan', path.join(root, 'examples/manifests/hardened-deployment.yaml')]],
];

for (const [name, args] of cases) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (r.status !== 0 && r.status !== 1) throw new Error(`${name}: exit ${r.status}`);
  }
  times.sort((a, b) => a - b);
  const f = (n: number): string => `${n.toFixed(3)} s`;
  console.log(`${name.padEnd(26)} min ${f(times[0]!)}  median ${f(times[Math.floor(times.length / 2)]!)}  max ${f(times[times.length - 1]!)}  (${runs} runs)`);
}
