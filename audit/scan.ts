// The offline scan: inputs (files, `-`) → lines → events → analyser → de-duplication (hold mode).
// Streamed: memory is the unfinished line, the open alerts of one window and the tracked auditIDs.
import type { AuditAnalyser } from './analyser.js';
import type { Deduplicator } from './dedup.js';
import { eventTime } from './event.js';
import { AuditDecoder, describeError, InputError, openAuditFile, openAuditStream, trailingDataReason, type MalformedLine, type OpenedInput } from './input.js';

export interface ScanStats {
  inputs: number;
  events: number;
  malformed: number;
  /** The first malformed lines (file, line, reason); `malformed` counts them all. */
  malformedSamples: MalformedLine[];
  unreadable: { input: string; message: string }[];
  /** Inputs from which not one event could be read although they held data (every line malformed). */
  empty?: string[];
}

export interface ScanHooks {
  stdin: AsyncIterable<Buffer | string>;
  maxLineBytes: number;
  onMalformed?(m: MalformedLine): void;
  onInputError?(input: string, message: string): void;
  /** Called now and then while reading one input (for a progress bar). */
  onProgress?(input: OpenedInput, events: number): void;
  /** Called after each input. */
  onInputDone?(input: string): void;
}

const MAX_SAMPLES = 20;
/** Event time moves the de-duplication watermark every this many events (Date.parse is not free). */
const WATERMARK_EVERY = 256;

export async function scanAuditInputs(paths: readonly string[], analyser: AuditAnalyser, dedup: Deduplicator, hooks: ScanHooks): Promise<ScanStats> {
  const stats: ScanStats = { inputs: 0, events: 0, malformed: 0, malformedSamples: [], unreadable: [] };
  const malformed = (m: MalformedLine): void => {
    stats.malformed++;
    if (stats.malformedSamples.length < MAX_SAMPLES) stats.malformedSamples.push(m);
    hooks.onMalformed?.(m);
  };
  let stdinUsed = false;
  for (const path of paths) {
    let input: OpenedInput;
    try {
      if (path === '-') {
        if (stdinUsed) throw new InputError('-', 'stdin given more than once');
        stdinUsed = true;
        input = openAuditStream('<stdin>', hooks.stdin);
      } else input = await openAuditFile(path);
    } catch (err) {
      const message = err instanceof InputError ? err.message : `${path}: ${describeError(err)}`;
      stats.unreadable.push({ input: path, message });
      hooks.onInputError?.(path, message);
      continue;
    }
    stats.inputs++;
    let sinceMark = 0;
    const eventsBefore = stats.events;
    const malformedBefore = stats.malformed;
    const splitter = new AuditDecoder(input.name, hooks.maxLineBytes, {
      event(ev) {
        stats.events++;
        const alerts = analyser.analyse(ev);
        for (let i = 0; i < alerts.length; i++) dedup.add(alerts[i]!);
        if (++sinceMark === WATERMARK_EVERY) {
          sinceMark = 0;
          dedup.advance(eventTime(ev));
        }
      },
      malformed,
      // Lines the analysis would not look at are counted unparsed (audit/skim.ts).
      skip(text) {
        if (!analyser.skipLine(text)) return false;
        stats.events++;
        return true;
      },
    });
    let chunksSinceProgress = 0;
    try {
      for await (const chunk of input.chunks) {
        splitter.push(chunk);
        if (hooks.onProgress && ++chunksSinceProgress >= 8) {
          chunksSinceProgress = 0;
          hooks.onProgress(input, stats.events);
        }
      }
      splitter.end();
      // Trailing bytes after the last gzip member: every complete line was read; the tail is one malformed input.
      if (input.trailing) malformed({ file: input.name, line: splitter.lineNo, reason: trailingDataReason(input.trailing) });
      if (stats.events === eventsBefore && stats.malformed > malformedBefore) {
        const message = `${input.name}: no audit event could be read (${stats.malformed - malformedBefore} malformed line${stats.malformed - malformedBefore === 1 ? '' : 's'}); expected JSON lines, an EventList or a JSON array of audit.k8s.io/v1 events`;
        (stats.empty ??= []).push(input.name);
        stats.unreadable.push({ input: path, message });
        hooks.onInputError?.(path, message);
      }
    } catch (err) {
      const message = `${input.name}: cannot read${input.gzip ? ' (gzip)' : ''} after line ${splitter.lineNo - 1}: ${describeError(err)}`;
      stats.unreadable.push({ input: path, message });
      hooks.onInputError?.(path, message);
    } finally {
      await input.close();
    }
    hooks.onInputDone?.(path);
  }
  dedup.flush();
  return stats;
}
