import * as path from 'node:path';
import { z } from 'zod';
import { scoringSettingsSchema } from '../scoring/scoringSettings';
import { retrievalSettingSchema } from '../retrieval/retrievalSetting';
import { runEndpointFields, runManifestHeader, runSessionFields } from '../runs/manifestFields';
import { readVersionedJson, versionedJsonFormat } from '../runs/versionedJson';
import { adaptiveSagDefaults } from '../agent/candidateVote';
import { compatibilitySchema } from '../trajectory/compatibility';

/**
 * The settings of an evaluation run and the manifest kept in its folder. A run folder holds:
 *
 * - `manifest.json`: this config, the benchmarks with their file hashes, versions, the prompt hash, the
 *   adapter manifest when known, and one record per time the run was started (resumes included);
 * - `trajectories/<benchmark>.traj.jsonl`: one trajectory per question, appended as questions finish;
 * - `metrics.json`: the scores and rates, rewritten at the end of every run from the trajectory files.
 */

/** METHOD §5: n = 8, temperature 0.4, top_p 0.8, seed 42, max_tokens 1024; greedy uses temperature 0. */
export const sagDefaults = { candidates: 8, temperature: 0.4, topP: 0.8, seed: 42, maxTokens: 1024 } as const;

export const adaptiveSagSchema = z
  .object({
    firstRound: z.int().min(2).max(64).default(adaptiveSagDefaults.firstRound),
    roundSize: z.int().min(1).max(64).default(adaptiveSagDefaults.roundSize),
    /** A share of the candidates drawn: more than half, so two groups can never both reach it. */
    agreement: z.number().gt(0.5).max(1).default(adaptiveSagDefaults.agreement),
  })
  .strict();

export const evalModeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('greedy') }),
  z.object({
    kind: z.literal('sag'),
    candidates: z.int().min(1).max(64).default(sagDefaults.candidates),
    /** `isolated` runs each candidate in its own copy of the state; `shared` reproduces the reference. */
    isolation: z.enum(['isolated', 'shared']).default('isolated'),
    /** Run every copy of a repeated candidate code (isolated mode runs each distinct code once by default). */
    executeDuplicates: z.boolean().optional(),
    /**
     * Adaptive SAG: candidates in rounds (the first of `firstRound`, then of `roundSize`), stopping once more
     * could not change the vote or the leading group holds `agreement` of those drawn; `candidates` is the
     * most a step draws. Absent: the method's fixed N in one request.
     */
    adaptive: adaptiveSagSchema.optional(),
    /** `normalized` votes outputs that differ only in form together (absent: exact print output, the method's rule). */
    voteKeys: z.enum(['exact', 'normalized']).optional(),
  }),
]);
export type EvalMode = z.infer<typeof evalModeSchema>;

export const evalRunConfigSchema = z.object({
  /** The run folder (created when missing). */
  runFolder: z.string().min(1),
  /** Benchmark files, resolved (sets already expanded). */
  benchmarks: z.array(z.string().min(1)).min(1),
  /** The domain of benchmark files that name none (the reference's test sets are recognised without it). */
  benchmarkDomain: z.enum(['math', 'factual']).optional(),
  /** `model` is the model or LoRA module name the server knows. */
  student: z.object({
    profile: z.string().default('student'),
    ...runEndpointFields,
    /** The adapter's folder or manifest file, when the student is a trained LoRA adapter. */
    adapter: z.string().optional(),
  }),
  mode: evalModeSchema.default({ kind: 'sag', candidates: sagDefaults.candidates, isolation: 'isolated' }),
  /** Unset: METHOD §5's values for SAG, greedy decoding (0 / 1) for greedy. */
  temperature: z.number().min(0).optional(),
  topP: z.number().gt(0).max(1).optional(),
  seed: z.int().default(sagDefaults.seed),
  maxTokens: z.int().min(1).default(sagDefaults.maxTokens),
  maxSteps: z.int().min(1).max(50).default(5),
  retrieval: retrievalSettingSchema.default({ kind: 'none' }),
  /** The sandbox's isolation setting (bubblewrap, rlimits, …). */
  sandboxIsolation: z.enum(['auto', 'bwrap', 'rlimits', 'refuse-without-bwrap']).default('auto'),
  /** Questions worked on at once. */
  concurrency: z.int().min(1).max(1024).default(8),
  /** Only the first N questions of each benchmark. */
  limit: z.int().min(1).optional(),
  /** A seeded random sample of N questions of each benchmark (after `limit`). */
  sample: z.int().min(1).optional(),
  scoring: scoringSettingsSchema.default({ factual: 'exact-match' }),
  /** The agent's prompt profile (the short student prompt by default, METHOD §7). */
  promptProfile: z.string().default('student'),
  compatibility: compatibilitySchema.default('studio'),
});
export type EvalRunConfig = z.infer<typeof evalRunConfigSchema>;
export type EvalRunConfigInput = z.input<typeof evalRunConfigSchema>;

/** Sampling actually sent: METHOD §5 defaults for SAG, greedy decoding otherwise, unless set explicitly. */
export function effectiveSampling(config: EvalRunConfig): { temperature: number; topP: number; seed: number; maxTokens: number; n: number } {
  const sag = config.mode.kind === 'sag';
  return {
    temperature: config.temperature ?? (sag ? sagDefaults.temperature : 0),
    topP: config.topP ?? (sag ? sagDefaults.topP : 1),
    seed: config.seed,
    maxTokens: config.maxTokens,
    n: config.mode.kind === 'sag' ? config.mode.candidates : 1,
  };
}

/** The mode a run actually uses: under the `reference` compatibility, SAG without adaptive rounds or normalised keys. */
export function effectiveMode(config: Pick<EvalRunConfig, 'mode' | 'compatibility'>): EvalMode {
  if (config.mode.kind !== 'sag' || config.compatibility !== 'reference') return config.mode;
  const { adaptive: _adaptive, voteKeys: _voteKeys, ...fixed } = config.mode;
  return fixed;
}

/** Why the run's mode differs from its settings, for the start of the run; empty when it does not. */
export function ignoredModeSettings(config: Pick<EvalRunConfig, 'mode' | 'compatibility'>): string[] {
  if (config.mode.kind !== 'sag' || config.compatibility !== 'reference') return [];
  const notes: string[] = [];
  if (config.mode.adaptive) notes.push('the reference compatibility samples all SAG candidates of a step at once: the adaptive setting is ignored');
  if (config.mode.voteKeys === 'normalized') notes.push('the reference compatibility votes on exact print output: normalised vote keys are ignored');
  return notes;
}

/** One start of the run (the first, or a resume). */
export const evalSessionSchema = z.object({ ...runSessionFields, wallMs: z.number().nonnegative().default(0) });
export type EvalSession = z.infer<typeof evalSessionSchema>;

/** The version of the evaluation run manifest this code writes; older ones migrate on read (see {@link evalManifestFormat}). */
export const EVAL_MANIFEST_VERSION = 1;

export const evalManifestSchema = z.object({
  ...runManifestHeader('eval-run', EVAL_MANIFEST_VERSION),
  config: evalRunConfigSchema,
  benchmarks: z.array(
    z.object({
      name: z.string(),
      file: z.string(),
      sha256: z.string(),
      domain: z.enum(['math', 'factual']).optional(),
      /** Questions selected from it (after limit and sample). */
      questions: z.int().nonnegative(),
      /** `trajectories/<name>.traj.jsonl`, relative to the run folder. */
      trajectories: z.string(),
    }),
  ),
  promptProfile: z.object({ name: z.string(), hash: z.string() }),
  /** Versions and the environment in force (runtime, sandbox isolation, retrieval). */
  environment: z.record(z.string(), z.string()).default({}),
  /** The adapter's own manifest (training run, data snapshot), copied when it could be read. */
  adapterManifest: z.json().optional(),
  sessions: z.array(evalSessionSchema).default([]),
});
export type EvalManifest = z.infer<typeof evalManifestSchema>;

/** How `manifest.json` is read: a bump of {@link EVAL_MANIFEST_VERSION} adds the migration from the old version here. */
export const evalManifestFormat = versionedJsonFormat('an evaluation run manifest', evalManifestSchema, 'manifestVersion', EVAL_MANIFEST_VERSION);

export function manifestFile(runFolder: string): string {
  return path.join(runFolder, 'manifest.json');
}

export function metricsFile(runFolder: string): string {
  return path.join(runFolder, 'metrics.json');
}

/** A benchmark's trajectory file, relative to the run folder; the name is made safe for a file name. */
export function trajectoryFileName(benchmarkName: string): string {
  return path.join('trajectories', `${benchmarkName.replace(/[^\w.-]+/g, '_')}.traj.jsonl`);
}

export async function readEvalManifest(runFolder: string): Promise<EvalManifest | undefined> {
  return readVersionedJson(manifestFile(runFolder), evalManifestFormat);
}

/** Settings that change results: a resumed run must keep them, or its questions would not be comparable. */
const reproducibilityKeys = ['benchmarkDomain', 'mode', 'compatibility', 'temperature', 'topP', 'seed', 'maxTokens', 'maxSteps', 'retrieval', 'scoring', 'promptProfile', 'limit', 'sample'] as const satisfies readonly (keyof EvalRunConfig)[];

/** What differs between the run folder's settings and a new start's, as readable lines; empty when it may resume. */
export function incompatibleEvalSettings(previous: EvalManifest, config: EvalRunConfig, benchmarkHashes: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  if (previous.config.student.model !== config.student.model) problems.push(`student model: ${previous.config.student.model} then, ${config.student.model} now`);
  for (const key of reproducibilityKeys) {
    const before = JSON.stringify(previous.config[key]);
    const now = JSON.stringify(config[key]);
    if (before !== now) problems.push(`${key}: ${before ?? 'unset'} then, ${now ?? 'unset'} now`);
  }
  for (const b of previous.benchmarks) {
    const hash = benchmarkHashes.get(b.name);
    if (hash !== undefined && hash !== b.sha256) problems.push(`benchmark ${b.name} (${b.file}) changed since the run started`);
  }
  return problems;
}
