// One source for the kinds judged (policies/kinds.ts): the chart's webhook rules (rendered with
// the real helm binary, and the static renderings `bulwark manifests` and `register` use), the
// audit analyser's resource names and the subjects all follow it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kindOfResource } from '../../audit/event.js';
import { JUDGED_KINDS, SUBJECT_KINDS } from '../../policies/kinds.js';
import { POD_BEARING_KINDS, toSubject } from '../../policies/subject.js';
import { chartDir, helm } from '../support/helm.js';

type Obj = Record<string, any>;
const root = new URL('../..', import.meta.url).pathname;

function docsOf(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
}

function render(sets: string[]): Obj[] {
  const r = helm(['template', 'rel', chartDir, '--namespace', 'bulwark-system', ...sets.flatMap((s) => ['--set', s])]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return docsOf(r.stdout);
}

/** `group/resource` pairs a webhook's rules match. */
function matched(webhook: Obj): string[] {
  return [
    ...new Set((webhook.rules as Obj[]).flatMap((r) => (r.apiGroups as string[]).flatMap((g) => (r.resources as string[]).map((res) => `${g}/${res}`)))),
  ].sort();
}

const expand = (kinds: typeof JUDGED_KINDS): string[] => kinds.flatMap((k) => k.groups.map((g) => `${g}/${k.resource}`)).sort();
const judged = expand(JUDGED_KINDS);
const podBearing = expand(JUDGED_KINDS.filter((k) => k.podBearing));

describe('the chart registers exactly the judged kinds', () => {
  const sources: [string, () => Obj[]][] = [
    ['helm template', () => render(['mutation.enabled=true', 'certificates.generate.allowTemplateRender=true'])],
    ['charts/static/webhooks.yaml (register)', () => docsOf(readFileSync(join(root, 'charts/static/webhooks.yaml'), 'utf8'))],
    ['charts/static/install.yaml (manifests)', () => docsOf(readFileSync(join(root, 'charts/static/install.yaml'), 'utf8'))],
  ];

  it.each(sources)('%s: every validating webhook matches every judged kind and nothing else', (_name, load) => {
    const vwc = load().filter((d) => d.kind === 'ValidatingWebhookConfiguration');
    expect(vwc.length).toBeGreaterThan(0);
    for (const config of vwc) {
      for (const w of config.webhooks) {
        // The namespace guard (bulwark-tampering, webhook/tampering.ts) judges Namespace relabels only.
        if (w.name === 'namespaces.bulwark.io') expect(matched(w)).toEqual(['/namespaces']);
        else expect({ name: w.name, resources: matched(w) }).toEqual({ name: w.name, resources: judged });
      }
    }
  });

  it.each(sources.filter(([name]) => !name.includes('install.yaml')))('%s: the mutating webhook matches exactly the pod-bearing kinds', (_name, load) => {
    const mwc = load().filter((d) => d.kind === 'MutatingWebhookConfiguration');
    expect(mwc.length).toBeGreaterThan(0);
    for (const config of mwc) for (const w of config.webhooks) expect(matched(w)).toEqual(podBearing);
  });
});

describe('the modules read the same list', () => {
  it.each(JUDGED_KINDS.filter((k) => !k.resource.includes('/')))('the audit analyser names $resource $kind', ({ kind, resource }) => {
    expect(kindOfResource(resource)).toBe(kind);
  });

  it('every judged kind becomes a subject, and pod-bearing ones are the kinds with a pod template', () => {
    for (const kind of SUBJECT_KINDS) expect(toSubject({ apiVersion: 'v1', kind, metadata: { name: 'x', namespace: 'ns' } }), kind).toBeDefined();
    expect(toSubject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })).toBeUndefined();
    expect([...POD_BEARING_KINDS].sort()).toEqual(
      JUDGED_KINDS.filter((k) => k.podBearing)
        .map((k) => k.kind)
        .sort(),
    );
  });
});
