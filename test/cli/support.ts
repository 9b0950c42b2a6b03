// `bulwark scan ARGS` in-process, with its streams captured (stdin given as text).
import { Readable } from 'node:stream';
import { main } from '../../cli/main.js';
import { withScanIO } from '../../cli/scan.js';

export async function scanCli(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await withScanIO(
    { stdout: { write: (s: string) => (stdout += s), isTTY: false }, stderr: { write: (s: string) => (stderr += s) }, stdin: Readable.from([stdin]), env: {} },
    () => main(['node', 'bulwark', 'scan', ...args]),
  );
  return { code, stdout, stderr };
}
