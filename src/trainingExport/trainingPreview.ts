import { type Compatibility } from '../trajectory/compatibility';
import { type Trajectory } from '../trajectory/schema';
import { buildSftExamples, exclusionReason, formatSftExample, type ExportSelection, type SftConversation, type SftFormat } from '../trajectory/sftExport';
import { type ChatTokenizer, maskConversation, tokenStatistics, type TokenStatistics } from '../trajectory/tokenMask';
import { type TrainingPrompts } from './trainingExport';

/**
 * The training-text preview: a conversation as the trainer sees it, token by token, grouped by the turn each
 * token belongs to, with the label the trainer gives it. The labels come from `maskConversation` (the code that
 * mirrors media/python/train_data.py), so the preview cannot disagree with the trainer; this module only says
 * which turn a token falls in, so a step excluded from training can be shown as such.
 */

export interface PreviewToken {
  text: string;
  /** Carries loss. */
  train: boolean;
}

export interface PreviewTurn {
  role: 'system' | 'user' | 'assistant';
  /** What the turn is, for people: the task, a step's reply or observation, the fallback request. */
  kind: 'system' | 'task' | 'reply' | 'observation' | 'fallback-request' | 'fallback-reply';
  /** 0-based step the turn came from. */
  stepIndex?: number;
  /** An assistant turn that carries no loss because its step is excluded from training. */
  excluded: boolean;
  tokens: PreviewToken[];
}

export interface PreviewExample {
  kind: 'trajectory' | 'fallback';
  totalTokens: number;
  trainedTokens: number;
  turns: PreviewTurn[];
}

function kindOf(c: SftConversation, index: number, turn: SftConversation['turns'][number]): PreviewTurn['kind'] {
  if (turn.role === 'system') return 'system';
  if (index === 1) return 'task';
  if (turn.role === 'assistant') return turn.stepIndex === undefined ? 'fallback-reply' : 'reply';
  return turn.stepIndex === undefined && c.kind === 'fallback' ? 'fallback-request' : 'observation';
}

/** Tokenizes and labels one conversation and splits its tokens by turn (a token belongs to the turn its first byte is in). */
export function previewConversation(tokenizer: ChatTokenizer, conversation: SftConversation, compatibility: Compatibility): PreviewExample {
  const masked = maskConversation(tokenizer, conversation, compatibility);
  const ends: number[] = [];
  let offset = 0;
  for (const t of conversation.turns) {
    offset += Buffer.byteLength(`<|im_start|>${t.role}\n${t.content}<|im_end|>\n`);
    ends.push(offset);
  }
  const turns: PreviewTurn[] = conversation.turns.map((t, i) => ({
    role: t.role,
    kind: kindOf(conversation, i, t),
    ...(t.stepIndex !== undefined ? { stepIndex: t.stepIndex } : {}),
    excluded: t.role === 'assistant' && !t.train,
    tokens: [],
  }));
  let at = 0;
  let turn = 0;
  for (const token of masked.tokens) {
    while (turn < ends.length - 1 && at >= ends[turn]) turn++;
    turns[turn].tokens.push({ text: token.text, train: token.train });
    at += tokenizer.byteLengthOf(token.id);
  }
  return { kind: conversation.kind ?? 'trajectory', totalTokens: masked.inputIds.length, trainedTokens: masked.trainedTokens, turns };
}

export interface TrajectoryPreview {
  trajectoryId: string;
  taskId: string;
  question: string;
  /** Why an export with the given selection would leave this trajectory out; undefined when it would take it. */
  exclusion?: string;
  examples: PreviewExample[];
}

/** The trajectory's training examples (its conversation and, after a fallback answer, the fallback one), previewed. */
export function previewTrajectory(tokenizer: ChatTokenizer, t: Trajectory, options: { prompts: TrainingPrompts; compatibility: Compatibility; selection: ExportSelection }): TrajectoryPreview {
  const built = buildSftExamples(t, { prompt: options.prompts.prompt, fallbackPrompt: options.prompts.fallbackPrompt, compatibility: options.compatibility });
  const exclusion = exclusionReason(t, options.selection);
  return {
    trajectoryId: t.id,
    taskId: t.task.id,
    question: t.task.question,
    ...(exclusion !== undefined ? { exclusion } : {}),
    examples: built.conversations.map((c) => previewConversation(tokenizer, c, options.compatibility)),
  };
}

/** Token statistics over what an export of these trajectories would write (same selection, same format rules). */
export function exportTokenStatistics(
  tokenizer: ChatTokenizer,
  trajectories: readonly Trajectory[],
  options: { prompts: TrainingPrompts; compatibility: Compatibility; selection: ExportSelection; format: SftFormat; maxLength: number; signal?: AbortSignal },
): TokenStatistics {
  const conversations = trajectories
    .filter((t) => exclusionReason(t, options.selection) === undefined)
    .flatMap((t) => buildSftExamples(t, { prompt: options.prompts.prompt, fallbackPrompt: options.prompts.fallbackPrompt, compatibility: options.compatibility }).conversations)
    .filter((c) => !('skip' in formatSftExample(c, options.format)));
  return tokenStatistics(tokenizer, conversations, options.maxLength, options.signal, options.compatibility);
}
