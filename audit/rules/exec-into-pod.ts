// exec-into-pod — a successful `exec` or `attach` into a pod. An interactive shell in a container
// bypasses the image, the admission checks and the deployment pipeline; in kube-system it is a
// shell next to the cluster's credentials. Fires at the ResponseStarted stage (the session opened);
// kubectl 1.30+ tries WebSocket (verb get) then SPDY (verb create): de-duplication makes them one alert.
//
// The same, straight through the kubelet API: a request on the `nodes/proxy` subresource whose path
// after `/proxy` is one of the kubelet's container endpoints — `/exec/{ns}/{pod}[/{uid}]/{container}`,
// `/attach/…`, `/run/…` (one command, `cmd=`) or `/portForward/{ns}/{pod}` — whatever the verb (the
// API server derives it from the HTTP method). The path is read as the kubelet reads it: percent-
// decoded, `//`, `.` and `..` resolved, the endpoint name in any case. Always high: it skips the
// pods/exec authorization and audit trail that operators watch, and admission never sees it.
import { normaliseHostPath } from '../../policies/helpers.js';
import { queryParams, requestPath } from '../event.js';
import { actor, qualified, type AuditFacts, type AuditRule, type RuleMatch } from './types.js';

const KUBELET_ENDPOINTS: ReadonlyMap<string, string> = new Map([
  ['exec', 'exec'],
  ['attach', 'attach'],
  ['run', 'run'],
  ['portforward', 'portForward'],
]);

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The node and kubelet path of a `/api/v1/nodes/{name}/proxy/…` request, or undefined. */
function kubeletPath(f: AuditFacts): { node: string; path: string } | undefined {
  const raw = requestPath(f.event);
  const prefix = '/api/v1/nodes/';
  if (!raw.startsWith(prefix)) return undefined;
  const slash = raw.indexOf('/', prefix.length);
  if (slash < 0 || !raw.startsWith('/proxy', slash)) return undefined;
  const rest = raw.slice(slash + '/proxy'.length);
  if (rest !== '' && rest[0] !== '/') return undefined;
  return { node: safeDecode(raw.slice(prefix.length, slash)), path: normaliseHostPath(safeDecode(rest)) };
}

function viaKubelet(f: AuditFacts): RuleMatch | undefined {
  if (f.resource !== 'nodes' || f.subresource !== 'proxy' || f.apiGroup !== '' || !f.success) return undefined;
  const target = kubeletPath(f);
  if (!target) return undefined;
  const segments = target.path.split('/').filter((s) => s !== '');
  const endpoint = KUBELET_ENDPOINTS.get((segments[0] ?? '').toLowerCase());
  if (endpoint === undefined || segments.length < 3) return undefined;
  const namespace = segments[1]!;
  const pod = segments[2]!;
  const container = endpoint === 'portForward' ? '' : (segments[segments.length - 1] ?? '');
  const command = endpoint === 'run' ? queryParams(f.event, 'cmd') : endpoint === 'exec' ? queryParams(f.event, 'command') : [];
  const where = qualified(namespace, pod);
  const shown = command.length ? ` (${JSON.stringify(command.join(' '))})` : '';
  const what =
    endpoint === 'exec'
      ? `exec'd into pod ${where}${shown}`
      : endpoint === 'run'
        ? `ran a command in pod ${where}${shown}`
        : endpoint === 'attach'
          ? `attached to pod ${where}`
          : `port-forwarded to pod ${where}`;
  const inContainer = container && segments.length >= 4 ? ` in container ${JSON.stringify(container)}` : '';
  return {
    message: `${actor(f)} ${what}${inContainer} through the kubelet API of node ${target.node || f.name} (nodes/proxy)`,
    severity: 'high',
    namespace,
    resource: { group: '', version: 'v1', kind: 'Pod', name: pod },
    evidence: {
      via: 'nodes/proxy',
      node: target.node || f.name,
      kubeletPath: target.path,
      endpoint,
      container: segments.length >= 4 ? container : '',
      command,
    },
  };
}

export const execIntoPod: AuditRule = {
  id: 'exec-into-pod',
  title: 'Exec into a pod',
  severity: 'medium',
  tactics: ['Execution'],
  remediation:
    'Confirm the session was expected; if not, revoke pods/exec, pods/attach and nodes/proxy from the user, rotate any credentials the container could read and investigate the pod.',
  skipDryRun: false,
  requires: ['success'],
  resources: ['pods/exec', 'pods/attach', 'nodes/proxy'],
  match(f) {
    if (f.resource === 'nodes') return viaKubelet(f);
    if (f.resource !== 'pods' || (f.subresource !== 'exec' && f.subresource !== 'attach')) return undefined;
    if ((f.verb !== 'create' && f.verb !== 'get') || !f.success || f.apiGroup !== '') return undefined;
    const command = queryParams(f.event, 'command');
    const container = queryParams(f.event, 'container')[0] ?? '';
    const pod = qualified(f.namespace, f.name);
    const message =
      f.subresource === 'exec'
        ? `${actor(f)} exec'd into pod ${pod}${command.length ? ` (${JSON.stringify(command.join(' '))})` : ''}`
        : `${actor(f)} attached to pod ${pod}`;
    return {
      message: container ? `${message} in container ${JSON.stringify(container)}` : message,
      severity: f.namespace === 'kube-system' ? 'high' : 'medium',
      evidence: { subresource: f.subresource, container, command },
    };
  },
};
