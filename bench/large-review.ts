// A 1 MB AdmissionReview through the webhook (#14 §3): the hot path must stay linear in the size
// of the object. Builds a Deployment of about 1 MB (hundreds of containers with env, args, volume
// mounts, probes; duplicate volume names; a deep annotation), then measures
//   - in process: JSON.parse + parseAdmissionReview + decide + encode, median of 30 runs;
//   - over HTTPS: POST /validate to a real webhook server on loopback, median of 30 requests.
// Goal: answered in under 50 ms on this machine (the API server's default timeout is 10 s, the
// chart's 5 s; a large object must not be the one that times out).
//
//   npm run bench:large-review
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../core/log.js';
import { createCA, createServingCert } from '../certs/x509.js';
import { compileConfig } from '../policies/config.js';
import { defaultConfig } from '../config/load.js';
import { decide } from '../webhook/decide.js';
import { encodeAdmissionResponse, encodeAllowed, parseAdmissionReview } from '../webhook/review.js';
import { startWebhookServer } from '../webhook/server.js';
import { bigDeployment, review } from './shapes.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const TARGET_MS = 50;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function post(port: number, ca: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = https.request(
      { host: '127.0.0.1', port, path: '/validate', method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(performance.now() - started));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const compiled = compileConfig({ ...defaultConfig(), profiles: ['defender', 'pss-restricted'] });
  const text = review(bigDeployment(1024 * 1024));
  const out = (line: string) => void process.stdout.write(line + '\n');
  out(`bulwark large-review bench — Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}`);
  out(`input: AdmissionReview of a Deployment, ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB; profiles defender + pss-restricted; ${RUNS} runs`);

  const inProcess: number[] = [];
  let findings = 0;
  let messageBytes = 0;
  for (let r = 0; r < RUNS + 3; r++) {
    const started = performance.now();
    const parsed = parseAdmissionReview(JSON.parse(text));
    if (!parsed.ok) throw new Error(parsed.error);
    const decision = decide({ request: parsed.request, compiled });
    const answer = decision.response ? encodeAdmissionResponse(decision.response) : encodeAllowed(parsed.request.uid);
    const ms = performance.now() - started;
    if (r >= 3) inProcess.push(ms);
    findings = decision.findings.length;
    messageBytes = Buffer.byteLength(answer);
  }
  out(
    `in process (parse + decide + encode): median ${median(inProcess).toFixed(1)} ms, max ${Math.max(...inProcess).toFixed(1)} ms — ${findings} findings, answer ${messageBytes} bytes`,
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-'));
  const ca = createCA({ commonName: 'bench-ca' });
  const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  fs.writeFileSync(path.join(dir, 'tls.crt'), leaf.certPem);
  fs.writeFileSync(path.join(dir, 'tls.key'), leaf.keyPem, { mode: 0o600 });
  const server = await startWebhookServer({
    compiled,
    logger: createLogger({ level: 'silent' }),
    port: 0,
    address: '127.0.0.1',
    tls: { certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key') },
  });
  const overHttps: number[] = [];
  try {
    for (let r = 0; r < RUNS + 3; r++) {
      const ms = await post(server.port, ca.certPem, text);
      if (r >= 3) overHttps.push(ms);
    }
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const p = median(overHttps);
  out(`over HTTPS (POST /validate, loopback, client in the same process): median ${p.toFixed(1)} ms, max ${Math.max(...overHttps).toFixed(1)} ms`);
  out(`goal: answered in under ${TARGET_MS} ms — ${p < TARGET_MS ? 'met' : 'NOT MET'} (median over HTTPS)`);
}

await main();
