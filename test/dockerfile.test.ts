import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('Dockerfile', () => {
  it('pins every base image by digest', () => {
    const froms = fs
      .readFileSync(path.join(root, 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const line of froms) {
      const image = line.split(/\s+/)[1]!;
      expect(image, line).toMatch(/^[a-z0-9./-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}$/);
    }
  });

  it('copies every source folder the build compiles (a missing one fails the image build or the console)', () => {
    const text = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    const copied = new Set([...text.matchAll(/^COPY (?!--from)(\S+)/gm)].map((m) => m[1]!.split('/')[0]!));
    const build = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    for (const dir of [...build.include, 'ui']) expect(copied, `COPY ${dir} ${dir}`).toContain(dir);
    // Every folder of TypeScript sources but the tests and benches is in the build.
    const sources = fs
      .readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !['node_modules', 'dist', 'test', 'bench', 'ui'].includes(d.name) && !d.name.startsWith('.'))
      .filter((d) => fs.readdirSync(path.join(root, d.name), { recursive: true }).some((f) => String(f).endsWith('.ts')))
      .map((d) => d.name);
    expect([...build.include].sort()).toEqual(expect.arrayContaining(sources));
  });
});
