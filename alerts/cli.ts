// `bulwark alerts list|get|dismiss|status`: the alerts API for people at a terminal.
// Exit codes: 0 done, 1 the API (or the connection) said no, 2 usage.
import { outputOptions } from '../core/cli-flags.js';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Command, Option } from 'commander';
import { formatDuration } from '../core/duration.js';
import { ALERT_STATUSES, type Alert } from './model.js';
import { DEV_CERT_DIR } from './settings.js';
import { describe } from '../core/command-descriptions.js';

export const DEFAULT_SERVER = 'https://localhost:8444';

interface ConnectionOptions {
  server: string;
  token?: string;
  tokenFile?: string;
  ca?: string;
  insecureSkipTlsVerify?: boolean;
}

interface Client {
  request(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<unknown>;
}

/** An error the API (or the way to it) returned: exit 1. */
export class AlertsApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AlertsApiError';
  }
}

function usage(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: 2, code: 'bulwark.usage' });
}

function connection(cmd: Command): Client {
  const opts = cmd.optsWithGlobals() as ConnectionOptions;
  let url: URL;
  try {
    url = new URL(opts.server);
  } catch {
    usage(cmd, `--server ${JSON.stringify(opts.server)} is not a URL (e.g. ${DEFAULT_SERVER})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') usage(cmd, `--server must be an https:// URL, got ${JSON.stringify(opts.server)}`);
  if (opts.token && opts.tokenFile) usage(cmd, '--token and --token-file: give one of them');
  let token = opts.token ?? '';
  if (opts.tokenFile) {
    try {
      token = fs.readFileSync(opts.tokenFile, 'utf8').trim();
    } catch (err) {
      usage(cmd, `cannot read --token-file ${opts.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (!token) token = (process.env.BULWARK_TOKEN ?? '').trim();
  if (!token) usage(cmd, 'no token: pass --token TOKEN or --token-file FILE, or set BULWARK_TOKEN');
  if (opts.ca && opts.insecureSkipTlsVerify) usage(cmd, '--ca and --insecure-skip-tls-verify: give one of them');
  let ca: Buffer | undefined;
  const caFile = opts.ca ?? (fs.existsSync(path.join(DEV_CERT_DIR, 'ca.crt')) ? path.join(DEV_CERT_DIR, 'ca.crt') : undefined);
  if (caFile && !opts.insecureSkipTlsVerify) {
    try {
      ca = fs.readFileSync(caFile);
    } catch (err) {
      usage(cmd, `cannot read --ca ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const base = url;
  return {
    request: (method, pathAndQuery, body) =>
      new Promise((resolve, reject) => {
        const target = new URL(pathAndQuery, base);
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
        if (payload !== undefined) {
          headers['Content-Type'] = 'application/json';
          headers['Content-Length'] = String(Buffer.byteLength(payload));
        }
        const transport = target.protocol === 'http:' ? http : https;
        const req = transport.request(
          target,
          { method, headers, timeout: 30_000, ...(target.protocol === 'https:' ? { ca, rejectUnauthorized: !opts.insecureSkipTlsVerify } : {}) },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown;
              try {
                json = text ? JSON.parse(text) : undefined;
              } catch {
                json = undefined;
              }
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) return resolve(json);
              const apiMessage =
                json && typeof json === 'object' && typeof (json as { error?: unknown }).error === 'string'
                  ? (json as { error: string }).error
                  : text.trim().slice(0, 300) || res.statusMessage;
              reject(new AlertsApiError(`${apiMessage} (HTTP ${status})`, status));
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('timed out after 30 s')));
        req.on('error', (err: NodeJS.ErrnoException) => reject(new AlertsApiError(describeConnectionError(err, base.origin))));
        req.end(payload);
      }),
  };
}

function describeConnectionError(err: NodeJS.ErrnoException, origin: string): string {
  const tls = [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'CERT_SIGNATURE_FAILURE',
  ];
  if (err.code && tls.includes(err.code)) {
    return `cannot verify the certificate of ${origin} (${err.code}): pass --ca FILE with the CA that signed it, or --insecure-skip-tls-verify`;
  }
  if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the certificate of ${origin} is not for this host name: ${err.message}`;
  if (err.code === 'ECONNREFUSED') return `cannot connect to ${origin}: connection refused (is bulwark serve running with an api: section?)`;
  return `cannot reach ${origin}: ${err.message}`;
}

async function run(cmd: Command, fn: (client: Client) => Promise<void>): Promise<void> {
  const client = connection(cmd);
  try {
    await fn(client);
  } catch (err) {
    if (err instanceof AlertsApiError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

function age(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : formatDuration(now - t);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('   ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function resourceText(a: Alert): string {
  const r = a.resource ?? { kind: '', name: '' };
  return [r.kind, r.name].filter(Boolean).join('/') || '-';
}

export function formatAlertTable(items: Alert[], now = Date.now()): string {
  if (items.length === 0) return 'No alerts.\n';
  const rows = [['ID', 'SEVERITY', 'STATUS', 'TYPE', 'NAMESPACE', 'RESOURCE', 'USER', 'COUNT', 'LAST SEEN']];
  for (const a of items) {
    rows.push([a.id, a.severity, a.status, a.type, a.namespace || '-', resourceText(a), a.user?.username || '-', String(a.count), age(a.lastSeen, now)]);
  }
  return table(rows);
}

export function formatAlertDetails(a: Alert): string {
  const r = a.resource ?? { group: '', version: '', kind: '', name: '' };
  const lines: [string, string][] = [
    ['ID', a.id],
    ['Type', a.type],
    ['Title', a.title],
    ['Severity', a.severity],
    ['Status', a.status],
    ['Source', a.source],
    ['Namespace', a.namespace || '-'],
    ['Resource', `${resourceText(a)}${r.group || r.version ? ` (${[r.group, r.version].filter(Boolean).join('/')})` : ''}`],
    ['User', `${a.user?.username || '-'}${a.user?.groups?.length ? ` (groups: ${a.user.groups.join(', ')})` : ''}`],
  ];
  if (a.user?.impersonator) lines.push(['Impersonator', a.user.impersonator.username]);
  lines.push(
    ['Source IPs', a.sourceIPs?.join(', ') || '-'],
    ['User agent', a.userAgent || '-'],
    ['First seen', a.firstSeen],
    ['Last seen', a.lastSeen],
    ['Count', String(a.count)],
    ['Message', a.message],
    ['Tactics', a.tactics?.join(', ') || '-'],
    ['Remediation', a.remediation || '-'],
    ['Audit IDs', a.auditIDs?.length ? a.auditIDs.join(', ') : '-'],
  );
  let out = lines.map(([k, v]) => `${(k + ':').padEnd(14)}${v}`).join('\n') + '\n';
  if (a.evidence && Object.keys(a.evidence).length > 0) out += `Evidence:\n${JSON.stringify(a.evidence, null, 2).replace(/^/gm, '  ')}\n`;
  if (a.history?.length) {
    out += 'History:\n';
    for (const h of a.history) out += `  ${h.at}  ${h.from} -> ${h.to}  by ${h.by}${h.reason ? `: ${h.reason}` : ''}\n`;
  }
  return out;
}

const outputOf = (opts: { output?: string; format?: string }): string => opts.output ?? opts.format ?? 'table';

function print(format: string, value: unknown, asTable: () => string): void {
  process.stdout.write(format === 'json' ? JSON.stringify(value, null, 2) + '\n' : asTable());
}

export function registerAlerts(program: Command): void {
  const alerts = program
    .command('alerts')
    .description(describe('alerts'))
    .option('--server <url>', 'the alerts API', process.env.BULWARK_SERVER ?? DEFAULT_SERVER)
    .option('--token <token>', 'bearer token (default: $BULWARK_TOKEN)')
    .option('--token-file <file>', 'read the bearer token from this file')
    .option('--ca <file>', `CA certificate to trust (default: ${DEV_CERT_DIR}/ca.crt when it exists)`)
    .option('--insecure-skip-tls-verify', 'do not verify the server certificate (unsafe)');

  alerts
    .command('list')
    .description('list alerts, most recently seen first (or by --sort)')
    .option('--severity <list>', 'only these severities (comma-separated: informational, low, medium, high)')
    .option('--min-severity <severity>', 'only alerts at or above this severity')
    .option('--type <list>', 'only these alert types (comma-separated)')
    .option('--status <list>', `only these statuses (comma-separated: ${ALERT_STATUSES.join(', ')})`)
    .option('--namespace <list>', 'only these namespaces (comma-separated)')
    .option('--source <list>', 'only from admission, audit or background')
    .option('--cluster <list>', 'only these clusters (cluster.name; comma-separated)')
    .option('--since <time>', 'only alerts seen since an RFC 3339 time or for a duration (1h, 7d)')
    .option('--until <time>', 'only alerts last seen before an RFC 3339 time or a duration ago')
    .option('-q, --search <text>', 'only alerts whose title, message, names, user, agent or source IPs contain this')
    .addOption(new Option('--sort <key>', 'order by this, most first (--order asc: least first)').choices(['lastSeen', 'firstSeen', 'severity', 'count']))
    .addOption(new Option('--order <order>', 'desc (default) or asc').choices(['desc', 'asc']))
    .option('--limit <n>', 'alerts per page (1-500)')
    .option('--continue <token>', 'the page after the one that printed this token')
    .option('--all', 'follow every page')
    .addOption(outputOptions(['table', 'json'])[0]!)
    .addOption(outputOptions(['table', 'json'])[1]!)
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      if (opts.limit !== undefined && !/^\d+$/.test(String(opts.limit))) usage(cmd, `--limit must be a whole number, got ${JSON.stringify(opts.limit)}`);
      const params = new URLSearchParams();
      const map: [string, string][] = [
        ['severity', 'severity'],
        ['minSeverity', 'minSeverity'],
        ['type', 'type'],
        ['status', 'status'],
        ['namespace', 'namespace'],
        ['source', 'source'],
        ['cluster', 'cluster'],
        ['since', 'since'],
        ['until', 'until'],
        ['search', 'q'],
        ['sort', 'sort'],
        ['order', 'order'],
        ['limit', 'limit'],
        ['continue', 'continue'],
      ];
      for (const [opt, param] of map) if (typeof opts[opt] === 'string') params.set(param, opts[opt] as string);
      await run(cmd, async (client) => {
        const items: Alert[] = [];
        let next: string | undefined;
        do {
          if (next) params.set('continue', next);
          const page = (await client.request('GET', `/api/v1/alerts?${params}`)) as { items: Alert[]; continue?: string };
          items.push(...page.items);
          next = page.continue;
        } while (opts.all && next);
        print(outputOf(opts), next ? { items, continue: next } : { items }, () => formatAlertTable(items));
        if (next && outputOf(opts) !== 'json') process.stderr.write(`More alerts: --continue ${next} (or --all)\n`);
      });
    });

  alerts
    .command('get')
    .description('show one alert')
    .argument('<id>', 'alert ID')
    .addOption(outputOptions(['table', 'json'])[0]!)
    .addOption(outputOptions(['table', 'json'])[1]!)
    .action(async (id: string, opts: { output?: string; format?: string }, cmd: Command) => {
      await run(cmd, async (client) => {
        const alert = (await client.request('GET', `/api/v1/alerts/${encodeURIComponent(id)}`)) as Alert;
        print(outputOf(opts), alert, () => formatAlertDetails(alert));
      });
    });

  const changeStatus = async (cmd: Command, id: string, status: string, reason: string | undefined, format: string) => {
    if (!(ALERT_STATUSES as readonly string[]).includes(status))
      usage(cmd, `status must be one of ${ALERT_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
    if (status === 'dismissed' && !reason?.trim()) usage(cmd, 'dismissing needs --reason TEXT');
    await run(cmd, async (client) => {
      const alert = (await client.request('POST', `/api/v1/alerts/${encodeURIComponent(id)}/status`, {
        status,
        ...(reason !== undefined ? { reason } : {}),
      })) as Alert;
      print(format, alert, () => `alert ${alert.id} is now ${alert.status}\n`);
    });
  };

  alerts
    .command('dismiss')
    .description('dismiss an alert (a reason is required)')
    .argument('<id>', 'alert ID')
    .requiredOption('--reason <text>', 'why the alert is dismissed')
    .addOption(outputOptions(['table', 'json'])[0]!)
    .addOption(outputOptions(['table', 'json'])[1]!)
    .action(async (id: string, opts: { reason: string; output?: string; format?: string }, cmd: Command) =>
      changeStatus(cmd, id, 'dismissed', opts.reason, outputOf(opts)),
    );

  alerts
    .command('status')
    .description(`move an alert to another status (${ALERT_STATUSES.join(', ')})`)
    .argument('<id>', 'alert ID')
    .argument('<status>', ALERT_STATUSES.join(' | '))
    .option('--reason <text>', 'why (required for dismissed)')
    .addOption(outputOptions(['table', 'json'])[0]!)
    .addOption(outputOptions(['table', 'json'])[1]!)
    .action(async (id: string, status: string, opts: { reason?: string; output?: string; format?: string }, cmd: Command) =>
      changeStatus(cmd, id, status, opts.reason, outputOf(opts)),
    );
}
