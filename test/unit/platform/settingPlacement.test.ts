import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { machineScopedSettingKeys, settingsSection } from '../../../src/platform/ids';
import {
  findMisplacedSettings,
  missingSettingMessage,
  openSettingsLabel,
  parseSettingsJson,
  settingAppliesIn,
  settingsTabFor,
} from '../../../src/platform/settingPlacement';

interface Manifest {
  contributes: { configuration: { properties: Record<string, { scope?: string }> } };
}
const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as Manifest;

test('the machine-scoped keys are exactly the settings package.json contributes with scope "machine"', () => {
  const declared = Object.entries(manifest.contributes.configuration.properties)
    .filter(([, spec]) => spec.scope === 'machine')
    .map(([key]) => key)
    .sort();
  assert.deepEqual(machineScopedSettingKeys.map((k) => `${settingsSection}.${k}`).sort(), declared);
});

test('Open Settings opens the Remote tab for machine settings in a remote window, the User tab otherwise', () => {
  assert.equal(settingsTabFor('training.hosts', 'ssh-remote'), 'remote');
  assert.equal(settingsTabFor('training.hosts', undefined), 'user');
  // a group query with one machine setting in it (baseUrls) goes where that setting is editable
  assert.equal(settingsTabFor('endpoints.teacher', 'codespaces'), 'remote');
  assert.equal(settingsTabFor('review.reasonTaxonomy', 'ssh-remote'), 'user');
  assert.equal(settingsTabFor('endpoints.teacher.model', 'ssh-remote'), 'user');
  assert.equal(openSettingsLabel('remote'), 'Open Remote Settings');
  assert.equal(openSettingsLabel('user'), 'Open Settings');
});

test('VS Code applies a machine setting only from User settings locally and only from Remote settings remotely', () => {
  assert.equal(settingAppliesIn('training.hosts', 'user', undefined), true);
  assert.equal(settingAppliesIn('training.hosts', 'user', 'ssh-remote'), false);
  assert.equal(settingAppliesIn('training.hosts', 'remote', 'ssh-remote'), true);
  assert.equal(settingAppliesIn('training.hosts', 'workspace', undefined), false);
  assert.equal(settingAppliesIn('training.hosts', 'workspaceFolder', 'ssh-remote'), false);
  assert.equal(settingAppliesIn('review.reasonTaxonomy', 'workspace', 'ssh-remote'), true);
  assert.equal(settingAppliesIn('review.reasonTaxonomy', 'user', 'ssh-remote'), true);
});

const host = { name: 'gpu', host: 'gpu.example.org' };

test('hosts in User settings of a remote window are reported with the file and "move to Remote settings"', () => {
  const files = [
    { scope: 'user' as const, file: '/data/User/settings.json', values: { 'trajectoryStudio.training.hosts': [host], 'editor.fontSize': 14 } },
    { scope: 'workspace' as const, file: '/ws/.vscode/settings.json', values: {} },
  ];
  const misplaced = findMisplacedSettings(['training.hosts'], files, 'ssh-remote');
  assert.deepEqual(misplaced, [{ key: 'training.hosts', foundIn: 'user', file: '/data/User/settings.json', moveTo: 'remote' }]);
  const message = missingSettingMessage('No training host is configured yet.', ['training.hosts'], misplaced, 'ssh-remote');
  assert.match(message, /^No training host is configured yet\. trajectoryStudio\.training\.hosts is set in User settings \(\/data\/User\/settings\.json\)/);
  assert.match(message, /ignores it there in this remote window \(ssh-remote\)/);
  assert.match(message, /Move it to Remote settings\.$/);
  // the same file in a local window is where the value belongs: nothing to report
  assert.deepEqual(findMisplacedSettings(['training.hosts'], files, undefined), []);
});

test('machine settings in workspace settings are reported in local windows too, and empty values are not', () => {
  const files = [
    { scope: 'workspace' as const, file: '/ws/.vscode/settings.json', values: { 'trajectoryStudio.endpoints.teacher.baseUrls': ['http://h:8000/v1'], 'trajectoryStudio.training.hosts': [] } },
  ];
  const misplaced = findMisplacedSettings(['endpoints.teacher.baseUrls', 'training.hosts'], files, undefined);
  assert.deepEqual(misplaced, [{ key: 'endpoints.teacher.baseUrls', foundIn: 'workspace', file: '/ws/.vscode/settings.json', moveTo: 'user' }]);
  const message = missingSettingMessage('The teacher profile has no base URL.', ['endpoints.teacher.baseUrls'], misplaced, undefined);
  assert.match(message, /set in Workspace settings \(\/ws\/\.vscode\/settings\.json\), but VS Code never reads machine settings .* from workspace or folder settings/);
  assert.match(message, /Move it to User settings\.$/);
});

test('without a misplaced value, a remote window still says which tab counts; a local one keeps the plain problem', () => {
  assert.equal(missingSettingMessage('No training host is configured yet.', ['training.hosts'], [], undefined), 'No training host is configured yet.');
  assert.equal(
    missingSettingMessage('No training host is configured yet.', ['training.hosts'], [], 'ssh-remote'),
    'No training host is configured yet. In this remote window (ssh-remote) trajectoryStudio.training.hosts is read from Remote settings only; values in User settings are ignored.',
  );
  // only the machine settings of a group are named (the model name may live in User settings)
  assert.match(missingSettingMessage('The teacher profile has no base URL.', ['endpoints.teacher.baseUrls', 'endpoints.teacher.model'], [], 'ssh-remote'), /\) trajectoryStudio\.endpoints\.teacher\.baseUrls is read from Remote/);
  assert.equal(missingSettingMessage('x.', ['review.reasonTaxonomy'], [], 'ssh-remote'), 'x.');
});

test('settings files are read as JSONC: comments and trailing commas, with strings left intact', () => {
  const text = `{
    // hosts for training
    "trajectoryStudio.training.hosts": [ { "name": "a//b", "host": "x/*y*/", }, ],
    /* block */ "k": "comma, ]",
  }`;
  assert.deepEqual(parseSettingsJson(text), { 'trajectoryStudio.training.hosts': [{ name: 'a//b', host: 'x/*y*/' }], k: 'comma, ]' });
  assert.deepEqual(parseSettingsJson(''), {});
  assert.deepEqual(parseSettingsJson('{"a": "quote \\" // not a comment"}'), { a: 'quote " // not a comment' });
  assert.equal(parseSettingsJson('[1, 2]'), undefined);
  assert.equal(parseSettingsJson('{ broken'), undefined);
});
