// Runs the compiled checks on one subject: the single evaluation path of every entry point.
import { checksFor, isExcepted, isImageExempt, type CompiledConfig } from './config.js';
import type { EvalContext, Finding, Subject } from './types.js';

export interface CheckError {
  policy: string;
  error: Error;
}

export interface Evaluation {
  findings: Finding[];
  /** Checks that threw (a bug or a shape no check expected); the other checks still ran. */
  errors: CheckError[];
}

/**
 * Evaluates every active check that applies to the subject. Findings about a container whose
 * image matches an image exemption are dropped; pod-level findings stay.
 */
export function evaluateSubject(subject: Subject, compiled: CompiledConfig, ctx: Omit<EvalContext, 'lists'> = {}): Evaluation {
  const context: EvalContext = { ...ctx, lists: compiled.config.lists };
  const findings: Finding[] = [];
  let errors: CheckError[] | undefined;
  const checks = checksFor(compiled, subject.type);
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i]!;
    let found: Finding[];
    try {
      found = check.evaluate(subject, context);
    } catch (err) {
      (errors ??= []).push({ policy: check.id, error: err instanceof Error ? err : new Error(String(err)) });
      continue;
    }
    for (let j = 0; j < found.length; j++) {
      const f = found[j]!;
      if (f.image !== undefined && isImageExempt(compiled, f.image)) continue;
      if (
        compiled.exceptions.size > 0 &&
        isExcepted(compiled.exceptions, f.policy, {
          username: ctx.user?.username,
          groups: ctx.user?.groups,
          namespace: subject.ref.namespace,
          name: subject.ref.name,
          image: f.image,
        })
      )
        continue;
      findings.push(f);
    }
  }
  return { findings, errors: errors ?? [] };
}
