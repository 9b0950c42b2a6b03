// Fixture-driven agreement with Pod Security Admission: every pass fixture yields no finding and
// every fail fixture at least one, at exactly the level and version of its directory.
//   test/fixtures/pss/generated/<level>/v1.N/{pass,fail}.yaml — from generate.mjs, in the style of
//     PSA's own fixture generators (minimal valid pod + one mutation per case);
//   test/fixtures/pss/upstream/<level>/v1.N/{pass,fail}/*.yaml — cases copied by hand from
//     k8s.io/pod-security-admission/test/testdata.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PSS_CHECKS, pssChecks, type PssLevel } from '../../../policies/pss/index.js';
import type { K8sObject } from '../../../policies/types.js';
import { evaluate } from './support.js';

const root = join(import.meta.dirname, '..', '..', 'fixtures', 'pss');

function docs(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as K8sObject);
}

const nameOf = (obj: K8sObject): string => String((obj.metadata as { name?: unknown }).name);
const byVersion = (a: string, b: string): number => Number(a.slice(3)) - Number(b.slice(3));

/** Lower-cased PSA ID (the fixture name prefix) → the check and what overrides it. */
const BY_FIXTURE_PREFIX = new Map(PSS_CHECKS.map((c) => [c.psaId.toLowerCase(), c]));

/** The Bulwark IDs that may report a fail fixture named after a check: the check, or its override. */
function expectedPolicies(level: PssLevel, version: string, name: string): string[] | undefined {
  const check = BY_FIXTURE_PREFIX.get(name.replace(/[0-9]+$/, ''));
  if (!check) return undefined;
  const active = pssChecks(level, version);
  if (active.some((c) => c.id === check.id)) return [check.id];
  const overriders = PSS_CHECKS.filter((c) => c.overrides?.includes(check.psaId)).map((c) => c.id);
  return overriders.filter((id) => active.some((c) => c.id === id));
}

function expectOutcome(level: PssLevel, version: string, obj: K8sObject, outcome: 'pass' | 'fail'): void {
  const findings = evaluate(level, version, obj);
  const name = nameOf(obj);
  if (outcome === 'pass') {
    expect(findings, `${name} should pass ${level} ${version}`).toEqual([]);
    return;
  }
  expect(findings.length, `${name} should fail ${level} ${version}`).toBeGreaterThan(0);
  const expected = expectedPolicies(level, version, name);
  if (expected) {
    const fired = findings.map((f) => f.policy);
    expect(
      fired.some((id) => expected.includes(id)),
      `${name} at ${level} ${version}: fired ${fired.join(', ')}, expected one of ${expected.join(', ')}`,
    ).toBe(true);
  }
}

describe('generated fixtures (PSA style: minimal valid pod + one mutation)', () => {
  for (const level of ['baseline', 'restricted'] as const) {
    const levelDir = join(root, 'generated', level);
    for (const version of readdirSync(levelDir).sort(byVersion)) {
      for (const outcome of ['pass', 'fail'] as const) {
        const cases = docs(join(levelDir, version, `${outcome}.yaml`));
        it(`${level} ${version}: ${cases.length} ${outcome} cases`, () => {
          expect(cases.length).toBeGreaterThan(0);
          for (const obj of cases) expectOutcome(level, version, obj, outcome);
        });
      }
    }
  }
});

describe('upstream PSA testdata (copied by hand)', () => {
  for (const level of ['baseline', 'restricted'] as const) {
    const levelDir = join(root, 'upstream', level);
    for (const version of readdirSync(levelDir).sort(byVersion)) {
      for (const outcome of ['pass', 'fail'] as const) {
        const dir = join(levelDir, version, outcome);
        if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
        for (const file of readdirSync(dir).sort()) {
          it(`${level}/${version}/${outcome}/${file}`, () => {
            for (const obj of docs(join(dir, file))) expectOutcome(level, version, obj, outcome);
          });
        }
      }
    }
  }
});
