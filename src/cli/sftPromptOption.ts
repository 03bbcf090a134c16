import * as path from 'node:path';
import { trainingPromptsOfProfile } from '../trainingExport/trainingExport';
import { type SftPrompt } from '../trajectory/sftPrompt';
import { type CliIo, type CliOptionSpecs, type ParsedCliArgs, stringOption } from './command';

/** `--prompt-profile`, read by {@link sftPromptFrom}. */
export const sftPromptCliOption = {
  'prompt-profile': { type: 'string', value: 'P', help: 'prompt profile (name or .prompt.txt path) whose system prompt and task suffix the training text uses (default student)' },
} as const satisfies CliOptionSpecs;

/**
 * The prompt texts to train with, from `--prompt-profile` (default `student`, the one students are evaluated
 * with): its system prompt rendered with the agent's tool list and import allowlist, so training and
 * evaluation show the model the same text. Shared by `export` and `triage` (which counts training tokens).
 */
export function sftPromptFrom(args: ParsedCliArgs, io: CliIo): Promise<SftPrompt> {
  const name = stringOption(args, 'prompt-profile') ?? 'student';
  const looksLikePath = name.includes('/') || name.includes(path.sep) || name.endsWith('.prompt.txt');
  return sftPromptOfProfile(looksLikePath ? path.resolve(io.cwd, name) : name);
}

/** The training prompt of a prompt profile, by name (`student`, `teacher`) or `.prompt.txt` path. */
export async function sftPromptOfProfile(nameOrPath: string): Promise<SftPrompt> {
  return (await trainingPromptsOfProfile(nameOrPath)).prompt;
}
