import * as path from 'node:path';
import { loadPromptProfile, renderSystemPrompt } from '../agent/promptProfiles';
import { defaultAgentTools } from '../agent/tools';
import { DEFAULT_ALLOWED_IMPORTS } from '../sandbox/prepare';
import { type Compatibility } from '../trajectory/compatibility';
import { describeLeak, findLeakage, type LeakageMatch, type LeakageQuestion } from '../trajectory/leakageCheck';
import { importQuestionSet } from '../trajectory/questionSetImport';
import { type ReviewStatus, type Trajectory } from '../trajectory/schema';
import { buildSftExamples, exclusionReason, formatSftExample, type ExportManifest, type ExportSelection, type FallbackPrompt, type SftConversation, type SftFormat } from '../trajectory/sftExport';
import { type SftPrompt } from '../trajectory/sftPrompt';
import { openTrajectoryFile } from '../trajectory/trajectoryFile';

/**
 * The steps of an export that both front ends share (`trajectory-studio export` and VS Code's **Export for
 * Training…**): reading the trajectory files with every problem located, the prompt texts of a prompt profile,
 * the selection rules, benchmark questions and the leakage check that may withhold trajectories, and the
 * conversations exactly as an export wrote them (for token statistics and the training-text preview).
 */

/** The system prompt and task suffix to train with, and the fallback call's texts, of one prompt profile. */
export interface TrainingPrompts {
  prompt: SftPrompt;
  fallbackPrompt: FallbackPrompt;
}

/**
 * The training prompts of a prompt profile by name (`student`, `teacher`) or `.prompt.txt` path: its system
 * prompt rendered with the agent's tool list and import allowlist, so training and evaluation show the model
 * the same text.
 */
export async function trainingPromptsOfProfile(nameOrPath: string, userFolders: readonly string[] = []): Promise<TrainingPrompts> {
  const profile = await loadPromptProfile(nameOrPath, userFolders);
  return {
    prompt: { name: profile.name, system: renderSystemPrompt(profile, defaultAgentTools, DEFAULT_ALLOWED_IMPORTS), taskSuffix: profile.taskSuffix },
    fallbackPrompt: { system: profile.fallbackSystem, request: profile.fallbackRequest },
  };
}

/** Which trajectories an export takes. */
export type SelectionRule = 'accepted' | 'accepted-and-passing';
export const SELECTION_RULES: readonly SelectionRule[] = ['accepted', 'accepted-and-passing'];

/**
 * `accepted`: only what a person accepted. `accepted-and-passing`: also unreviewed trajectories that the
 * generation filter kept and that have no stale step (exclusionReason's rules; acceptance overrides them).
 */
export function selectionOfRule(rule: SelectionRule): ExportSelection {
  const statuses: ReviewStatus[] = rule === 'accepted' ? ['accepted'] : ['accepted', 'unreviewed'];
  return { statuses };
}

/** Every valid trajectory of the files, and each invalid line as `file:line: path: message`. */
export async function readTrajectoryFiles(paths: readonly string[], signal?: AbortSignal): Promise<{ trajectories: Trajectory[]; problems: string[] }> {
  const trajectories: Trajectory[] = [];
  const problems: string[] = [];
  for (const file of paths) {
    const f = await openTrajectoryFile(file, signal ? { signal } : {});
    try {
      for await (const r of f.records(signal)) {
        if (r.ok) trajectories.push(r.trajectory);
        else for (const d of r.diagnostics) problems.push(`${file}:${d.line}: ${d.path ?? '$'}: ${d.message}`);
      }
    } finally {
      await f.close();
    }
  }
  return { trajectories, problems };
}

/** Benchmark questions from question sets (.json, .jsonl, .csv) or trajectory files (.traj.jsonl), with the problems found. */
export async function readBenchmarkQuestions(file: string, signal?: AbortSignal): Promise<{ questions: LeakageQuestion[]; problems: string[] }> {
  const source = path.basename(file);
  if (file.endsWith('.traj.jsonl')) {
    const read = await readTrajectoryFiles([file], signal);
    return { questions: read.trajectories.map((t) => ({ id: t.task.id, question: t.task.question, source })), problems: read.problems };
  }
  // Benchmarks often carry no domain; it does not matter for comparing questions.
  const set = await importQuestionSet(file, { domain: 'factual' });
  return { questions: set.tasks.map((t) => ({ id: t.id, question: t.question, source })), problems: set.problems.map((p) => `${file}: ${p.where}: ${p.message}`) };
}

/** The outcome of the leakage check over the trajectories an export would take. */
export interface LeakageOutcome {
  /** How many trajectories the selection takes (the questions that were compared). */
  candidates: number;
  benchmarkQuestions: number;
  matches: LeakageMatch[];
  /** Trajectory id → the reason it is left out (empty when leaks are kept). */
  withhold: Map<string, string>;
}

/** Compares the selected trajectories' questions with the benchmarks'; with `leaveOut`, leaking ones are withheld. */
export function checkLeakage(trajectories: readonly Trajectory[], selection: ExportSelection, benchmark: readonly LeakageQuestion[], options: { leaveOut: boolean; nearThreshold?: number }): LeakageOutcome {
  const candidates = trajectories.filter((t) => exclusionReason(t, selection) === undefined);
  const matches = findLeakage(
    candidates.map((t) => ({ id: t.id, question: t.task.question })),
    benchmark,
    options.nearThreshold !== undefined ? { nearThreshold: options.nearThreshold } : {},
  );
  const withhold = new Map<string, string>();
  if (options.leaveOut) for (const m of matches) withhold.set(m.trainingId, `question leaks into the benchmark: ${describeLeak(m)}`);
  return { candidates: candidates.length, benchmarkQuestions: benchmark.length, matches, withhold };
}

/** The manifest's record of a leakage check. */
export function leakageManifestEntry(benchmarks: readonly string[], outcome: LeakageOutcome, leftOut: boolean): Record<string, unknown> {
  return { benchmarks: [...benchmarks], matches: outcome.matches, refused: leftOut, leftOut: leftOut ? outcome.matches.map((m) => m.trainingId) : [] };
}

/**
 * The examples exactly as an export wrote them: the exported trajectories' conversations and their fallback
 * conversations, less what the format refused.
 */
export function exportedConversations(
  trajectories: readonly Trajectory[],
  manifest: Pick<ExportManifest, 'trajectoryIds'>,
  options: { prompt: SftPrompt; fallbackPrompt?: FallbackPrompt; compatibility: Compatibility; format: SftFormat },
): SftConversation[] {
  const exported = new Set(manifest.trajectoryIds);
  return trajectories
    .filter((t) => exported.has(t.id))
    .flatMap((t) => buildSftExamples(t, { prompt: options.prompt, compatibility: options.compatibility, ...(options.fallbackPrompt ? { fallbackPrompt: options.fallbackPrompt } : {}) }).conversations)
    .filter((c) => !('skip' in formatSftExample(c, options.format)));
}
