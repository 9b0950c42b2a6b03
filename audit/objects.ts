// Which object a write stored, as far as the audit log shows it.
import { isRecord } from '../core/record.js';
import type { AuditEvent } from './event.js';

function fullObject(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) && typeof value.kind === 'string' && value.kind !== '' ? value : undefined;
}

/**
 * The object of a create, update or patch: for create/update the request body (what the user
 * sent), else the response (what the audit policy kept, at level RequestResponse). A PATCH body is
 * a patch, not an object: the response is preferred, and the request only when it is a whole
 * object (a server-side apply body has a kind). Undefined at level Metadata.
 */
export function objectOfWrite(ev: AuditEvent): Record<string, unknown> | undefined {
  if (ev.verb === 'patch') return fullObject(ev.responseObject) ?? fullObject(ev.requestObject);
  return fullObject(ev.requestObject) ?? fullObject(ev.responseObject);
}
