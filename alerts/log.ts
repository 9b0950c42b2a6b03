// The alert log line every source writes (the logger itself is core/log.ts).
import type { Logger } from '../core/log.js';
import type { Alert, AlertSink } from './model.js';

export type { Logger };

/** Writes each alert as one structured `alert` line. */
export class LogAlertSink implements AlertSink {
  constructor(private readonly logger: Logger) {}

  async record(alert: Alert): Promise<void> {
    // Admission alerts carry the request uid on the line itself, like every admission log line.
    const uid = alert.source === 'admission' ? alert.evidence.uid : undefined;
    this.logger.warn(uid === undefined ? { alert } : { uid, alert }, `alert ${alert.type}: ${alert.message}`);
  }
}
