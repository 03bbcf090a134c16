import * as vscode from 'vscode';
import { readSetting } from '../platform/settings';
import { type StudioServices } from '../platform/services';
import { runEnvironmentFromSettings, type RunEnvironment, type SettingsPlaces } from './runEnvironment';

/** Where this window's relative settings resolve (the first workspace folder on disk) and the extension's storage. */
export function settingsPlaces(context: Pick<vscode.ExtensionContext, 'globalStorageUri'>): SettingsPlaces {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return { ...(folder?.scheme === 'file' ? { workspaceFolder: folder.fsPath } : {}), globalStorageFolder: context.globalStorageUri.fsPath };
}

/**
 * The run environment of this window, read when a run starts (so a changed setting reaches the next run):
 * the `trajectoryStudio.*` settings and the keys in SecretStorage.
 */
export function studioRunEnvironment(services: Pick<StudioServices, 'context' | 'secrets'>): RunEnvironment {
  return runEnvironmentFromSettings(readSetting, settingsPlaces(services.context), async (name) => services.secrets.get(name));
}
