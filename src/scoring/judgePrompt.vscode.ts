import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSetting } from '../platform/settings';
import { loadJudgePrompt, type JudgePrompt } from './judgePrompt';

/**
 * The user's judge prompt file from the `scoring.judgePrompt` setting (a relative path resolves against
 * the first workspace folder); undefined when the setting is empty, so the built-in prompt of the
 * profile applies.
 */
export function configuredJudgePromptFile(): string | undefined {
  const file = readSetting('scoring.judgePrompt').trim();
  if (!file) return undefined;
  if (path.isAbsolute(file)) return file;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return root ? path.join(root, file) : path.resolve(file);
}

/**
 * The user's judge prompt, read and checked once (at the start of a run), or undefined when none is set.
 * A file that cannot be read or parsed throws a `JudgePromptError` naming the file and line.
 */
export async function loadConfiguredJudgePrompt(): Promise<JudgePrompt | undefined> {
  const file = configuredJudgePromptFile();
  return file === undefined ? undefined : loadJudgePrompt(file);
}
