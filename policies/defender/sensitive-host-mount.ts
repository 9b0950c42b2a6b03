// sensitive-host-mount — flags a hostPath volume whose path, normalised as the kernel would resolve
// it (`//`, `.`, `..` and a trailing `/` removed), equals, lies under, or is an ancestor of a
// sensitive host path (lists.sensitiveHostPaths: /etc, /proc, /var/run, the kubelet's and the
// container runtime's state, …). Such a mount exposes node credentials, the runtime socket (and
// with it every container on the node) or the kernel's knobs; mounting an ancestor (`/`, `/var`)
// exposes everything beneath it. `/etc-backup` is not under `/etc`: paths compare by component.
// The finding is about the pod's volume, not a container, so image exemptions do not drop it.
import { NO_FINDINGS, containersOf, describeContainer, isRecord, joinPath, normaliseHostPath, perList, quoteList, type ContainerRef } from '../helpers.js';
import type { Check, Finding, PodSubject } from '../types.js';

/** The normalised sensitive paths, where each stands in the list, and the first one under each ancestor. */
const sensitiveIndex = perList((list) => {
  const paths = [...new Set(list.map(normaliseHostPath))];
  const index = new Map(paths.map((p, i) => [p, i] as const));
  const firstBelow = new Map<string, number>();
  paths.forEach((s, i) => {
    for (let a = parentOf(s); a !== undefined; a = parentOf(a)) if (!firstBelow.has(a)) firstBelow.set(a, i);
  });
  return { paths, index, firstBelow };
});

/** The parent of a normalised absolute path (`/a/b` → `/a` → `/`), undefined for `/`. */
function parentOf(path: string): string | undefined {
  if (path === '/') return undefined;
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/**
 * How `path` relates to the first sensitive path (in list order) it equals, lies under or is an
 * ancestor of — a few map lookups, one per component of `path`, instead of comparing every entry.
 */
function relation(path: string, sensitive: ReturnType<typeof sensitiveIndex>): string | undefined {
  let best = sensitive.index.get(path) ?? Infinity;
  let how = 'the sensitive path';
  for (let a = parentOf(path); a !== undefined; a = parentOf(a)) {
    const i = sensitive.index.get(a);
    if (i !== undefined && i < best) {
      best = i;
      how = 'under the sensitive path';
    }
  }
  const below = sensitive.firstBelow.get(path);
  if (below !== undefined && below < best) {
    best = below;
    how = 'an ancestor of the sensitive path';
  }
  return best === Infinity ? undefined : `${how} ${sensitive.paths[best]}`;
}

/**
 * Which containers mount each volume name, walked once per pod when the first finding needs it (a
 * walk per flagged volume made 100k volumes and mounts take minutes). Names compare as `===` does.
 * Only the containers are kept; they are described for the flagged volumes alone.
 */
function mountersByVolume(subject: PodSubject): Map<unknown, ContainerRef[]> {
  const byName = new Map<unknown, ContainerRef[]>();
  for (const ref of containersOf(subject)) {
    const mounts = ref.container.volumeMounts;
    if (!Array.isArray(mounts)) continue;
    for (let i = 0; i < mounts.length; i++) {
      const m = mounts[i];
      if (!isRecord(m) || Number.isNaN(m.name)) continue;
      const refs = byName.get(m.name);
      // A container that mounts one volume twice is named once.
      if (!refs) byName.set(m.name, [ref]);
      else if (refs[refs.length - 1] !== ref) refs.push(ref);
    }
  }
  return byName;
}

function describeMounters(refs: readonly ContainerRef[] | undefined): string {
  return refs?.length ? `mounted by ${refs.map(describeContainer).join(', ')}` : 'not mounted by any container yet';
}

export const sensitiveHostMount: Check<PodSubject> = {
  id: 'sensitive-host-mount',
  title: 'Sensitive host path mounted',
  severity: 'high',
  tactics: ['Privilege Escalation', 'Credential Access', 'Persistence'],
  remediation:
    'Replace the hostPath volume with a ConfigMap, Secret, emptyDir or PersistentVolumeClaim; if a node agent truly needs it, mount the narrowest path read-only and exempt its namespace.',
  appliesTo: ['pod'],
  evaluate(subject, ctx) {
    const volumes = subject.spec.volumes;
    if (!Array.isArray(volumes) || volumes.length === 0) return NO_FINDINGS;
    const sensitive = sensitiveIndex(ctx.lists.sensitiveHostPaths);
    let findings: Finding[] | undefined;
    let mounters: Map<unknown, ContainerRef[]> | undefined;
    for (let i = 0; i < volumes.length; i++) {
      const volume = volumes[i];
      if (!isRecord(volume) || !isRecord(volume.hostPath)) continue;
      const raw = volume.hostPath.path;
      // The API server rejects an empty hostPath.path; there is no path to judge.
      if (typeof raw !== 'string' || raw === '') continue;
      const path = normaliseHostPath(raw);
      const where = relation(path, sensitive);
      if (!where) continue;
      const name = typeof volume.name === 'string' && volume.name ? volume.name : `volumes[${i}]`;
      const shown = path === raw ? quoteList([raw]) : `${quoteList([raw])} (resolves to ${path})`;
      (findings ??= []).push({
        policy: sensitiveHostMount.id,
        severity: sensitiveHostMount.severity,
        message: `volume ${quoteList([name])} mounts host path ${shown}, ${where}; ${describeMounters((mounters ??= mountersByVolume(subject)).get(volume.name))}`,
        path: joinPath(subject.specPath, `volumes[${i}].hostPath.path`),
      });
    }
    return findings ?? NO_FINDINGS;
  },
};
