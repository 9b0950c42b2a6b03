// The one configuration schema: every command validates the whole file with it (#18 item 2),
// `bulwark config validate|schema`, one duration and one size parser, and the reference page.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configJsonSchema, configKeyPaths } from '../../config/json-schema.js';
import { ConfigError, parseConfig } from '../../config/load.js';
import { parseStoreSettings } from '../../alerts/settings.js';
import { auditSettingsOf } from '../../audit/config.js';
import { resolveServerSettings } from '../../cli/serve.js';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin', 'bulwark.js');
const dir = mkdtempSync(join(tmpdir(), 'bulwark-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 15_000, env: { ...process.env, KUBECONFIG: '/nonexistent' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('every command validates the whole file', () => {
  // A typo in a section scan and audit scan do not use: it used to pass them and stop serve.
  const typo = file('typo.yaml', 'profiles: [defender]\nstore:\n  dedupWindo: 10m\n');
  const manifest = file('pod.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
  const log = file('audit.log', '');

  it.each([
    ['serve', ['serve', '--no-kube', '--port', '0', '--config', typo]],
    ['scan', ['scan', '-c', typo, manifest]],
    ['audit scan', ['audit', 'scan', '-c', typo, log]],
    ['config validate', ['config', 'validate', typo]],
  ])('%s rejects it with exit 2 and the same message', (_name, args) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${typo}:3: store.dedupWindo: unknown key (known keys: url, dedupWindow, retention, floodLimit, maxConnections); did you mean "dedupWindow"?`,
    );
  });
});

describe('bulwark config validate', () => {
  it('exits 0 on a valid file', () => {
    const ok = file('ok.yaml', 'profiles: [defender, pss-baseline]\nstore: {dedupWindow: 1d}\naudit: {dedupWindow: 1d, maxLineBytes: 1Mi}\n');
    const r = run(['config', 'validate', ok]);
    expect(r).toMatchObject({ code: 0, stdout: `${ok}: valid\n` });
  });

  it('exits 2 listing every problem with file, line, key path and what was expected', () => {
    const bad = file(
      'bad.yaml',
      ['defaultAction: block', 'actions:', '  privileged-containr: warn', 'server:', '  bodyLimit: lots', 'api: {port: 8444}'].join('\n'),
    );
    const r = run(['config', 'validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not valid (4 problems)');
    expect(r.stderr).toContain(`${bad}:1: defaultAction: must be one of enforce, warn, audit, got "block"`);
    expect(r.stderr).toContain(`${bad}:3: actions.privileged-containr: unknown policy ID "privileged-containr" (did you mean "privileged-container"?)`);
    expect(r.stderr).toContain(`${bad}:5: server.bodyLimit: must be a size in bytes (e.g. 6291456, 6Mi, 512Ki), got "lots"`);
    expect(r.stderr).toContain(`${bad}:6: api.tokenFile: required when api.auth is tokens`);
  });

  it('exits 2 on a file over the size bound, and on a YAML alias bomb, without reading it all', () => {
    const big = file('big.yaml', `# ${'x'.repeat(4 * 1024 * 1024)}\n`);
    const r = run(['config', 'validate', big]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${big}: the configuration is ${4 * 1024 * 1024 + 3} bytes, over the limit of 4 MiB`);
    const lol = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lol.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill('*' + String.fromCharCode(96 + i))
          .join(', ')}]`,
      );
    const bomb = run(['config', 'validate', file('bomb.yaml', lol.join('\n'))]);
    expect(bomb.code).toBe(2);
    expect(bomb.stderr).toMatch(/bomb\.yaml: invalid YAML: .*alias/i);
  });

  it('exits 2 on a file it cannot read, naming it', () => {
    const r = run(['config', 'validate', join(dir, 'missing.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing\.yaml: cannot read the configuration: ENOENT/);
  });
});

describe('bulwark config schema', () => {
  it('prints the JSON Schema of the file', () => {
    const r = run(['config', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as Record<string, any>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'profiles',
        'defaultAction',
        'actions',
        'exemptions',
        'mutations',
        'lists',
        'onError',
        'server',
        'store',
        'api',
        'audit',
        'mutationDefaults',
      ]),
    );
    expect(schema.properties.defaultAction.enum).toEqual(['enforce', 'warn', 'audit']);
    expect(schema).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});

describe('one duration parser and one size parser', () => {
  it('reads 1d the same in store.dedupWindow and audit.dedupWindow', () => {
    const config = parseConfig('store: {dedupWindow: 1d}\naudit: {dedupWindow: 1d}\n');
    expect(parseStoreSettings(config.store).dedupWindowMs).toBe(86_400_000);
    expect(auditSettingsOf(config).dedupWindowMs).toBe(86_400_000);
  });

  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1w', 604_800_000],
    [120, 120_000],
    ['120', 120_000],
  ])('reads the duration %j as %d ms in every duration key', (value, ms) => {
    const config = parseConfig(JSON.stringify({ store: { dedupWindow: value }, audit: { dedupWindow: value }, server: { shutdownGrace: value } }));
    expect(parseStoreSettings(config.store).dedupWindowMs).toBe(ms);
    expect(auditSettingsOf(config).dedupWindowMs).toBe(ms);
    expect(resolveServerSettings(config.server, {}, {}).shutdownGraceMs).toBe(ms);
  });

  it.each(['soon', '-5s', '10 minutes', true])('rejects the duration %j in every duration key', (value) => {
    for (const key of ['store.dedupWindow', 'audit.dedupWindow', 'server.shutdownGrace', 'api.cacheTTL', 'store.retention.interval']) {
      const [section, ...rest] = key.split('.');
      const inner = rest.reduceRight<unknown>((acc, k) => ({ [k]: acc }), value);
      const text = JSON.stringify({ [section!]: { ...(section === 'api' ? { tokenFile: 't' } : {}), ...(inner as object) } });
      expect(() => parseConfig(text), key).toThrow(ConfigError);
      expect(() => parseConfig(text), key).toThrow(`${key}: must be a duration like 90s, 10m, 1h or 30d`);
    }
  });

  it('bounds the poll intervals at a day (a longer Node timer fires every millisecond); 0 turns polling off', () => {
    for (const key of ['certPollInterval', 'configPollInterval']) {
      expect(() => parseConfig(`server: {${key}: 30d}`), key).toThrow(`server.${key}: must be at most 86400s (a polling interval), got "30d"`);
      expect(resolveServerSettings(parseConfig(`server: {${key}: 1d}`).server, {}, {}), key).toMatchObject({ [`${key}Ms`]: 86_400_000 });
      expect(resolveServerSettings(parseConfig(`server: {${key}: 0}`).server, {}, {}), key).toMatchObject({ [`${key}Ms`]: 0 });
    }
  });

  it('reads sizes the same in server.bodyLimit and audit.maxLineBytes', () => {
    const config = parseConfig('server: {bodyLimit: 2Mi}\naudit: {maxLineBytes: 2Mi}\n');
    expect(resolveServerSettings(config.server, {}, {}).bodyLimit).toBe(2 * 1024 * 1024);
    expect(auditSettingsOf(config).maxLineBytes).toBe(2 * 1024 * 1024);
    expect(() => parseConfig('audit: {maxLineBytes: 512}')).toThrow(
      'audit.maxLineBytes: must be a size in bytes (e.g. 6291456, 6Mi, 512Ki) of at least 1024, got 512',
    );
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
  const reference = doc.slice(doc.indexOf('## Reference'));
  const documented = [...reference.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
  const schemaKeys = configKeyPaths().map((k) => k.path);

  it('documents every key of the schema', () => {
    expect(schemaKeys.filter((k) => !documented.includes(k))).toEqual([]);
  });

  it('documents no key the schema does not have', () => {
    expect(documented.filter((k) => !schemaKeys.includes(k))).toEqual([]);
  });

  it('names every top-level key of the DESIGN.md contract', () => {
    for (const key of [
      'profiles',
      'defaultAction',
      'actions',
      'exemptions.namespaces',
      'exemptions.usernames',
      'exemptions.groups',
      'exemptions.images',
      'mutations',
      'store.url',
      'api.port',
      'api.tokenFile',
      'api.roles.admin',
      'api.roles.reader',
    ]) {
      expect(schemaKeys).toContain(key);
    }
  });
});

describe('the published JSON Schema agrees with the validator', async () => {
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const check = ajv.compile(configJsonSchema());
  const { parse } = await import('yaml');

  it.each([
    [
      'the chart-like file',
      'profiles: [defender, pss-restricted@v1.29]\ndefaultAction: warn\nactions: {kube-system-workload: audit, privileged-container: off}\nexemptions: {namespaces: [bulwark-system], images: ["registry.k8s.io/*"]}\nserver: {port: 8443, namespace: ops, bodyLimit: 6Mi, shutdownGrace: 25}\nstore: {url: "sqlite:./d.db", dedupWindow: 1d, retention: {maxAge: off, maxCount: 10}}\napi: {auth: kubernetes, cacheTTL: 10s}\naudit: {dedupWindow: 600, maxLineBytes: 16Mi, disabled: []}\nmutations: [default-resources]\nmutationDefaults: {resources: {requests: {cpu: 100m}}}\n',
    ],
    ['an empty mapping', '{}'],
  ])('both accept %s', (_name, text) => {
    expect(() => parseConfig(text)).not.toThrow();
    expect(check(parse(text)), JSON.stringify(check.errors)).toBe(true);
  });

  it.each([
    ['an unknown top-level key', 'exemptoins: {}'],
    ['an unknown nested key', 'store: {dedupWindo: 1m}'],
    ['an unknown policy ID', 'actions: {privileged-containr: warn}'],
    ['an unknown mutation', 'mutations: [make-safe]'],
    ['a bad action', 'defaultAction: block'],
    ['a profile this build does not know', 'profiles: [defendr]'],
  ])('both reject %s', (_name, text) => {
    expect(() => parseConfig(text)).toThrow(ConfigError);
    expect(check(parse(text))).toBe(false);
  });
});
