// Runs alerts/ code in real child processes (to crash them, and to have two writers on one
// SQLite file): transpiles alerts/ and the modules it imports to JavaScript in a temporary directory that
// resolves packages from the project's node_modules.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { tempDir } from './support.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let built: string | undefined;

function transpileDir(from: string, to: string): void {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) transpileDir(src, path.join(to, entry.name));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const out = ts.transpileModule(fs.readFileSync(src, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
        fileName: src,
      });
      fs.mkdirSync(to, { recursive: true });
      fs.writeFileSync(path.join(to, entry.name.replace(/\.ts$/, '.js')), out.outputText);
    }
  }
}

const WORKER = `
import { SqliteAlertStore } from './alerts/store-sqlite.js';
const [file, mode, n, name] = process.argv.slice(2);
const store = SqliteAlertStore.open(file);
const alert = (i) => ({
  id: crypto.randomUUID(), type: 'exec-into-pod', title: 'Exec into pod', severity: 'medium', source: 'audit',
  firstSeen: new Date(Date.UTC(2025, 0, 1, 10)).toISOString(), lastSeen: new Date(Date.UTC(2025, 0, 1, 10)).toISOString(),
  count: 1, namespace: 'default', resource: { group: '', version: 'v1', kind: 'Pod', name: mode === 'same' ? name : name + '-' + i },
  user: { username: 'alice', groups: [] }, sourceIPs: [], userAgent: '', auditIDs: [String(process.pid) + '-' + i],
  message: 'exec', evidence: {}, tactics: [], remediation: '', status: 'active', history: [], fingerprint: '',
});
const { fingerprintOf } = await import('./alerts/model.js');
const make = (i) => { const a = alert(i); a.fingerprint = fingerprintOf(a); return a; };
if (mode === 'same') {
  process.stdout.write('ready\\n');
  await new Promise((r) => process.stdin.once('data', r));
  for (let i = 0; i < Number(n); i++) await store.upsert(make(i), 600000);
  await store.close();
  process.stdout.write('done\\n', () => process.exit(0));
} else {
  for (let i = 0; ; i++) {
    const a = await store.upsert(make(i), 600000);
    process.stdout.write('ack ' + a.id + '\\n');
  }
}
`;

/** The directory holding the transpiled code and worker.mjs (built once per test file). */
export function buildChildCode(): string {
  if (built) return built;
  const dir = tempDir('bulwark-child-');
  transpileDir(path.join(ROOT, 'alerts'), path.join(dir, 'alerts'));
  transpileDir(path.join(ROOT, 'policies'), path.join(dir, 'policies'));
  for (const module of ['core', 'config']) transpileDir(path.join(ROOT, module), path.join(dir, module));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  fs.writeFileSync(path.join(dir, 'worker.mjs'), WORKER);
  built = dir;
  return dir;
}

export interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first line matching. */
  waitFor(pred: (line: string) => boolean): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function startWorker(args: string[]): Child {
  const dir = buildChildCode();
  const proc = spawn(process.execPath, [path.join(dir, 'worker.mjs'), ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let buf = '';
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (w.pred(line)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    proc,
    lines,
    exited,
    waitFor: (pred) => {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exited.then((e) => reject(new Error(`worker exited (${e.code ?? e.signal}) before the expected line: ${e.stderr}`)));
      });
    },
  };
}
