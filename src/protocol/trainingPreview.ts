import { z } from 'zod';
import { defineProtocol } from './envelope';

/**
 * Messages between the training-text preview and the extension host. The host computes everything (the
 * tokens and their loss labels come from the trainer's mask code); the page shows it and asks for another
 * trajectory or profile. Every string is display data and is rendered as text only.
 */

export const previewCompatibilitySchema = z.enum(['studio', 'reference']);

export const previewTokenSchema = z.object({ text: z.string(), train: z.boolean() });

export const previewTurnSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  kind: z.enum(['system', 'task', 'reply', 'observation', 'fallback-request', 'fallback-reply']),
  stepIndex: z.number().int().nonnegative().optional(),
  excluded: z.boolean(),
  tokens: z.array(previewTokenSchema),
});
export type PreviewTurnMessage = z.infer<typeof previewTurnSchema>;

export const previewExampleSchema = z.object({
  kind: z.enum(['trajectory', 'fallback']),
  totalTokens: z.number().int(),
  trainedTokens: z.number().int(),
  turns: z.array(previewTurnSchema),
});

export const previewStatisticsSchema = z.object({
  examples: z.number().int(),
  totalTokens: z.number().int(),
  trainedTokens: z.number().int(),
  maxTokens: z.number().int(),
  meanTokens: z.number(),
  overMaxLength: z.number().int(),
  maxLength: z.number().int(),
  longest: z.string().optional(),
});

export const previewDataSchema = z.object({
  /** File name shown in the header. */
  file: z.string(),
  /** The trajectories of the file to choose from (slot and a short label). */
  choices: z.array(z.object({ slot: z.number().int().nonnegative(), label: z.string() })),
  slot: z.number().int().nonnegative(),
  trajectoryId: z.string(),
  question: z.string(),
  compatibility: previewCompatibilitySchema,
  /** Which tokens of an assistant turn carry loss under the profile, in words. */
  lossMask: z.string(),
  tokenizer: z.string(),
  /** Why an export would leave the trajectory out (the preview still shows its text). */
  exclusion: z.string().optional(),
  examples: z.array(previewExampleSchema),
  /** Over everything an export of the file would take. */
  statistics: previewStatisticsSchema,
});
export type PreviewData = z.infer<typeof previewDataSchema>;

export const trainingPreviewProtocol = defineProtocol({
  requests: {
    /** The preview of trajectory `slot` under a profile (null: keep the current one). */
    load: { params: z.object({ slot: z.number().int().nonnegative().nullable(), compatibility: previewCompatibilitySchema.nullable() }), result: previewDataSchema },
  },
  hostNotifications: {
    /** The host shows another file or trajectory (the command ran again). */
    show: previewDataSchema,
  },
  webviewNotifications: {},
});
export type TrainingPreviewProtocol = typeof trainingPreviewProtocol;
