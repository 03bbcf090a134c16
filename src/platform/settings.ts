import * as vscode from 'vscode';
import { type SettingKey, type SettingTypes, settingsSection } from './ids';
import {
  findMisplacedSettings,
  missingSettingMessage,
  openSettingsLabel,
  parseSettingsJson,
  type SettingsFileValues,
  type SettingsScope,
  type SettingsTab,
  settingsTabFor,
} from './settingPlacement';

/** Typed read of one `trajectoryStudio.*` setting; the default comes from package.json. */
export function readSetting<K extends SettingKey>(key: K, scope?: vscode.ConfigurationScope): SettingTypes[K] {
  const value = vscode.workspace.getConfiguration(settingsSection, scope).get<SettingTypes[K]>(key);
  if (value === undefined) throw new Error(`Setting ${settingsSection}.${key} has no value and no default in package.json`);
  return value;
}

export async function writeSetting<K extends SettingKey>(key: K, value: SettingTypes[K], target = vscode.ConfigurationTarget.Global): Promise<void> {
  await vscode.workspace.getConfiguration(settingsSection).update(key, value, target);
}

/** Fires when any of the given settings change. */
export function onSettingsChanged(keys: readonly SettingKey[], listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (keys.some((k) => e.affectsConfiguration(`${settingsSection}.${k}`))) listener();
  });
}

/** What an "Open Settings" button shows: one setting, or a group of them by prefix (`endpoints.teacher`). */
export type SettingQuery = SettingKey | `endpoints.${'teacher' | 'student' | 'judge'}`;

/**
 * Opens the Settings tab where `query` takes effect in this window: Remote settings for machine settings in a
 * remote window (the User tab would accept the value and VS Code would then ignore it), User settings
 * otherwise. `json` opens that tab's settings.json at the setting, for values the UI cannot edit (lists of objects).
 */
export async function openSettingsFor(query: SettingQuery, options: { json?: boolean } = {}): Promise<void> {
  const full = `${settingsSection}.${query}`;
  const remote = settingsTabFor(query, vscode.env.remoteName) === 'remote';
  if (options.json) {
    await vscode.commands.executeCommand(remote ? 'workbench.action.openRemoteSettingsFile' : 'workbench.action.openSettingsJson', { revealSetting: { key: full, edit: true } });
  } else {
    await vscode.commands.executeCommand(remote ? 'workbench.action.openRemoteSettings' : 'workbench.action.openSettings', { query: full });
  }
}

/** The label of the button that opens `query`'s settings in this window ("Open Remote Settings" in a remote one). */
export function openSettingsButton(query: SettingQuery): string {
  return openSettingsLabel(settingsTabFor(query, vscode.env.remoteName));
}

async function readSettingsFile(uri: vscode.Uri, scope: SettingsScope): Promise<SettingsFileValues | undefined> {
  let text: string;
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
  const parsed = parseSettingsJson(text);
  if (!parsed) return undefined;
  const file = uri.scheme === 'file' ? uri.fsPath : uri.toString();
  // a .code-workspace file keeps its settings under "settings"
  if (uri.path.endsWith('.code-workspace')) {
    const settings = parsed.settings;
    return typeof settings === 'object' && settings !== null ? { scope, file, values: settings as Record<string, unknown> } : undefined;
  }
  return { scope, file, values: parsed };
}

/**
 * The settings files this extension host can read, with their values, including values VS Code ignores
 * (which `inspect()` never returns). User settings are found beside the extension's global storage
 * (`<user data>/User/globalStorage/<id>`): that is the real User settings file in a local window and in
 * code-server; in Remote-SSH or Codespaces the User file lives on the other machine and is simply absent here.
 * Profiles other than the default keep their User settings elsewhere; they are not read.
 */
export async function readSettingsFiles(globalStorageUri: vscode.Uri): Promise<SettingsFileValues[]> {
  const candidates: { uri: vscode.Uri; scope: SettingsScope }[] = [];
  if (globalStorageUri.scheme === 'file') candidates.push({ uri: vscode.Uri.joinPath(globalStorageUri, '..', '..', 'settings.json'), scope: 'user' });
  const workspaceFile = vscode.workspace.workspaceFile;
  if (workspaceFile && workspaceFile.scheme !== 'untitled') candidates.push({ uri: workspaceFile, scope: 'workspace' });
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    candidates.push({ uri: vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json'), scope: workspaceFile ? 'workspaceFolder' : 'workspace' });
  }
  const files = await Promise.all(candidates.map((c) => readSettingsFile(c.uri, c.scope)));
  return files.filter((f): f is SettingsFileValues => f !== undefined);
}

/** The words and the button for a setting without a usable value, after looking for values VS Code ignores. */
export async function describeMissingSetting(
  globalStorageUri: vscode.Uri,
  problem: string,
  query: SettingQuery,
  keys: readonly SettingKey[],
): Promise<{ message: string; tab: SettingsTab; button: string }> {
  const remoteName = vscode.env.remoteName;
  const misplaced = findMisplacedSettings(keys, await readSettingsFiles(globalStorageUri), remoteName);
  const tab = misplaced[0]?.moveTo ?? settingsTabFor(query, remoteName);
  return { message: missingSettingMessage(problem, keys, misplaced, remoteName), tab, button: openSettingsLabel(tab) };
}

/**
 * Tells the user a setting has no usable value (`problem`), says where an ignored value was found and where
 * it belongs, and offers to open the right Settings tab. Resolves once the user answered or dismissed it.
 */
export async function showMissingSetting(
  globalStorageUri: vscode.Uri,
  problem: string,
  query: SettingQuery,
  keys: readonly SettingKey[],
  options: { json?: boolean } = {},
): Promise<void> {
  const { message, button } = await describeMissingSetting(globalStorageUri, problem, query, keys);
  const choice = await vscode.window.showWarningMessage(message, button);
  if (choice === button) await openSettingsFor(query, options);
}
