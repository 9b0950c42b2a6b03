// threat-intel-source — a request from an address on a configured threat-intelligence list
// (`intel.files`: TOR exit nodes, drop lists, addresses of past incidents). Every `sourceIPs` entry
// is checked: the API server puts the X-Forwarded-For chain first and the connection's address
// last, so a client behind a proxy, or one that forges the header, is judged on each address it
// shows. Any answer counts (a denied request from a TOR exit is reconnaissance); one alert per
// address and user per de-duplication window (the resource is the address, not the object).
import type { IntelMatch } from '../intel.js';
import { actor, type AuditRule } from './types.js';

/** sourceIPs entries read per event (the API server lists the XFF chain; a client controls its length). */
const MAX_SOURCE_IPS = 16;

export const threatIntelSource: AuditRule = {
  id: 'threat-intel-source',
  title: 'Request from a threat-intelligence listed address',
  severity: 'high',
  tactics: ['Initial Access', 'Command and Control'],
  remediation:
    'Find out whose credentials were used from the listed address; revoke or rotate them, and restrict access to the API server (authorized networks, firewall) to known addresses.',
  skipDryRun: false,
  requires: ['intel'],
  match(f, ctx) {
    const intel = ctx.intel;
    if (intel === undefined || intel.entries === 0) return undefined;
    const ips = f.event.sourceIPs;
    if (!Array.isArray(ips) || ips.length === 0) return undefined;
    const matches: IntelMatch[] = [];
    for (let i = 0; i < ips.length && i < MAX_SOURCE_IPS; i++) {
      const ip = ips[i];
      if (typeof ip !== 'string') continue;
      const hit = intel.lookup(ip.trim());
      if (hit) matches.push(hit);
    }
    if (matches.length === 0) return undefined;
    const first = matches[0]!;
    const what = f.resource ? `${f.verb} ${f.resource}${f.subresource ? `/${f.subresource}` : ''}` : `${f.verb} ${f.requestURI.slice(0, 200)}`;
    return {
      message: `${actor(f)} sent ${what} from ${first.ip}, listed in ${first.list} (${first.prefix})${matches.length > 1 ? ` and ${matches.length - 1} more listed address(es)` : ''}`,
      resource: { group: '', version: '', kind: 'SourceIP', name: first.ip },
      namespace: '',
      evidence: { matches, ...(ips.length > MAX_SOURCE_IPS ? { sourceIPsChecked: MAX_SOURCE_IPS, sourceIPsTotal: ips.length } : {}) },
    };
  },
};
