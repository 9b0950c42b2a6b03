// The service-account baseline's gauges on serve's /metrics (kept apart from anomaly.ts so that
// `audit scan` does not load prom-client for them).
import { Gauge, type Registry } from 'prom-client';
import type { AnomalyBaseline } from './anomaly.js';

export function registerAnomalyMetrics(registry: Registry, baseline: AnomalyBaseline): void {
  new Gauge({
    name: 'bulwark_anomaly_accounts',
    help: 'Service accounts in the baseline of serviceaccount-rare-operation',
    registers: [registry],
    collect() {
      this.set(baseline.accountCount);
    },
  });
  new Gauge({
    name: 'bulwark_anomaly_untracked_requests',
    help: 'Requests of service accounts not tracked because anomaly.maxAccounts was reached (since start)',
    registers: [registry],
    collect() {
      this.set(baseline.untracked);
    },
  });
  new Gauge({
    name: 'bulwark_anomaly_pending_facts',
    help: 'Learned facts not yet written to the store',
    registers: [registry],
    collect() {
      this.set(baseline.pendingCount);
    },
  });
  new Gauge({
    name: 'bulwark_anomaly_unpersisted_facts',
    help: 'Learned facts dropped from the write queue while the store was unreachable (since start)',
    registers: [registry],
    collect() {
      this.set(baseline.unpersisted);
    },
  });
  new Gauge({
    name: 'bulwark_anomaly_unlearned_operations',
    help: 'Operations not learned because the baseline kept its most distinct operation names (since start)',
    registers: [registry],
    collect() {
      this.set(baseline.unlearned);
    },
  });
}
