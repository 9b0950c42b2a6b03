// `bulwark intel check IP...`: which configured threat-intelligence list (intel.files) holds each
// address. Exit 0 when none is listed, 1 when at least one is, 2 on a usage or config error.
import type { Command } from 'commander';
import { IntelLists } from '../audit/intel.js';
import { loadConfigFile, parseSection } from '../config/load.js';
import { parseIp } from '../core/ip-trie.js';
import { describe } from '../core/command-descriptions.js';

export function registerIntel(program: Command): void {
  const intel = program.command('intel').description(describe('intel'));
  intel
    .command('check')
    .description('say which intel list (if any) holds each address')
    .argument('<ip...>', 'IPv4 or IPv6 addresses')
    .option('-c, --config <file>', 'the Bulwark configuration (its intel.files)')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-o, --output <format>', 'alias of --format')
    .action((ips: string[], opts: { config?: string; format: string; output?: string }) => {
      const format = opts.output ?? opts.format;
      const fail = (message: string) => {
        process.stderr.write(`bulwark intel check: ${message}\n`);
        process.exitCode = 2;
      };
      if (format !== 'table' && format !== 'json') return fail(`--format must be table or json, got ${JSON.stringify(format)}`);
      const bad = ips.filter((ip) => parseIp(ip) === undefined);
      if (bad.length) return fail(`not an IP address: ${bad.map((b) => JSON.stringify(b.slice(0, 80))).join(', ')}`);
      let lists: IntelLists;
      try {
        const config = loadConfigFile(opts.config);
        const files = config.intel?.files ?? [];
        if (files.length === 0) return fail(`no intel.files in ${opts.config ?? 'the configuration (use -c FILE)'}`);
        lists = new IntelLists({
          files,
          baseDir: config.configDir,
          reloadIntervalMs: parseSection('intel', config.intel).reloadInterval,
          onProblem: (m) => process.stderr.write(`bulwark: ${m}\n`),
        });
      } catch (err) {
        return fail((err as Error).message);
      }
      const results = ips.map((ip) => ({ ip, match: lists.lookup(ip) }));
      if (format === 'json') {
        process.stdout.write(
          JSON.stringify(
            results.map((r) => ({ ip: r.ip, listed: r.match !== undefined, ...(r.match ? { list: r.match.list, prefix: r.match.prefix } : {}) })),
            null,
            2,
          ) + '\n',
        );
      } else {
        for (const r of results) process.stdout.write(r.match ? `${r.ip}\tlisted in ${r.match.list} (${r.match.prefix})\n` : `${r.ip}\tnot listed\n`);
      }
      process.exitCode = results.some((r) => r.match) ? 1 : 0;
    });
}
