// `bulwark config validate FILE` (exit 0 valid, 2 invalid, every problem on stderr) and
// `bulwark config schema` (the JSON Schema of the file on stdout).
import type { Command } from 'commander';
import { ConfigError } from '../core/errors.js';
import { configJsonSchema } from './json-schema.js';
import { loadConfigFile } from './load.js';
import { describe } from '../core/command-descriptions.js';

export interface ConfigIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const EXIT_VALID = 0;
const EXIT_INVALID = 2;

/** Validates the whole file with the schema every command uses; resolves to the exit code. */
export function runConfigValidate(file: string, io: ConfigIO): number {
  try {
    loadConfigFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.message.split('\n');
    io.stderr.write(`bulwark config validate: ${file} is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n`);
    for (const line of problems) io.stderr.write(`  ${line}\n`);
    return EXIT_INVALID;
  }
  io.stdout.write(`${file}: valid\n`);
  return EXIT_VALID;
}

export function registerConfig(program: Command, io: ConfigIO = { stdout: process.stdout, stderr: process.stderr }): void {
  const config = program.command('config').description(describe('config'));
  config
    .command('validate')
    .description('validate a configuration file with the schema every command uses (exit 0 valid, 2 invalid)')
    .argument('<file>', 'configuration file (YAML or JSON)')
    .action((file: string) => {
      process.exitCode = runConfigValidate(file, io);
    });
  config
    .command('schema')
    .description('print the JSON Schema of the configuration file (for editors and CI)')
    .action(() => {
      io.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
      process.exitCode = 0;
    });
}
