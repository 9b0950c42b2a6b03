// One command of the CLI run in-process through commander, its stdout, stderr and exit code captured.
import { Command } from 'commander';
import { vi } from 'vitest';

export async function runCommand(
  register: (program: Command) => void,
  name: string,
  args: string[],
): Promise<{ stdout: string; stderr: string; code: number }> {
  const program = new Command('bulwark').exitOverride();
  register(program);
  program.commands.forEach((c) => c.exitOverride());
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += s.toString()), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += s.toString()), true));
  const saved = process.exitCode;
  process.exitCode = undefined;
  let code: number;
  try {
    await program.parseAsync(['node', 'bulwark', name, ...args]);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = saved;
  }
  return { stdout, stderr, code };
}
