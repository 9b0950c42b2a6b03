// Where Bulwark's own files are: the repository (or installed package) root, which holds
// charts/static/ (the install rendering) and certs/dev/ (the development certificate).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The nearest folder up from this module whose package.json names `bulwark` (works from the
 * sources under vitest and from dist/ after the build); the working directory if none.
 */
export function projectRoot(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'bulwark') return (cached = dir);
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** A path under the project root, e.g. `asset('charts', 'static', 'install.yaml')`. */
export function asset(...parts: string[]): string {
  return path.join(projectRoot(), ...parts);
}
