import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSetting } from '../platform/settings';
import { type ScoringSettings } from './scoringSettings';

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
 * How a run started from VS Code scores answers: factual answers are judged by the judge model whenever its
 * endpoint has a base URL (METHOD §6), with the user's judge prompt file when one is set, unless the caller
 * opts out (`judge: false`); exact match otherwise. The run's manifest keeps what was chosen.
 */
export function scoringFromSettings(judge?: boolean): ScoringSettings {
  if (judge === false || readSetting('endpoints.judge.baseUrls').length === 0) return { factual: 'exact-match' };
  const judgePrompt = configuredJudgePromptFile();
  return { factual: 'judge', judgeModel: readSetting('endpoints.judge.model'), ...(judgePrompt !== undefined ? { judgePrompt } : {}) };
}
