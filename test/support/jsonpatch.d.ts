// Minimal types for the `jsonpatch` package (3.x ships none): what the tests use (a devDependency).
declare module 'jsonpatch' {
  export interface Operation {
    op: string;
    path: string;
    value?: unknown;
    from?: string;
  }
  /** Applies an RFC 6902 patch; the input is not mutated. Throws PatchApplyError or InvalidPatch. */
  export function apply_patch<T = unknown>(doc: unknown, patch: readonly Operation[] | string): T;
  export class InvalidPatch extends Error {}
  export class PatchApplyError extends Error {}
  const jsonpatch: {
    apply_patch: typeof apply_patch;
    InvalidPatch: typeof InvalidPatch;
    PatchApplyError: typeof PatchApplyError;
  };
  export default jsonpatch;
}
