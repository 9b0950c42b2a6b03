// Helpers for the alert tests: alerts to store, temporary directories, a silent logger,
// the PostgreSQL test database, and HTTPS requests with a test CA.
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../core/log.js';
import { newAlert, type Alert, type AlertInput } from '../../alerts/model.js';

export function tempDir(prefix = 'bulwark-alerts-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A logger whose lines are kept in memory (and parsed) instead of written out. */
export function memoryLogger(): { logger: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug' }, sink), lines };
}

let seq = 0;

export function makeAlert(overrides: Partial<AlertInput> & Partial<Alert> = {}): Alert {
  seq++;
  const base: AlertInput = {
    type: 'privileged-container',
    title: 'Privileged container',
    severity: 'high',
    source: 'admission',
    firstSeen: '2025-01-01T10:00:00.000Z',
    namespace: 'default',
    resource: { group: '', version: 'v1', kind: 'Pod', name: `pod-${seq}` },
    user: { username: 'alice', groups: ['devs'] },
    message: 'container "app" is privileged',
    tactics: ['Privilege escalation'],
    remediation: 'Remove securityContext.privileged',
  };
  const { id, fingerprint, status, history, ...rest } = overrides;
  const alert = newAlert({ ...base, ...rest });
  if (id !== undefined) alert.id = id;
  if (status !== undefined) alert.status = status;
  if (history !== undefined) alert.history = history;
  if (fingerprint !== undefined) alert.fingerprint = fingerprint;
  return alert;
}

export const at = (minutes: number): string => new Date(Date.UTC(2025, 0, 1, 10, 0, 0) + minutes * 60_000).toISOString();

export const POSTGRES_URL = process.env.BULWARK_TEST_POSTGRES_URL;

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export function request(
  url: string,
  options: { method?: string; token?: string; body?: string | object; contentType?: string; ca?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    if (body !== undefined) {
      headers['Content-Length'] = String(Buffer.byteLength(body));
      if (options.contentType !== '') headers['Content-Type'] = options.contentType ?? 'application/json';
    }
    const req = https.request(url, { method: options.method ?? 'GET', headers, ca: options.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
