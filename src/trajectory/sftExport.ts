import { createHash } from 'node:crypto';
import { z } from 'zod';
import { compatibilityOfTrajectory, compatibilitySchema, type Compatibility } from './compatibility';
import { observationTextOf } from './observationText';
import { writeJsonlAtomically } from './jsonlWriters';
import { writeJsonDurably } from '../runs/durableFile';
import { type ReviewStatus, type Step, type Trajectory } from './schema';
import { sftPromptHash, sftTaskTurn, type SftPrompt } from './sftPrompt';
import { describeLossMask, fallbackExampleTrainsSteps } from './trainingProfile';

/**
 * Training data from trajectories (METHOD §7). One trajectory becomes one conversation: the short system
 * prompt, the task turn, then per step the assistant's reply (thought + code) and the observation as a
 * user turn; the last step's observation is dropped (nothing is learned from it). Loss goes on assistant
 * turns only; a step marked `excludeFromTraining` keeps its text in the context but carries no loss.
 *
 * Formats: `openai` (OpenAI / TRL chat messages, `weight: 0|1` on assistant turns), `axolotl` (messages
 * with `train: true|false` on every turn) and `sharegpt` (LLaMA-Factory; it cannot switch loss off for one
 * turn, so conversations with excluded steps are skipped and reported, never trained on by accident).
 *
 * A run that hit the step limit and answered through the fallback call gives a second example, the fallback
 * conversation (METHOD §7; exps_research/train_utils/preprocess.py:207-212 of the reference). Which of its turns
 * carry loss follows the compatibility profile (trainingProfile.ts).
 */

export const sftFormatSchema = z.enum(['openai', 'axolotl', 'sharegpt']);
export type SftFormat = z.infer<typeof sftFormatSchema>;
export const SFT_FORMATS: readonly SftFormat[] = sftFormatSchema.options;

export interface SftTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Whether the turn carries loss (only assistant turns ever do). */
  train: boolean;
  /** The step an assistant or observation turn came from (0-based). */
  stepIndex?: number;
}

export interface SftConversation {
  /** `fallback`: the extra example of a run that ended with the fallback answer call. Absent: the trajectory's. */
  kind?: 'trajectory' | 'fallback';
  trajectoryId: string;
  taskId: string;
  question: string;
  turns: SftTurn[];
}

/** The reply as the model wrote it; for a step without one (hand-written), the METHOD §2 shape. */
export function assistantTextOf(step: Step): string {
  const stored = step.modelOutput.trim();
  if (stored !== '') return stored;
  return `Thought: ${step.thought}\nCode:\n\`\`\`py\n${step.code}\n\`\`\`<end_code>`;
}

/** Merges adjacent turns of one role with the same training flag by plain concatenation (METHOD §2). */
function mergeTurns(turns: SftTurn[]): SftTurn[] {
  const merged: SftTurn[] = [];
  for (const t of turns) {
    const last = merged[merged.length - 1];
    if (last && last.role === t.role && last.train === t.train) last.content += t.content;
    else merged.push({ ...t });
  }
  return merged;
}

/** The training conversation of one trajectory. */
export function buildSftConversation(t: Trajectory, prompt: SftPrompt): SftConversation {
  const turns: SftTurn[] = [
    { role: 'system', content: prompt.system, train: false },
    { role: 'user', content: sftTaskTurn(t.task.question, prompt), train: false },
  ];
  t.steps.forEach((step, i) => {
    turns.push({ role: 'assistant', content: assistantTextOf(step), train: step.excludeFromTraining !== true, stepIndex: i });
    const isLast = i === t.steps.length - 1;
    if (!isLast && step.observation) turns.push({ role: 'user', content: observationTextOf(step.observation, i, compatibilityOfTrajectory(t)), train: false, stepIndex: i });
  });
  return { trajectoryId: t.id, taskId: t.task.id, question: t.task.question, turns: mergeTurns(turns) };
}

/** The texts of the fallback answer call (a prompt profile's `fallback system` and `fallback request`). */
export interface FallbackPrompt {
  system: string;
  /** The request after the memory; `{{question}}` stands for the question. */
  request: string;
}

/**
 * The fallback conversation of a run that ended with the fallback answer call, as the call was made: the
 * fallback system text, the task, every step with its observation (the last one included, the call came after
 * it), the request, then the reply. Undefined when the trajectory has no fallback reply.
 */
export function buildFallbackConversation(t: Trajectory, prompt: SftPrompt, fallback: FallbackPrompt, compatibility: Compatibility): SftConversation | undefined {
  if (t.fromFallback !== true || t.fallbackOutput === undefined) return undefined;
  const trainSteps = fallbackExampleTrainsSteps(compatibility);
  const turns: SftTurn[] = [
    { role: 'system', content: fallback.system, train: false },
    { role: 'user', content: sftTaskTurn(t.task.question, prompt), train: false },
  ];
  t.steps.forEach((step, i) => {
    turns.push({ role: 'assistant', content: assistantTextOf(step), train: trainSteps && step.excludeFromTraining !== true, stepIndex: i });
    if (step.observation) turns.push({ role: 'user', content: observationTextOf(step.observation, i, compatibilityOfTrajectory(t)), train: false, stepIndex: i });
  });
  turns.push({ role: 'user', content: fallback.request.replaceAll('{{question}}', t.task.question), train: false });
  // The reference stores the reply as the server returned it; the studio strips it like every other reply.
  turns.push({ role: 'assistant', content: compatibility === 'reference' ? t.fallbackOutput : t.fallbackOutput.trim(), train: true });
  return { kind: 'fallback', trajectoryId: t.id, taskId: t.task.id, question: t.task.question, turns: mergeTurns(turns) };
}

export interface SftExampleOptions {
  prompt: SftPrompt;
  /** Default `studio`. */
  compatibility?: Compatibility;
  /** Needed for the fallback example; without it a trajectory that has one reports it as left out. */
  fallbackPrompt?: FallbackPrompt;
}

/**
 * Every training example of one trajectory: its conversation, then its fallback conversation when the run
 * ended with the fallback answer call. `missing` says why an expected fallback example could not be built.
 */
export function buildSftExamples(t: Trajectory, options: SftExampleOptions): { conversations: SftConversation[]; missing?: string } {
  const conversations = [buildSftConversation(t, options.prompt)];
  if (t.fromFallback !== true || t.fallbackOutput === undefined) return { conversations };
  if (!options.fallbackPrompt) return { conversations, missing: 'fallback example: no fallback prompt texts were given to build it' };
  const fallback = buildFallbackConversation(t, options.prompt, options.fallbackPrompt, options.compatibility ?? 'studio');
  if (fallback) conversations.push(fallback);
  return { conversations };
}

/** One line of the chosen format, or the reason the conversation cannot be written in it. */
export function formatSftExample(c: SftConversation, format: SftFormat): { line: string } | { skip: string } {
  switch (format) {
    case 'openai':
      return {
        line: JSON.stringify({
          messages: c.turns.map((t) => (t.role === 'assistant' ? { role: t.role, content: t.content, weight: t.train ? 1 : 0 } : { role: t.role, content: t.content })),
        }),
      };
    case 'axolotl':
      return { line: JSON.stringify({ messages: c.turns.map((t) => ({ role: t.role, content: t.content, train: t.train })) }) };
    case 'sharegpt': {
      if (c.turns.some((t) => t.role === 'assistant' && !t.train)) {
        return { skip: 'has steps excluded from training, which ShareGPT cannot mark; export as openai or axolotl to keep it' };
      }
      const [system, ...rest] = c.turns;
      return {
        line: JSON.stringify({
          conversations: rest.map((t) => ({ from: t.role === 'assistant' ? 'gpt' : 'human', value: t.content })),
          system: system?.content ?? '',
        }),
      };
    }
  }
}

export interface ExportSelection {
  /** Review statuses to export; default accepted only. */
  statuses?: readonly ReviewStatus[];
  /** Also require `judgement.correct === true`. */
  requireCorrect?: boolean;
}

/** Why a trajectory was left out of an export. */
export const skippedTrajectorySchema = z.object({ id: z.string(), taskId: z.string(), reason: z.string() });
export type SkippedTrajectory = z.infer<typeof skippedTrajectorySchema>;

/**
 * The automatic verdict teacher generation stores in `meta.teacherFilter` (see src/teacher/trajectoryFilter.ts),
 * read structurally so this module stays below the teacher in the dependency order.
 */
function generationFilterOf(t: Trajectory): { accepted: boolean; reason: string } | undefined {
  const f: unknown = t.meta?.teacherFilter;
  if (typeof f !== 'object' || f === null) return undefined;
  const { accepted, reason } = f as { accepted?: unknown; reason?: unknown };
  return typeof accepted === 'boolean' ? { accepted, reason: typeof reason === 'string' ? reason : 'no reason recorded' } : undefined;
}

/**
 * Decides whether a trajectory goes into an export; returns the reason when not. Records whose review status
 * is not selected are left out; unreviewed records are also left out while a step is stale after an edit, or
 * when the generation filter rejected them. An accepted record is exported whatever the filter said.
 */
export function exclusionReason(t: Trajectory, selection: ExportSelection): string | undefined {
  const statuses = selection.statuses ?? ['accepted'];
  if (!statuses.includes(t.review.status)) return `review status is ${t.review.status} (exporting ${statuses.join(', ')})`;
  // A person's acceptance overrides the automatic checks below; an unreviewed record must pass them.
  if (t.review.status !== 'accepted') {
    const stale = t.steps.flatMap((s, i) => (s.stale ? [i + 1] : []));
    if (stale.length) return `step ${stale.join(', ')} is stale after an edit: re-run it, or accept the trajectory`;
    const filter = generationFilterOf(t);
    if (filter && !filter.accepted) return `the generation filter rejected it (${filter.reason}); accept it in the editor to export it anyway`;
  }
  if (selection.requireCorrect && t.judgement?.correct !== true) return 'not judged correct';
  if (t.steps.length === 0) return 'has no steps';
  if (t.steps.every((s) => s.excludeFromTraining === true)) return 'every step is excluded from training';
  return undefined;
}

const sha256Reference = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256: and 64 hex digits');

/** A source trajectory file as an export recorded it: absolute path and `sha256:` of its bytes when exported. */
export const exportSourceFileSchema = z.object({ file: z.string(), sha256: sha256Reference });
export type ExportSourceFile = z.infer<typeof exportSourceFileSchema>;

/** The export manifest version this code writes; `src/trainingExport/exportManifest.ts` reads older ones. */
export const EXPORT_MANIFEST_VERSION = 1;

/** What every export manifest has carried since the first one: how a reader tells ours from another tool's `*.manifest.json`. */
export const EXPORT_MANIFEST_KIND = 'trajectory-studio-sft-export';

/**
 * Written beside every export as `<file>.manifest.json`. Exports made before profiles existed carry no
 * `compatibility`, `lossMask` or `fallbackExamples`; they were built the studio's way, without fallback examples.
 */
export const exportManifestSchema = z.object({
  kind: z.literal(EXPORT_MANIFEST_KIND),
  manifestVersion: z.literal(EXPORT_MANIFEST_VERSION),
  format: sftFormatSchema,
  /** The profile the data was built with; the trainer must mask the loss the same way (`train_lora.py --compat`). */
  compatibility: compatibilitySchema.default('studio'),
  /** Which tokens of an assistant turn carry loss under that profile. */
  lossMask: z.string().default(describeLossMask('studio')),
  /** `sha256:` of the exported file's bytes: the data snapshot a training run is linked to. */
  snapshot: sha256Reference,
  /** Lines written: one per exported trajectory, plus `fallbackExamples`. */
  examples: z.int().nonnegative(),
  /** Extra examples of runs that ended with the fallback answer call (METHOD §7). */
  fallbackExamples: z.int().nonnegative().default(0),
  /** Assistant turns with loss / without loss (excluded steps). */
  trainedTurns: z.int().nonnegative(),
  untrainedTurns: z.int().nonnegative(),
  prompt: z.object({ name: z.string(), sha256: z.string() }),
  sources: z.array(z.string()),
  trajectoryIds: z.array(z.string()),
  skipped: z.array(skippedTrajectorySchema),
  createdAt: z.string(),
  /**
   * Anything the caller adds (leakage report, token statistics, tokenizer, …). Only `sourceFiles` (the
   * trajectory files a launch exported, with their hashes; lineage follows them) is read back, so only it is checked.
   */
  extra: z.looseObject({ sourceFiles: z.array(exportSourceFileSchema).optional() }).optional(),
});
export type ExportManifest = z.infer<typeof exportManifestSchema>;

export interface ExportOptions extends ExportSelection {
  format: SftFormat;
  prompt: SftPrompt;
  /** Default `studio`. */
  compatibility?: Compatibility;
  /** The fallback call's texts, for the fallback examples; without them those examples are listed as skipped. */
  fallbackPrompt?: FallbackPrompt;
  /** Source file names recorded in the manifest. */
  sources?: readonly string[];
  /** Trajectory ids to leave out, with the reason (e.g. from the leakage check). */
  withhold?: ReadonlyMap<string, string>;
  signal?: AbortSignal;
}

export function manifestPathFor(outPath: string): string {
  return `${outPath}.manifest.json`;
}

/**
 * Writes the training file (atomically) and its manifest. Every trajectory not exported is listed in the
 * manifest's `skipped` with the reason; nothing is dropped silently.
 */
export async function exportTrainingData(trajectories: Iterable<Trajectory>, outPath: string, options: ExportOptions): Promise<ExportManifest> {
  const compatibility = options.compatibility ?? 'studio';
  const hash = createHash('sha256');
  const skipped: SkippedTrajectory[] = [];
  const ids: string[] = [];
  let examples = 0;
  let fallbackExamples = 0;
  let trainedTurns = 0;
  let untrainedTurns = 0;
  const lines = function* (): Generator<string> {
    for (const t of trajectories) {
      options.signal?.throwIfAborted();
      const withheld = options.withhold?.get(t.id);
      const reason = withheld ?? exclusionReason(t, options);
      if (reason !== undefined) {
        skipped.push({ id: t.id, taskId: t.task.id, reason });
        continue;
      }
      const built = buildSftExamples(t, { prompt: options.prompt, compatibility, ...(options.fallbackPrompt ? { fallbackPrompt: options.fallbackPrompt } : {}) });
      if (built.missing !== undefined) skipped.push({ id: t.id, taskId: t.task.id, reason: built.missing });
      let wrote = false;
      for (const conversation of built.conversations) {
        const formatted = formatSftExample(conversation, options.format);
        if ('skip' in formatted) {
          skipped.push({ id: t.id, taskId: t.task.id, reason: conversation.kind === 'fallback' ? `fallback example: ${formatted.skip}` : formatted.skip });
          continue;
        }
        for (const turn of conversation.turns) {
          if (turn.role !== 'assistant') continue;
          if (turn.train) trainedTurns++;
          else untrainedTurns++;
        }
        examples++;
        if (conversation.kind === 'fallback') fallbackExamples++;
        wrote = true;
        hash.update(`${formatted.line}\n`);
        yield formatted.line;
      }
      if (wrote) ids.push(t.id);
    }
  };
  await writeJsonlAtomically(outPath, lines(), options.signal ? { signal: options.signal } : {});
  const manifest: ExportManifest = {
    kind: EXPORT_MANIFEST_KIND,
    manifestVersion: EXPORT_MANIFEST_VERSION,
    format: options.format,
    compatibility,
    lossMask: describeLossMask(compatibility),
    snapshot: `sha256:${hash.digest('hex')}`,
    examples,
    fallbackExamples,
    trainedTurns,
    untrainedTurns,
    prompt: { name: options.prompt.name, sha256: sftPromptHash(options.prompt) },
    sources: [...(options.sources ?? [])],
    trajectoryIds: ids,
    skipped,
    createdAt: new Date().toISOString(),
  };
  await writeManifest(outPath, manifest);
  return manifest;
}

/** (Re)writes the manifest of an export (pretty-printed for people), durably. */
export async function writeManifest(outPath: string, manifest: ExportManifest): Promise<void> {
  await writeJsonDurably(manifestPathFor(outPath), manifest);
}
