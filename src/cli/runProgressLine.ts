import { formatDuration } from '../environment/durationText';
import { describeRetry, type RetryInfo } from '../llm/modelEndpoint';

/** What a question-by-question run reports about itself (teacher generation and evaluation both do). */
export interface RunProgressSnapshot {
  done: number;
  total: number;
  correct: number;
  failures: number;
  etaMs?: number;
  tokensPerSecond: number;
}

/**
 * Prints a run's progress: redrawn in place on a terminal, one line per question (with its message) otherwise,
 * so logs of headless runs stay readable.
 */
export function printRunProgress(io: { isTty: boolean; stdout(text: string): void }, s: RunProgressSnapshot, message: string): void {
  if (io.isTty) io.stdout(`\r\x1b[K${runProgressLine(s)}`);
  else io.stdout(`${runProgressLine(s)}  ${message}\n`);
}

/** One line of progress: a bar, counts, ETA and throughput. */
export function runProgressLine(s: RunProgressSnapshot, width = 24): string {
  const filled = s.total === 0 ? width : Math.round((s.done / s.total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${s.done}/${s.total}  correct ${s.correct}  failed ${s.failures}  ETA ${formatDuration(s.etaMs)}  ${s.tokensPerSecond.toFixed(0)} tok/s`;
}

/** Prints a retried request on stderr, clearing a progress line drawn in place first. */
export function printRetry(io: { isTty: boolean; stderr(text: string): void }, info: RetryInfo): void {
  io.stderr(`${io.isTty ? '\r\x1b[K' : ''}${describeRetry(info)}\n`);
}
