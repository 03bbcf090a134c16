import { z } from 'zod';
import { type endpointRoles } from '../llm/profiles';
import { retrievalSettingSchema } from '../retrieval/retrievalSetting';
import { compatibilitySchema } from '../trajectory/compatibility';
import { evalModeSchema } from './evalConfig';

const roleSchema = z.enum(['teacher', 'student', 'judge']) satisfies z.ZodType<(typeof endpointRoles)[number]>;

/**
 * Arguments **Run Evaluation** and **Evaluate Adapter** accept instead of asking (tests, the training view,
 * keybindings). Unknown fields are refused, so a typo names itself instead of being ignored.
 */
export const runEvaluationArgsSchema = z.strictObject({
  benchmarks: z.array(z.string().min(1)).min(1).optional(),
  mode: evalModeSchema.optional(),
  retrieval: retrievalSettingSchema.optional(),
  runFolder: z.string().min(1).optional(),
  /** Endpoint profile to evaluate (default student). */
  profile: roleSchema.optional(),
  /** Override the profile's model (a LoRA module name) and base URLs (a "serve for eval" endpoint). */
  model: z.string().min(1).optional(),
  baseUrls: z.array(z.string().min(1)).min(1).optional(),
  adapter: z.string().min(1).optional(),
  sample: z.int().min(1).optional(),
  limit: z.int().min(1).optional(),
  concurrency: z.int().min(1).max(1024).optional(),
  /** Judge factual answers with the judge model. Default: whenever the judge endpoint has a base URL; `false` scores them by exact match. */
  judge: z.boolean().optional(),
  /** The profile the run follows; default the `trajectoryStudio.compatibility` setting. */
  compatibility: compatibilitySchema.optional(),
});
export type RunEvaluationArgs = z.infer<typeof runEvaluationArgsSchema>;

/** Arguments of **Quick Eval**. */
export const quickEvalArgsSchema = z.strictObject({
  profile: roleSchema.optional(),
  question: z.string().optional(),
  domain: z.enum(['math', 'factual']).optional(),
  mode: evalModeSchema.optional(),
  retrieval: retrievalSettingSchema.optional(),
});
export type QuickEvalArgs = z.infer<typeof quickEvalArgsSchema>;
