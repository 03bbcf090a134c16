/**
 * Where a Trajectory Studio setting lives, and where VS Code ignores it. This module imports nothing from
 * `vscode` (like ids.ts) so the decisions are unit-tested under plain node; settings.ts applies them.
 *
 * VS Code's rules for a `"scope": "machine"` setting: a local window reads it from User settings; a remote
 * window (Remote-SSH, WSL, Codespaces, code-server: `env.remoteName` set) reads it from the Remote settings
 * of that machine only, and silently drops the User value; workspace and folder settings never apply it.
 * `inspect()` cannot see a dropped value, so callers read the settings files themselves to find it.
 */
import { machineScopedSettingKeys, type SettingKey, settingsSection } from './ids';

/** A settings file VS Code reads: the tabs of the Settings editor, plus folder settings in multi-root windows. */
export type SettingsScope = 'user' | 'remote' | 'workspace' | 'workspaceFolder';

/** The words the Settings editor uses for each scope. */
export const settingsScopeTitles: Readonly<Record<SettingsScope, string>> = {
  user: 'User settings',
  remote: 'Remote settings',
  workspace: 'Workspace settings',
  workspaceFolder: 'Folder settings',
};

/** The tabs our "Open Settings" buttons open. */
export type SettingsTab = 'user' | 'remote';

const machineScoped = new Set<SettingKey>(machineScopedSettingKeys);

/**
 * True when `query` (a setting key, or a prefix such as `endpoints.teacher`) names at least one machine-scoped
 * setting: those are only editable in Remote settings in a remote window.
 */
export function queryHasMachineSetting(query: string): boolean {
  return machineScopedSettingKeys.some((key) => key === query || key.startsWith(`${query}.`));
}

/** The Settings tab where `query`'s settings take effect in this window (`remoteName`: `vscode.env.remoteName`). */
export function settingsTabFor(query: string, remoteName: string | undefined): SettingsTab {
  return remoteName && queryHasMachineSetting(query) ? 'remote' : 'user';
}

/** Whether VS Code applies `key` written in `scope`, in a remote window or a local one. */
export function settingAppliesIn(key: SettingKey, scope: SettingsScope, remoteName: string | undefined): boolean {
  if (machineScoped.has(key)) return remoteName ? scope === 'remote' : scope === 'user';
  // Remote settings only exist (and are only read) in a remote window.
  return scope !== 'remote' || Boolean(remoteName);
}

/** The values one settings file holds, by full key (`trajectoryStudio.training.hosts`). */
export interface SettingsFileValues {
  scope: SettingsScope;
  /** The file's path or URI, for the message. */
  file: string;
  values: Readonly<Record<string, unknown>>;
}

/** A value VS Code ignores because it sits in a settings file that cannot hold it in this window. */
export interface MisplacedSetting {
  key: SettingKey;
  foundIn: SettingsScope;
  file: string;
  /** Where it takes effect in this window. */
  moveTo: SettingsTab;
}

/** An empty list or string changes nothing wherever it is, so it is not worth a warning. */
function isEmptyValue(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

/** The values of `keys` found in `files` that VS Code ignores in this window, in the order of `files`. */
export function findMisplacedSettings(keys: readonly SettingKey[], files: readonly SettingsFileValues[], remoteName: string | undefined): MisplacedSetting[] {
  const found: MisplacedSetting[] = [];
  for (const file of files) {
    for (const key of keys) {
      const value = file.values[`${settingsSection}.${key}`];
      if (isEmptyValue(value) || settingAppliesIn(key, file.scope, remoteName)) continue;
      found.push({ key, foundIn: file.scope, file: file.file, moveTo: settingsTabFor(key, remoteName) });
    }
  }
  return found;
}

/** Why VS Code ignores a value where it was found, in words for a notification. */
function whyIgnored(m: MisplacedSetting, remoteName: string | undefined): string {
  if (m.foundIn === 'user' && remoteName) return `VS Code ignores it there in this remote window (${remoteName}): it is a machine setting, read from the Remote settings of the machine the extension runs on`;
  if (m.foundIn === 'remote') return 'Remote settings are only read in a remote window';
  return 'VS Code never reads machine settings (what runs, where data goes) from workspace or folder settings, so a cloned repository cannot change them';
}

/**
 * The message for settings (`keys`) that have no usable value (`problem`, e.g. "No training host is configured."),
 * extended with where the ignored values were found and where to move them. Without misplaced values in a
 * remote window it still says which tab counts, since the usual mistake there cannot always be seen.
 */
export function missingSettingMessage(problem: string, keys: readonly SettingKey[], misplaced: readonly MisplacedSetting[], remoteName: string | undefined): string {
  const first = misplaced[0];
  if (first) {
    const keys = [...new Set(misplaced.map((m) => `${settingsSection}.${m.key}`))].join(', ');
    return `${problem} ${keys} ${misplaced.length === 1 ? 'is' : 'are'} set in ${settingsScopeTitles[first.foundIn]} (${first.file}), but ${whyIgnored(first, remoteName)}. Move ${misplaced.length === 1 ? 'it' : 'them'} to ${settingsScopeTitles[first.moveTo]}.`;
  }
  const remoteOnly = remoteName ? keys.filter((k) => machineScoped.has(k)) : [];
  if (remoteOnly.length) {
    const names = remoteOnly.map((k) => `${settingsSection}.${k}`).join(', ');
    return `${problem} In this remote window (${remoteName}) ${names} ${remoteOnly.length === 1 ? 'is' : 'are'} read from Remote settings only; values in User settings are ignored.`;
  }
  return problem;
}

/** The label of the button that opens the right tab. */
export function openSettingsLabel(tab: SettingsTab): string {
  return tab === 'remote' ? 'Open Remote Settings' : 'Open Settings';
}

/**
 * Parses a settings file: JSON with comments and trailing commas (VS Code's JSONC). Returns undefined when
 * the text is not an object even so; the caller then has nothing to report from that file.
 */
export function parseSettingsJson(text: string): Record<string, unknown> | undefined {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      // copy a string verbatim, escapes included, so "//" or "," inside it are left alone
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      // a comma followed only by whitespace (comments are already gone) and a closing bracket is a trailing comma
      if (c === '}' || c === ']') {
        const before = out.trimEnd();
        if (before.endsWith(',')) out = before.slice(0, -1);
      }
      out += c;
      i++;
    }
  }
  try {
    const value: unknown = JSON.parse(out.trim() === '' ? '{}' : out);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
