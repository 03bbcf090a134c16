import * as vscode from 'vscode';
import { CommandIds, type SettingKey } from '../platform/ids';
import { type StudioServices } from '../platform/services';
import { onSettingsChanged, readSetting } from '../platform/settings';
import { type EpisodeOptions } from './prepare';
import { sandboxOptionsFromSettings as sandboxOptionsFrom } from '../runs/runEnvironment';

const sandboxSettings: readonly SettingKey[] = ['python.interpreter', 'sandbox.isolation', 'sandbox.stepTimeoutSeconds', 'sandbox.memoryLimitMb'];

/** Episode options from the user's settings (interpreter, isolation, CPU budget, memory limit). */
export function sandboxOptionsFromSettings(): EpisodeOptions {
  return sandboxOptionsFrom(readSetting);
}

/**
 * A status bar item that stays visible while model code would run with weaker isolation than bubblewrap
 * (resource limits only), when the setting refuses to run at all, or when the interpreter lacks numpy or
 * sympy. Clicking it opens the environment report. The probe runs shortly after activation, off its
 * critical path, and again when a sandbox setting changes; nothing is probed in an untrusted workspace.
 */
export function registerSandboxStatus(services: StudioServices): void {
  const { context, log } = services;
  const item = vscode.window.createStatusBarItem('trajectoryStudio.sandboxIsolation', vscode.StatusBarAlignment.Left, 0);
  item.name = 'Trajectory Studio: Python sandbox';
  item.command = CommandIds.showEnvironment;
  context.subscriptions.push(item);
  let generation = 0;
  let lastWarning = '';

  const refresh = async (): Promise<void> => {
    if (!vscode.workspace.isTrusted) return;
    const mine = ++generation;
    const { describeSandboxEnvironment } = await import('./environmentReport');
    const options = sandboxOptionsFromSettings();
    const report = await describeSandboxEnvironment({ interpreter: options.interpreter, isolation: options.isolation });
    if (mine !== generation) return; // a newer settings change is being probed
    const missing = report.interpreter.ok ? report.interpreter.info.missing : [];
    const problems: string[] = [];
    if (report.warning) problems.push(report.warning);
    if (!report.interpreter.ok) problems.push(report.interpreter.error);
    else if (missing.length) problems.push(`The Python interpreter ${report.interpreter.info.executable} lacks ${missing.join(' and ')}.`);
    if (problems.length === 0) {
      item.hide();
      return;
    }
    const refused = report.isolation === 'refused' || !report.interpreter.ok;
    item.text = refused ? '$(error) Python sandbox: not runnable' : report.isolation === 'rlimits' ? '$(warning) Python sandbox: no isolation' : '$(warning) Python sandbox';
    item.backgroundColor = new vscode.ThemeColor(refused ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
    const tooltip = new vscode.MarkdownString();
    for (const line of [...problems, ...report.gaps.map((gap) => `Gap: ${gap}`)]) tooltip.appendText(`${line}\n\n`);
    tooltip.appendText('Click for the environment report.');
    item.tooltip = tooltip;
    item.show();
    const summary = problems.join(' ');
    if (summary !== lastWarning) {
      lastWarning = summary;
      log.warn(`sandbox: ${summary}`);
    }
  };
  const refreshLogged = (): void => {
    refresh().catch((err: unknown) => log.error(`sandbox: environment probe failed: ${err instanceof Error ? err.message : String(err)}`));
  };
  const timer = setTimeout(refreshLogged, 2000);
  context.subscriptions.push(
    { dispose: () => clearTimeout(timer) },
    onSettingsChanged(sandboxSettings, refreshLogged),
    vscode.workspace.onDidGrantWorkspaceTrust(refreshLogged),
  );
}
