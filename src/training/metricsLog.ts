import { z } from 'zod';

/**
 * The metrics protocol between a trainer on the host and the studio: one JSON object per line in
 * `<run>/metrics.jsonl`, appended as training goes. `media/python/train_lora.py` writes it, and so does the
 * test trainer; the studio reads it from a byte offset, so a restart continues where it stopped.
 */
export const METRICS_FILE = 'metrics.jsonl';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const metricsEventSchema = z.discriminatedUnion('event', [
  z.object({
    event: z.literal('start'),
    time: z.number(),
    total_steps: z.number().int().min(0),
    epochs: finite.optional(),
    examples: z.number().int().min(0).optional(),
    world_size: z.number().int().min(1).optional(),
    resumed_from_step: z.number().int().min(0).optional(),
    /** GPU inventory as the trainer saw it. */
    gpus: z.array(z.object({ name: z.string(), memory_gb: finite })).optional(),
  }),
  z.object({
    event: z.literal('step'),
    time: z.number(),
    step: z.number().int().min(0),
    total_steps: z.number().int().min(0).optional(),
    epoch: finite,
    loss: finite,
    lr: finite,
    grad_norm: finite.nullable().optional(),
    tokens_per_s: finite.nullable().optional(),
    gpu_mem_gb: finite.nullable().optional(),
    eta_s: finite.nullable().optional(),
  }),
  z.object({ event: z.literal('checkpoint'), time: z.number(), step: z.number().int().min(0), path: z.string() }),
  z.object({ event: z.literal('done'), time: z.number(), step: z.number().int().min(0).optional(), adapter: z.string() }),
  z.object({ event: z.literal('cancelled'), time: z.number(), step: z.number().int().min(0).optional(), checkpoint: z.string().nullable().optional() }),
  z.object({ event: z.literal('error'), time: z.number(), message: z.string() }),
]);
export type MetricsEvent = z.infer<typeof metricsEventSchema>;
export type StepMetrics = Extract<MetricsEvent, { event: 'step' }>;

export interface ParsedMetricsChunk {
  events: MetricsEvent[];
  /** The byte offset in the file of each event's line, in the order of `events`. */
  eventOffsets: number[];
  /** Byte offset just after the last complete line consumed; the next read starts here. */
  nextOffset: number;
  /** Lines that were complete but not valid events, with their byte offsets (shown, never dropped silently). */
  problems: string[];
  /**
   * Set by a read that got everything the file held at that moment. Readers of a file the trainer is still
   * writing stop there: "read until nothing is new" never ends while the trainer writes faster than they read.
   */
  atEnd?: boolean;
}

/**
 * Parses the complete lines of a chunk read at `offset`. A trailing partial line (the trainer is in the
 * middle of writing it) is left for the next read, so no event is lost or parsed twice.
 */
export function parseMetricsChunk(chunk: Buffer, offset: number, fileLabel = METRICS_FILE): ParsedMetricsChunk {
  const events: MetricsEvent[] = [];
  const eventOffsets: number[] = [];
  const problems: string[] = [];
  let start = 0;
  for (;;) {
    const newline = chunk.indexOf(0x0a, start);
    if (newline < 0) break;
    const line = chunk.subarray(start, newline).toString('utf8').trim();
    const lineOffset = offset + start;
    start = newline + 1;
    if (line === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      problems.push(`${fileLabel} at byte ${lineOffset}: not JSON: ${line.slice(0, 120)}`);
      continue;
    }
    const parsed = metricsEventSchema.safeParse(json);
    if (parsed.success) {
      events.push(parsed.data);
      eventOffsets.push(lineOffset);
    } else {
      // an event type from a newer trainer is not an error, just not shown
      const kind = typeof json === 'object' && json !== null && 'event' in json ? String((json).event) : '?';
      const known = ['start', 'step', 'checkpoint', 'done', 'cancelled', 'error'].includes(kind);
      if (known) problems.push(`${fileLabel} at byte ${lineOffset}: "${kind}" event is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
  }
  return { events, eventOffsets, nextOffset: offset + start, problems };
}

/**
 * The events of a chunk that a view has not shown yet, when it has shown every event before `shownOffset`
 * (a snapshot read the file up to there while the chunk was on its way): a chunk that overlaps the snapshot
 * gives only its later events, so none is shown twice.
 */
export function eventsFrom(chunk: Pick<ParsedMetricsChunk, 'events' | 'eventOffsets'>, shownOffset: number): MetricsEvent[] {
  return chunk.events.filter((_, i) => (chunk.eventOffsets[i] ?? shownOffset) >= shownOffset);
}
