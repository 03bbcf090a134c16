import * as vscode from 'vscode';
import { readSetting } from '../platform/settings';
import { loadPromptProfile, type PromptProfile } from './promptProfiles';
import { promptFoldersFromSettings } from '../runs/runEnvironment';

/**
 * The user's prompt folders from the `agent.promptsFolder` setting (relative paths resolve against the
 * first workspace folder). Empty when the setting is empty.
 */
export function userPromptFolders(): string[] {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return promptFoldersFromSettings(readSetting, folder?.scheme === 'file' ? { workspaceFolder: folder.fsPath } : {});
}

/**
 * Loads a prompt profile by name, looking in the user's folder before the built-in ones. The name may be
 * a `<name>.prompt.txt` profile or a prompt YAML in the reference's format (`<name>.yaml`, optionally
 * `<name>#system_prompt_short` to pick its system template).
 */
export function loadConfiguredPromptProfile(name: string): Promise<PromptProfile> {
  return loadPromptProfile(name, userPromptFolders());
}
