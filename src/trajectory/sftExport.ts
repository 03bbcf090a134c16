import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { compatibilityOfTrajectory, compatibilitySchema, type Compatibility } from './compatibility';
import { observationTextOf } from './observationText';
import { writeJsonlAtomically } from './jsonlWriters';
import { undefinedIfMissing, writeJsonDurably } from '../runs/durableFile';
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

export type SftFormat = 'openai' | 'axolotl' | 'sharegpt';
export const SFT_FORMATS: readonly SftFormat[] = ['openai', 'axolotl', 'sharegpt'];

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
export interface SkippedTrajectory {
  id: string;
  taskId: string;
  reason: string;
}

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

/** Written beside every export as `<file>.manifest.json`. */
export interface ExportManifest {
  kind: 'trajectory-studio-sft-export';
  format: SftFormat;
  /** The profile the data was built with; the trainer must mask the loss the same way (`train_lora.py --compat`). */
  compatibility: Compatibility;
  /** Which tokens of an assistant turn carry loss under that profile. */
  lossMask: string;
  /** `sha256:` of the exported file's bytes: the data snapshot a training run is linked to. */
  snapshot: string;
  /** Lines written: one per exported trajectory, plus {@link fallbackExamples}. */
  examples: number;
  /** Extra examples of runs that ended with the fallback answer call (METHOD §7). */
  fallbackExamples: number;
  /** Assistant turns with loss / without loss (excluded steps). */
  trainedTurns: number;
  untrainedTurns: number;
  prompt: { name: string; sha256: string };
  sources: string[];
  trajectoryIds: string[];
  skipped: SkippedTrajectory[];
  createdAt: string;
  /** Anything the caller adds (leakage report, token statistics, …). */
  extra?: Record<string, unknown>;
}

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
    kind: 'trajectory-studio-sft-export',
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

/**
 * The profile an exported training file was built with, from its manifest (`<file>.manifest.json`); undefined
 * when there is no manifest (a file made elsewhere). What a training launch passes on as `--compat`.
 */
export async function exportCompatibilityOf(dataPath: string): Promise<Compatibility | undefined> {
  const text = await undefinedIfMissing(readFile(manifestPathFor(dataPath), 'utf8'));
  if (text === undefined) return undefined;
  let manifest: unknown;
  try {
    manifest = JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${manifestPathFor(dataPath)}:1: not valid JSON: ${(err as Error).message}`);
  }
  const value = typeof manifest === 'object' && manifest !== null ? (manifest as Record<string, unknown>).compatibility : undefined;
  // Exports made before profiles existed carry none; they were built the studio's way.
  if (value === undefined) return 'studio';
  const parsed = compatibilitySchema.safeParse(value);
  if (!parsed.success) throw new Error(`${manifestPathFor(dataPath)}: compatibility: expected studio or reference, got ${JSON.stringify(value)}`);
  return parsed.data;
}

/** (Re)writes the manifest of an export (pretty-printed for people), durably. */
export async function writeManifest(outPath: string, manifest: ExportManifest): Promise<void> {
  await writeJsonDurably(manifestPathFor(outPath), manifest);
}
