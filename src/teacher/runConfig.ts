import { z } from 'zod';
import { scoringSettingsSchema } from '../scoring/scoringSettings';
import { filterSettingsSchema } from './trajectoryFilter';
import { writeJsonDurably } from '../runs/durableFile';
import { runEndpointFields, runManifestHeader, runSessionFields } from '../runs/manifestFields';
import { readVersionedJson, versionedJsonFormat } from '../runs/versionedJson';
import { compatibilitySchema } from '../trajectory/compatibility';
import { retrievalSettingSchema } from '../retrieval/retrievalSetting';
import { type RunEnvironment } from '../runs/runEnvironment';

/**
 * The settings of a teacher generation run, as the form in VS Code and the CLI flags produce them, and the
 * manifest saved beside the output file (`<name>.manifest.json`) that records them with every run made
 * into that file, so the data can be reproduced and a resumed run cannot silently mix settings.
 */


export const teacherRunConfigSchema = z.object({
  /** The question set (JSON or JSONL). */
  questionFile: z.string().min(1),
  /** Where trajectories are appended (`*.traj.jsonl`). */
  outputFile: z.string().min(1),
  teacher: z.object({ profile: z.string().default('teacher'), ...runEndpointFields }),
  /** Inject the first paragraph of a chain-of-thought reply as the start of the first step (METHOD §4). */
  firstThoughtPrefix: z.boolean().default(true),
  cotTemperature: z.number().min(0).default(0),
  agentTemperature: z.number().min(0).default(0),
  maxSteps: z.int().min(1).max(50).default(5),
  seed: z.int().default(42),
  retrieval: retrievalSettingSchema.default({ kind: 'none' }),
  /** Questions worked on at once. */
  concurrency: z.int().min(1).max(1024).default(8),
  /** Only the first N questions of the set. */
  limit: z.int().min(1).optional(),
  /** A seeded random sample of N questions (after `limit`). */
  sample: z.int().min(1).optional(),
  /** Domain for questions that do not name one. */
  defaultDomain: z.enum(['math', 'factual']).optional(),
  scoring: scoringSettingsSchema.default({ factual: 'exact-match' }),
  filter: filterSettingsSchema.default({ dropParseErrors: true, dropExecutionErrors: false }),
  /** The agent's prompt profile name. */
  promptProfile: z.string().optional(),
  /** Where the studio and the reference differ, which one the run follows (observations, scoring, filter). */
  compatibility: compatibilitySchema.default('studio'),
});
export type TeacherRunConfig = z.infer<typeof teacherRunConfigSchema>;
export type TeacherRunConfigInput = z.input<typeof teacherRunConfigSchema>;

/** The `teacher` block of a run config from the teacher endpoint profile: its model, base URLs and server flavor. */
export function teacherOfEnvironment(environment: Pick<RunEnvironment, 'endpoint'>): TeacherRunConfig['teacher'] {
  const { name, model, baseUrls, flavor } = environment.endpoint('teacher');
  return { profile: name, model, baseUrls, flavor };
}

/** Settings that change what a trajectory holds: a resumed run must have the same values. */
const reproducibilityKeys = [
  'firstThoughtPrefix', 'cotTemperature', 'agentTemperature', 'maxSteps', 'seed', 'retrieval', 'scoring', 'filter', 'promptProfile', 'compatibility',
] as const satisfies readonly (keyof TeacherRunConfig)[];

export const runRecordSchema = z.object({
  ...runSessionFields,
  correct: z.int().nonnegative(),
  accepted: z.int().nonnegative(),
  retriedFailed: z.int().nonnegative().default(0),
  promptTokens: z.int().nonnegative().default(0),
  completionTokens: z.int().nonnegative().default(0),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/** The version of the teacher run manifest this code writes; older ones migrate on read (see {@link teacherManifestFormat}). */
export const TEACHER_MANIFEST_VERSION = 1;

export const teacherManifestSchema = z.object({
  ...runManifestHeader('teacher-generation', TEACHER_MANIFEST_VERSION),
  config: teacherRunConfigSchema,
  questionSetSha256: z.string(),
  questionCount: z.int().nonnegative(),
  environment: z.record(z.string(), z.string()).default({}),
  runs: z.array(runRecordSchema).default([]),
});
export type TeacherManifest = z.infer<typeof teacherManifestSchema>;

/** How `<name>.manifest.json` is read: a bump of {@link TEACHER_MANIFEST_VERSION} adds the migration from the old version here. */
export const teacherManifestFormat = versionedJsonFormat('a teacher run manifest', teacherManifestSchema, 'manifestVersion', TEACHER_MANIFEST_VERSION);

/** `out/teacher.traj.jsonl` → `out/teacher.traj.manifest.json`. */
export function manifestPathFor(outputFile: string): string {
  return outputFile.replace(/\.jsonl$/i, '') + '.manifest.json';
}

export async function readManifest(outputFile: string): Promise<TeacherManifest | undefined> {
  return readVersionedJson(manifestPathFor(outputFile), teacherManifestFormat);
}

/** Writes the manifest durably, so a crash never leaves half a manifest. */
export async function writeManifest(outputFile: string, manifest: TeacherManifest): Promise<void> {
  await writeJsonDurably(manifestPathFor(outputFile), manifest);
}

/**
 * What differs between the settings an output file was made with and a new run's, as readable lines;
 * empty when the run may append to the file.
 */
export function incompatibleSettings(previous: TeacherManifest, config: TeacherRunConfig, questionSetSha256: string): string[] {
  const problems: string[] = [];
  if (previous.questionSetSha256 !== questionSetSha256) problems.push('the question set file changed since the file was started');
  if (previous.config.teacher.model !== config.teacher.model) problems.push(`teacher model: ${previous.config.teacher.model} then, ${config.teacher.model} now`);
  for (const key of reproducibilityKeys) {
    const before = JSON.stringify(previous.config[key]);
    const now = JSON.stringify(config[key]);
    if (before !== now) problems.push(`${key}: ${before ?? 'unset'} then, ${now ?? 'unset'} now`);
  }
  return problems;
}
