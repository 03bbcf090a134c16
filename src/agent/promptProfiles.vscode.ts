import * as vscode from 'vscode';
import { readSetting } from '../platform/settings';
import { promptFoldersFromSettings } from '../runs/runEnvironment';

/**
 * The user's prompt folders from the `agent.promptsFolder` setting (relative paths resolve against the
 * first workspace folder). Empty when the setting is empty.
 */
export function userPromptFolders(): string[] {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return promptFoldersFromSettings(readSetting, folder?.scheme === 'file' ? { workspaceFolder: folder.fsPath } : {});
}
