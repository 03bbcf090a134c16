import * as path from 'node:path';
import { z } from 'zod';
import { compatibilitySchema } from '../trajectory/compatibility';
import { shippedTokenizer } from '../trajectory/tokenizerFolder';
import { SELECTION_RULES } from './trainingExport';

/**
 * The arguments of **Export for Training…** and **Show Training-Text Preview** when they are given as an object
 * (tests, other commands, keybindings): every field checked, unknown fields refused, so a typo is an error that
 * names the field instead of a default silently taking its place.
 */

export { shippedTokenizer };

/**
 * The tokenizer for token statistics and the preview: `qwen2.5` (shipped) or the absolute path of a folder with
 * the student's tokenizer.json and tokenizer_config.json (tokenizerFolder.ts loads and checks it).
 */
export const tokenizerChoiceSchema = z
  .string()
  .min(1)
  .refine((v) => v === shippedTokenizer || path.isAbsolute(v), { message: `expected "${shippedTokenizer}" or the absolute path of a folder with tokenizer.json and tokenizer_config.json` });

export const exportForTrainingArgsSchema = z.strictObject({
  /** Trajectory files (absolute paths). */
  files: z.array(z.string().min(1)).min(1),
  /** Where to write the training file; its manifest goes beside it. */
  out: z.string().min(1),
  selection: z.enum(SELECTION_RULES).default('accepted-and-passing'),
  format: z.enum(['openai', 'axolotl', 'sharegpt']).default('openai'),
  /** Default: the `trajectoryStudio.compatibility` setting. */
  compatibility: compatibilitySchema.optional(),
  tokenizer: tokenizerChoiceSchema.default(shippedTokenizer),
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
  /** Default: the tokenizer the open preview uses (an export's, when it was opened from one), else the shipped one. */
  tokenizer: tokenizerChoiceSchema.optional(),
});
export type TrainingPreviewArgs = z.infer<typeof trainingPreviewArgsSchema>;

