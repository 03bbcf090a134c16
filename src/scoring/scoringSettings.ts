import { z } from 'zod';
import { type Compatibility } from '../trajectory/compatibility';
import { type AnswerScorerOptions } from './answerScorer';
import { judgePromptHash, loadJudgePrompt } from './judgePrompt';

/** How a run scores answers, as teacher and evaluation configs record it in their manifests. */
export const scoringSettingsSchema = z.object({
  /**
   * Factual answers: the judge model (what the CLI and VS Code choose whenever a judge endpoint is
   * configured) or offline exact match. The default here is for configs written before that choice.
   */
  factual: z.enum(['judge', 'exact-match']).default('exact-match'),
  /** Offline exact match: also accept token F1 at or above this value. */
  f1Threshold: z.number().min(0).max(1).optional(),
  /** The judge model's name, when factual answers are judged. */
  judgeModel: z.string().optional(),
  /** A judge prompt file of the user's; it replaces the built-in prompt of the run's compatibility profile. */
  judgePrompt: z.string().optional(),
});
export type ScoringSettings = z.infer<typeof scoringSettingsSchema>;

/**
 * The user's judge prompt for a run, read and checked once at its start: the scorer option that puts it in
 * place of the run's profile's built-in prompt (the other profile keeps its own, so the two verdicts stay
 * the two ways of scoring), and a line for the run's environment record.
 */
export async function runJudgePrompt(
  settings: Pick<ScoringSettings, 'factual' | 'judgePrompt'>,
  compatibility: Compatibility,
): Promise<{ judgePrompts?: AnswerScorerOptions['judgePrompts']; description?: string }> {
  if (settings.factual !== 'judge' || settings.judgePrompt === undefined) return {};
  const prompt = await loadJudgePrompt(settings.judgePrompt);
  return {
    judgePrompts: { [compatibility]: prompt },
    description: `${settings.judgePrompt} (${judgePromptHash(prompt)}, for the ${compatibility} profile)`,
  };
}
