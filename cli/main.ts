// The `bulwark` command. Each subcommand lives in its own file and registers itself here.
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands.js';
import { COMMAND_DESCRIPTIONS, type CommandName } from '../core/command-descriptions.js';

export const USAGE_EXIT = 2;

/**
 * The program. With `argv`, only the command being run is loaded; the others are listed from
 * cli/commands.ts (name and description), which is all `bulwark --help` shows of them. Without
 * `argv` every command is loaded (documentation checks walk the whole tree).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('bulwark')
    .description('Kubernetes admission webhook and policy enforcer with audit-log threat detection')
    .version(process.env.npm_package_version ?? '0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const wanted = argv ? invokedCommand(argv) : undefined;
  for (const [name, description] of Object.entries(COMMAND_DESCRIPTIONS) as [CommandName, string][]) {
    if (!argv || name === wanted) (await COMMANDS[name]())(program);
    else program.command(name).description(description).allowUnknownOption().allowExcessArguments();
  }
  return program;
}

/** The top-level command argv runs (`bulwark help scan` runs scan's help), if it names one. */
export function invokedCommand(argv: readonly string[]): CommandName | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? (name as CommandName) : undefined;
}

/** Runs the CLI; resolves to the process exit code. Usage errors exit 2, as the contract says. */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
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
