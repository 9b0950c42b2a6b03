// kubectl's flag habits, shared by every command that reads files or prints a format:
// -f/--filename (repeatable, - for stdin), -R/--recursive, -o/--output. `--format` stays as an alias
// of -o (DESIGN.md's contract), and the old `-f FORMAT` of scan and audit scan keeps working for one
// release with a deprecation note: -f now names input files, as it does in kubectl.
import { existsSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A repeatable option whose every value is checked first (`check` throws a message for a bad one). */
export function collectChecked(check: (value: string) => unknown): (value: string, previous: string[] | undefined) => string[] {
  return (value, previous) => {
    try {
      check(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
    return collect(value, previous);
  };
}

/** -f/--filename and -R/--recursive. */
export function filenameOptions(what = 'manifest'): Option[] {
  return [
    new Option('-f, --filename <path>', `${what} file or directory, - for stdin (repeatable; the same as a positional PATH)`).argParser(collect),
    new Option('-R, --recursive', 'read directories recursively (always the case; accepted for kubectl habit)'),
  ];
}

/** -o/--output and its alias --format, with the formats a command prints. No default: chosenOutput() applies it. */
export function outputOptions(formats: readonly string[]): Option[] {
  return [
    new Option('-o, --output <format>', `output format: ${formats.join(', ')}`).choices([...formats]),
    new Option('--format <format>', 'alias of -o/--output').choices([...formats]),
  ];
}

export interface FileAndOutputFlags {
  filename?: string[];
  output?: string;
  format?: string;
}

/**
 * The input paths (positional ones first, then -f values) and the output format. A -f value that
 * is a format name and not a file is the old `-f FORMAT`: taken as the format, with a note on stderr.
 */
export function resolveFilesAndOutput(
  positional: readonly string[],
  flags: FileAndOutputFlags,
  formats: readonly string[],
  fallback: string,
  warn: (line: string) => void,
): { paths: string[]; format: string } {
  let format = flags.output ?? flags.format;
  const paths = [...positional];
  for (const f of flags.filename ?? []) {
    if (formats.includes(f) && !existsSync(f) && format === undefined) {
      warn(`-f ${f} as the output format is deprecated and goes in the next release: use -o ${f} (-f names input files, as in kubectl)`);
      format = f;
      continue;
    }
    paths.push(f);
  }
  return { paths, format: format ?? fallback };
}
