// configmap-credentials: when the rule fires and when it stays quiet, on events shaped like the API server's.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import { findCredentials } from '../../../audit/rules/configmap-credentials.js';
import { DEFAULT_CREDENTIAL_KEY_NAMES } from '../../../audit/config.js';
import { defaultConfig } from '../../../config/load.js';
import { auditEvent } from '../helpers.js';
import { runCases, type Case, cm, cmRef } from './cases.js';

const cases: Case[] = [
  { name: 'password key', event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ DB_PASSWORD: 'hunter2' }) }, fires: true },
  {
    name: 'AWS key ID in a file',
    event: {
      level: 'RequestResponse',
      verb: 'update',
      objectRef: cmRef,
      requestObject: cm({ 'credentials.ini': '[default]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\n' }),
    },
    fires: true,
  },
  {
    name: 'private key block',
    event: {
      level: 'RequestResponse',
      verb: 'create',
      objectRef: cmRef,
      requestObject: cm({ 'tls.key': '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n' }),
    },
    fires: true,
  },
  {
    name: 'patch: read from the response object',
    event: {
      level: 'RequestResponse',
      verb: 'patch',
      objectRef: cmRef,
      requestObject: { data: { api_key: 'x' } },
      responseObject: cm({ api_key: 'sk_live_123' }),
    },
    fires: true,
  },
  {
    name: 'passphrase key',
    event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ GPG_PASSPHRASE: 'correct horse' }) },
    fires: true,
  },
  {
    name: 'passphrase setting in a file',
    event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ 'ssh.conf': 'key_passphrase = s3cret\n' }) },
    fires: true,
  },
  {
    name: 'camelCase secretAccessKey (ends in access_key)',
    event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ secretAccessKey: 'abc' }) },
    fires: true,
  },
  {
    name: 'an aws_secret_access_key line with a short value',
    event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ 'aws.ini': '[default]\naws_secret_access_key = short-one\n' }) },
    fires: true,
  },
  {
    name: 'S3_ACCESS_KEY data key',
    event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ S3_ACCESS_KEY: 'minio' }) },
    fires: true,
  },
  { name: 'empty password', event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ password: '' }) }, fires: false },
  {
    name: 'placeholder',
    event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ 'app.conf': 'db.password=${DB_PASSWORD}\n' }) },
    fires: false,
  },
  {
    name: 'harmless data',
    event: { level: 'RequestResponse', verb: 'create', objectRef: cmRef, requestObject: cm({ token_ttl: '3600', log_level: 'debug' }) },
    fires: false,
  },
  { name: 'Metadata level (no body)', event: { verb: 'create', objectRef: cmRef }, fires: false },
  {
    name: 'a dry run',
    event: {
      level: 'RequestResponse',
      verb: 'create',
      requestURI: '/api/v1/namespaces/prod/configmaps?dryRun=All',
      objectRef: cmRef,
      requestObject: cm({ DB_PASSWORD: 'hunter2' }),
    },
    fires: false,
  },
];

describe('configmap-credentials', () => {
  runCases('configmap-credentials', cases);

  it('configmap-credentials names the keys, never the values', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const secrets = ['hunter2', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'MIIEpAIBAAKCAQEA'];
    const [alert] = analyser.analyse(
      auditEvent({
        level: 'RequestResponse',
        verb: 'create',
        objectRef: cmRef,
        requestObject: cm({
          DB_PASSWORD: secrets[0]!,
          aws: `[default]\naws_access_key_id=${secrets[1]}\naws_secret_access_key=${secrets[2]}\n`,
          'id.pem': `-----BEGIN PRIVATE KEY-----\n${secrets[3]}\n-----END PRIVATE KEY-----`,
        }),
        responseObject: cm({ DB_PASSWORD: secrets[0]! }),
      }),
    );
    expect(alert!.type).toBe('configmap-credentials');
    const text = JSON.stringify(alert);
    for (const s of secrets) expect(text).not.toContain(s);
    expect(alert!.message).toContain('"DB_PASSWORD"');
    expect(alert!.evidence.credentials).toEqual([
      { key: 'DB_PASSWORD', reason: 'the key names a credential and has a value' },
      { key: 'aws', reason: 'an AWS access key ID' },
      { key: 'aws', reason: 'an aws_secret_access_key setting' },
      { key: 'id.pem', reason: 'a PEM private key block' },
    ]);
  });

  it('findCredentials reads embedded settings (properties, YAML, JSON)', () => {
    const hits = findCredentials(
      { 'app.yaml': 'db:\n  host: x\n  password: "s3cret"\n', 'app.json': '{\n  "apiKey": "abc123"\n}', ok: 'user=admin' },
      DEFAULT_CREDENTIAL_KEY_NAMES,
    );
    expect(hits).toEqual([
      { key: 'app.yaml', reason: 'sets password' },
      { key: 'app.json', reason: 'sets apiKey' },
    ]);
  });
});
