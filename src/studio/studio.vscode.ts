import * as vscode from 'vscode';
import { CommandIds, WalkthroughId } from '../platform/ids';
import { registerStudioCommand } from '../platform/commands';
import { type StudioServices } from '../platform/services';
import { describeRuntime } from '../environment/runtime';
import { openSettingsFor, readSetting, type SettingQuery } from '../platform/settings';
import { showReadOnlyDocument } from '../platform/readOnlyDocuments';
import { settingKeys } from '../platform/ids';

/** Studio-wide commands: the walkthrough, the log, the environment report. */
export function registerStudioCommands(services: StudioServices): void {
  const { context, log } = services;
  registerStudioCommand(context, log, CommandIds.openWalkthrough, 'Open the Walkthrough', () =>
    vscode.commands.executeCommand('workbench.action.openWalkthrough', WalkthroughId, false),
  );
  registerStudioCommand(context, log, CommandIds.showLog, 'Show Log', () => log.show());
  registerStudioCommand(context, log, CommandIds.showEnvironment, 'Show Environment Report', async () => {
    const lines = [
      '# Trajectory Studio environment',
      '',
      `- Runtime: ${describeRuntime()}`,
      `- VS Code: ${vscode.version} (${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'}${vscode.env.remoteName ? `, remote: ${vscode.env.remoteName}` : ''})`,
      `- Workspace trust: ${vscode.workspace.isTrusted ? 'trusted' : 'restricted mode: viewing and review only, no code runs'}`,
    ];
    // The sandbox module is loaded on first use, not at activation.
    const sandbox = await import('../sandbox/index');
    const interpreter = readSetting('python.interpreter');
    const report = await sandbox.describeSandboxEnvironment({ interpreter: interpreter || undefined, isolation: readSetting('sandbox.isolation') });
    lines.push('', '```text', sandbox.formatSandboxEnvironment(report).trimEnd(), '```');
    // read-only: a report is regenerated, never edited, so it must not ask to be saved when closed
    await showReadOnlyDocument(context, 'Environment Report.md', `${lines.join('\n')}\n`, 'markdown');
    return lines.join('\n');
  });
  // For links in views and walkthroughs: `command:trajectoryStudio.openSettings?["training.hosts"]` opens the
  // Settings tab where the setting applies (Remote settings for machine settings in a remote window).
  registerStudioCommand(context, log, CommandIds.openSettings, 'Open Settings', async (query?: unknown, json?: unknown) => {
    const q = isSettingQuery(query) ? query : undefined;
    if (q) await openSettingsFor(q, { json: json === true });
    // all of the studio's settings: in a remote window the Remote tab, where its machine settings (endpoints, hosts) apply
    else await vscode.commands.executeCommand(vscode.env.remoteName ? 'workbench.action.openRemoteSettings' : 'workbench.action.openSettings', { query: '@ext:trajectory-studio.trajectory-studio' });
  });
}

function isSettingQuery(value: unknown): value is SettingQuery {
  return typeof value === 'string' && ((settingKeys as readonly string[]).includes(value) || /^endpoints\.(teacher|student|judge)$/.test(value));
}
