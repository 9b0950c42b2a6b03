// Threat-intel lookups: 100,000 entries (IPv4 and IPv6 addresses and CIDRs) in the prefix trie,
// then lookups of random addresses. Reports CPU time per lookup and the trie's memory; the lookup
// cost stays bounded by the prefix length (32 / 128 bits) whatever the entry count.
// Run: npx tsc -p tsconfig.json && node dist/bench/intel.js
import { IpPrefixSet } from '../core/ip-trie.js';

function rand(n: number): number {
  return Math.floor(Math.random() * n);
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

function bench(entries: number, lookups = 1_000_000): void {
  const set = new IpPrefixSet();
  let t = process.cpuUsage();
  for (let i = 0; i < entries; i++) {
    if (i % 4 === 3) {
      const b = new Uint8Array(16);
      b[0] = 0x20;
      b[1] = 0x01;
      for (let k = 2; k < 8; k++) b[k] = rand(256);
      set.add(b, 32 + rand(33), i);
    } else {
      set.add(new Uint8Array([rand(256), rand(256), rand(256), rand(256)]), i % 4 === 0 ? 16 + rand(17) : 32, i);
    }
  }
  const build = cpuMs(t);
  const probes: string[] = [];
  for (let i = 0; i < 10_000; i++)
    probes.push(i % 4 === 3 ? `2001:${rand(65536).toString(16)}::${rand(65536).toString(16)}` : `${rand(256)}.${rand(256)}.${rand(256)}.${rand(256)}`);
  let hits = 0;
  t = process.cpuUsage();
  for (let i = 0; i < lookups; i++) if (set.lookup(probes[i % probes.length]!)) hits++;
  const look = cpuMs(t);
  console.log(
    `${entries.toLocaleString('en')} entries: build ${build.toFixed(0)} ms CPU, trie ${(set.memoryBytes / 1024 / 1024).toFixed(1)} MiB; ` +
      `${lookups.toLocaleString('en')} lookups ${look.toFixed(0)} ms CPU = ${((look * 1000) / lookups).toFixed(3)} µs/lookup (${hits} hits)`,
  );
}

for (const n of [1_000, 100_000]) bench(n);
