// The documentation is part of the interface: every command and option is documented, every
// relative link in README.md and docs/ resolves (file and heading), and the README's tour runs.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../cli/main.js';
import { parseAdmissionReview } from '../webhook/review.js';
import { decide } from '../webhook/decide.js';
import { compiledWith } from './webhook/support.js';
import { MAX_FILE_BYTES, MAX_YAML_BYTES } from '../cli/manifests.js';
import { DEFAULT_BODY_LIMIT } from '../webhook/body.js';
import { DEFAULT_MAX_LINE_BYTES } from '../audit/config.js';
import { AUDIT_BODY_LIMIT } from '../audit/webhook.js';
import { MAX_DOCUMENT_BYTES } from '../audit/input.js';
import { generateVap } from '../vap/generate.js';
import { compileConfig } from '../policies/config.js';
import { defaultConfig } from '../config/load.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const text = new Map(pages.map((p) => [p, readFileSync(join(root, p), 'utf8')]));
const all = [...text.values()].join('\n');

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (m) out.add(slug(m[1]));
  }
  return out;
}

function walk(cmd: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...path, c.name()], cmd: c }, ...walk(c, [...path, c.name()])]);
}

const program = await buildProgram();

describe('documentation', () => {
  const commands = walk(program);

  it.each(commands.map((c) => [c.path.join(' '), c.cmd] as const))('documents `bulwark %s` and each of its long options', (name, cmd) => {
    expect(all, `bulwark ${name} is not documented`).toContain(`bulwark ${name}`);
    const missing = cmd.options.map((o) => o.long).filter((long): long is string => !!long && !all.includes(long));
    expect(missing, `options of bulwark ${name} not documented anywhere in README.md or docs/`).toEqual([]);
  });

  it('has a relative link for every docs page in the README', () => {
    const readme = text.get('README.md')!;
    const unlinked = pages.filter((p) => p !== 'README.md' && !readme.includes(`](${p}`));
    expect(unlinked).toEqual([]);
  });

  it.each(pages)('%s: every relative link resolves to a file and heading', (page) => {
    const broken: string[] = [];
    for (const m of text.get(page)!.matchAll(/\]\(([^)\s]+)\)/g)) {
      const url = m[1];
      if (/^[a-z]+:/.test(url)) continue;
      const [file, hash] = url.split('#');
      const target = file ? join(dirname(join(root, page)), file) : join(root, page);
      if (!existsSync(target)) broken.push(`${url} (no file)`);
      else if (hash && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(hash)) broken.push(`${url} (no heading)`);
    }
    expect(broken).toEqual([]);
  });

  it('documented `bulwark …` command lines name real commands and options', () => {
    const known = new Map(commands.map((c) => [c.path.join(' '), c.cmd]));
    const bad: string[] = [];
    for (const [page, body] of text) {
      for (const block of body.matchAll(/```(?:sh|bash|console)?\n([\s\S]*?)```/g)) {
        for (const line of block[1].split('\n')) {
          const m = /(?:^|[|;&(]\s*|\$\s+)(?:[A-Z_]+=\S+\s+)*(?:npx\s+|node\s+(?:bin|dist\/bin)\/)?bulwark(?:\.js)?\s+((?:[a-z][\w-]* ?){1,3})([^|;&>]*)/.exec(
            line.replace(/#.*$/, '').trim(),
          );
          if (!m) continue;
          const words = m[1].trim().split(' ');
          let cmd: Command | undefined;
          let used = '';
          for (let n = words.length; n > 0 && !cmd; n--) {
            used = words.slice(0, n).join(' ');
            cmd = known.get(used);
          }
          if (!cmd) {
            bad.push(`${page}: unknown command in "${line.trim()}"`);
            continue;
          }
          const opts = new Set(cmd.options.flatMap((o) => [o.long, o.short]).concat(['--help', '-h']));
          for (const flag of `${m[1]}${m[2]}`.matchAll(/(?:^|\s)(--?[a-zA-Z][\w-]*)/g)) {
            if (!opts.has(flag[1])) bad.push(`${page}: bulwark ${used} has no option ${flag[1]} ("${line.trim()}")`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it("the README's admission example is denied with [policy-id] lines", () => {
    const body = readFileSync(join(root, 'examples/admission/privileged-pod-review.json'), 'utf8');
    expect(text.get('README.md')).toContain('examples/admission/privileged-pod-review.json');
    const parsed = parseAdmissionReview(JSON.parse(body));
    if (!parsed.ok) throw new Error(parsed.error);
    const decision = decide({ request: parsed.request, compiled: compiledWith() });
    expect(decision.outcome).toBe('denied');
    const lines = decision.response?.status?.message?.split('\n') ?? [];
    expect(lines.map((l) => /^\[([a-z-]+)\] /.exec(l)?.[1])).toEqual(['privileged-container', 'host-namespaces']);
  });

  it("the README's size limits are the code's", () => {
    const readme = text.get('README.md')!.replace(/\s+/g, ' ');
    const mib = (n: number) => `${n / 1024 / 1024} MiB`;
    for (const phrase of [
      `a YAML file for \`scan\` up to ${mib(MAX_YAML_BYTES)}`,
      `(JSON up to ${mib(MAX_FILE_BYTES)})`,
      `\`server.bodyLimit\` (${mib(DEFAULT_BODY_LIMIT)})`,
      `\`audit.maxLineBytes\` (${mib(DEFAULT_MAX_LINE_BYTES)})`,
      `(\`POST /audit\`) up to ${mib(AUDIT_BODY_LIMIT)}`,
      `(EventList or array) up to ${mib(MAX_DOCUMENT_BYTES)}`,
    ]) {
      expect(readme).toContain(phrase);
    }
  });

  it("the README's ValidatingAdmissionPolicy coverage counts are what bulwark vap compiles", () => {
    const readme = text.get('README.md')!.replace(/\s+/g, ' ');
    const count = (profiles: string[]) => {
      const r = generateVap(compileConfig({ ...defaultConfig(), profiles }));
      return `${r.compiled.length} of ${r.total}`;
    };
    expect(readme).toContain(`with the default \`defender\` set, ${count(['defender'])} checks compile`);
    expect(readme).toContain(`\`pss-restricted\`, ${count(['defender', 'pss-baseline', 'pss-restricted'])} (every`);
  });
});
