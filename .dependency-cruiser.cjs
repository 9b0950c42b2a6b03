// The walls between Bulwark's modules (top-level folders), checked by `npm test` (npm run deps).
// Data flows one way: entry point → subject → checks → findings → decision/alert.
//   core      ← what every module uses; imports no other module
//   policies  ← pure checks; imports only core
//   config    ← the file and its one schema; imports core and policies (profile and policy names)
//   certs, alerts ← never policies, webhook, audit or cli
//   webhook, audit ← never each other, never cli
//   vap       ← compiles checks to ValidatingAdmissionPolicy; reads core, config and policies
//   cli       ← the commands; nothing else imports cli
// Modules not named here (new ones) are free but for the cli and cycle rules.
const local = (modules) => `^(${modules.join('|')})/`;

/** A rule: files under `from` may not import files under any of `to`. */
const forbid = (name, comment, from, to) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^${from}/` },
  to: { path: local(to) },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import circles between files',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-no-module',
      comment: 'core/ is what every module uses and none owns: it imports no other module',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: '^[^/]+/', pathNot: '^(core|node_modules)/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'policies-imports-only-core',
      comment: 'checks are pure: policies/ imports only core/ (and itself)',
      severity: 'error',
      from: { path: '^policies/' },
      to: { path: '^[^/]+/', pathNot: '^(core|policies|node_modules)/', dependencyTypesNot: ['core'] },
    },
    forbid('config-below-the-modules', 'config/ is read by the modules, never the other way round', 'config', ['webhook', 'audit', 'alerts', 'certs', 'cli']),
    forbid('vap-below-the-entry-points', 'vap/ compiles checks to ValidatingAdmissionPolicy: it reads core, config and policies only', 'vap', [
      'webhook',
      'audit',
      'alerts',
      'certs',
      'cli',
    ]),
    forbid('alerts-not-policies', 'alerts/ knows alerts, not checks', 'alerts', ['policies', 'webhook', 'audit', 'cli']),
    forbid('certs-standalone', 'certs/ is certificate tooling only', 'certs', ['policies', 'webhook', 'audit', 'alerts', 'cli']),
    forbid('webhook-not-audit', 'the admission webhook and the audit analyser are siblings', 'webhook', ['audit', 'cli']),
    forbid('audit-not-webhook', 'the audit analyser and the admission webhook are siblings', 'audit', ['webhook', 'cli']),
    {
      name: 'nothing-imports-cli',
      comment: 'cli/ is the top: only the commands, tests and benches import it',
      severity: 'error',
      from: { pathNot: '^(cli|test|bench|bin)/' },
      to: { path: '^cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
