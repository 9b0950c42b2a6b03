// The `bulwark` command. Each subcommand lives in its own file and registers itself here.
import { Command, CommanderError } from 'commander';
import { registerScan } from './scan.js';
import { registerServe } from './serve.js';
import { registerInstallCommands } from './install.js';
import { registerAlerts } from '../alerts/cli.js';
import { registerCerts } from '../certs/cli.js';
import { registerAudit } from '../audit/cli.js';
import { registerConfig } from '../config/cli.js';
import { registerRules } from './rules.js';
import { registerIntel } from './intel.js';
import { registerVap } from './vap.js';

export const USAGE_EXIT = 2;

export function buildProgram(): Command {
  const program = new Command('bulwark')
    .description('Kubernetes admission webhook and policy enforcer with audit-log threat detection')
    .version(process.env.npm_package_version ?? '0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerServe(program);
  registerScan(program);
  registerInstallCommands(program);
  registerAlerts(program);
  registerCerts(program);
  registerAudit(program);
  registerConfig(program);
  registerRules(program);
  registerIntel(program);
  registerVap(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. Usage errors exit 2, as the contract says. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.commands.forEach((c) => c.exitOverride());
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return USAGE_EXIT;
    }
    // One prefix for every command's errors: `bulwark register: …`, `bulwark audit scan: …`.
    process.stderr.write(`${commandName(program, argv)}: ${err instanceof Error ? err.message : String(err)}\n`);
    return USAGE_EXIT;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

/** `bulwark`, then the subcommands named in argv (`bulwark audit scan`), as far as they are known. */
export function commandName(program: Command, argv: readonly string[]): string {
  let cmd = program;
  let name = 'bulwark';
  for (const arg of argv.slice(2)) {
    if (arg.startsWith('-')) break;
    const sub = cmd.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    name += ` ${sub.name()}`;
    cmd = sub;
  }
  return name;
}
