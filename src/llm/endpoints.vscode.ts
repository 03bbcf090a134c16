import * as vscode from 'vscode';
import { registerStudioCommand } from '../platform/commands';
import { CommandIds } from '../platform/ids';
import { type StudioServices } from '../platform/services';
import { type StudioSecrets } from '../platform/secrets';
import { openSettingsButton, openSettingsFor, readSetting, showMissingSetting } from '../platform/settings';
import { type ApiKeyProvider, type EndpointProfile, type EndpointRole, endpointRoles } from './profiles';
import { endpointProfileFromSettings } from '../runs/runEnvironment';
import { formatConnectionReport, testConnection } from './testConnection';

function isRole(name: string): name is EndpointRole {
  return (endpointRoles as readonly string[]).includes(name);
}

/** A role's endpoint profile from the `trajectoryStudio.endpoints.<role>.*` settings (the key stays in SecretStorage). */
export function readEndpointProfile(role: EndpointRole): EndpointProfile {
  return endpointProfileFromSettings(readSetting, role);
}

/** API keys from SecretStorage (`apiKey.<role>`); profiles with other names have none. */
export function secretApiKeys(secrets: StudioSecrets): ApiKeyProvider {
  return async (profileName) => (isRole(profileName) ? await secrets.get(`apiKey.${profileName}`) : undefined);
}

async function pickRole(title: string, given: unknown): Promise<EndpointRole | undefined> {
  if (typeof given === 'string' && isRole(given)) return given;
  const picked = await vscode.window.showQuickPick(
    endpointRoles.map((role) => ({ label: role, description: readEndpointProfile(role).model, detail: readEndpointProfile(role).baseUrls.join(', ') || 'no base URL set' })),
    { title, placeHolder: 'Which endpoint profile?' },
  );
  return picked?.label;
}

/** Registers "Test Connection" and "Set API Key" for the teacher, student and judge profiles. */
export function registerEndpointCommands(services: StudioServices): void {
  const { context, log, secrets } = services;

  registerStudioCommand(context, log, CommandIds.testEndpointConnection, 'Test Connection', async (roleArg?: unknown) => {
    const role = await pickRole('Test Connection', roleArg);
    if (!role) return undefined;
    const profile = readEndpointProfile(role);
    if (profile.baseUrls.length === 0) {
      await showMissingSetting(context.globalStorageUri, `The ${role} profile has no base URL.`, `endpoints.${role}`, [`endpoints.${role}.baseUrls`]);
      return undefined;
    }
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Testing the ${role} endpoint…`, cancellable: true },
      async (_progress, token) => {
        const controller = new AbortController();
        const sub = token.onCancellationRequested(() => controller.abort(new Error('cancelled')));
        try {
          return await testConnection(profile, secretApiKeys(secrets), controller.signal);
        } finally {
          sub.dispose();
        }
      },
    );
    log.info(formatConnectionReport(report).trimEnd());
    if (report.ok) {
      const latency = Math.max(...report.checks.map((c) => c.latencyMs ?? 0));
      void vscode.window.showInformationMessage(`${role}: ${report.checks.length} server(s) answered in at most ${Math.round(latency)} ms and serve "${profile.model}".`);
    } else {
      const firstError = report.checks.find((c) => !c.ok)?.error ?? 'failed';
      // Not awaited: the command resolves with the report at once (callers and tests get it), the buttons act later.
      const openSettings = openSettingsButton(`endpoints.${role}`);
      void vscode.window.showErrorMessage(`${role}: ${firstError}`, 'Show Log', 'Set API Key', openSettings).then(async (choice) => {
        if (choice === 'Show Log') log.show();
        if (choice === 'Set API Key') await vscode.commands.executeCommand(CommandIds.setEndpointApiKey, role);
        if (choice === openSettings) await openSettingsFor(`endpoints.${role}`);
      });
    }
    return report;
  });

  registerStudioCommand(context, log, CommandIds.setEndpointApiKey, 'Set API Key', async (roleArg?: unknown) => {
    const role = await pickRole('Set API Key', roleArg);
    if (!role) return;
    const value = await vscode.window.showInputBox({
      title: `API key of the ${role} endpoint`,
      prompt: 'Stored in VS Code\'s secret storage, never in settings or files. Leave empty to remove the key.',
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined) return;
    if (value.trim() === '') {
      await secrets.delete(`apiKey.${role}`);
      void vscode.window.showInformationMessage(`The ${role} API key was removed.`);
    } else {
      await secrets.store(`apiKey.${role}`, value.trim());
      void vscode.window.showInformationMessage(`The ${role} API key was saved.`);
    }
  });
}
