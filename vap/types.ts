// The vocabulary of the ValidatingAdmissionPolicy compiler: one CEL compilation per check.
import type { PolicyLists } from '../policies/types.js';

/** The kinds of object a compiled check judges, as the policies module's subject types name them. */
export type VapTarget = 'pod' | 'role' | 'binding' | 'exposure';

export interface CelVariable {
  name: string;
  expression: string;
}

export interface CelValidation {
  /** True when the object passes. */
  expression: string;
  /** The `[policy-id] …` sentence of the first finding, as close to the webhook's as CEL allows. */
  messageExpression: string;
}

export interface CelCompilation {
  target: VapTarget;
  /** Variables of this check only; the target's shared variables come first. */
  variables?: CelVariable[];
  validations: CelValidation[];
  /** How the VAP's answer differs from the webhook's (shown by --explain). */
  differences?: string[];
}

export interface CompileContext {
  lists: PolicyLists;
  /**
   * A CEL predicate over a container `c` that is true when its image is exempt (config
   * exemptions.images), or undefined when no image is exempt.
   */
  imageExempt?: (c: string) => string;
}

/** One check's compiler. `versions` names the PSS version entries (minimumVersion) it implements. */
export interface CheckCompiler {
  id: string;
  versions?: readonly string[];
  compile(ctx: CompileContext): CelCompilation;
}
