// Kubernetes resource quantities (`100m`, `128Mi`, `1e3`), as the API server reads them.

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?$/;
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/**
 * The numeric value of a non-negative Kubernetes quantity (`100m` → 0.1, `128Mi` → 134217728),
 * or undefined when it is not one. Accepts JSON numbers, as the API server does.
 */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = QUANTITY.exec(value.startsWith('+') ? value.slice(1) : value);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2]) return n * BINARY[m[2]]!;
  if (m[3]) return n * DECIMAL[m[3]]!;
  if (m[4]) return n * 10 ** Number(m[4]);
  return n;
}
