import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { referenceRecordsFile } from '../support/referenceRecords';
import { openStudio, type Theme } from './support/studioSession';

// Import… as a user runs it: from the palette, through the open dialog, the domain question and the save
// dialog (VS Code's own dialogs in this web workbench), to the report of the skipped record and the new file
// in the trajectory editor. Once per theme, with screenshots of each step.

const sources: string[] = [];
after(() => {
  for (const s of sources) fs.rmSync(s, { recursive: true, force: true });
});

for (const theme of ['dark', 'light', 'high-contrast'] as Theme[]) {
  test(`Import… of reference records (${theme}): the skipped line is reported and the new file opens in the trajectory editor`, async () => {
    const source = fs.mkdtempSync(path.join(os.tmpdir(), 'import-ui-'));
    sources.push(source);
    fs.mkdirSync(path.join(source, 'data'));
    const { text, badLine, good } = referenceRecordsFile();
    fs.writeFileSync(path.join(source, 'data', 'teacher-records.jsonl'), text);

    const studio = await openStudio({ name: 'import-data', theme, workspace: source });
    try {
      const { page, workspace } = studio;
      const input = path.join(workspace, 'data', 'teacher-records.jsonl');
      const output = path.join(workspace, 'data', 'teacher-records.traj.jsonl');

      await studio.runCommand('Trajectory Studio: Import…');
      await studio.answerFileDialog('reference records (JSONL with log_data)', { file: input });

      // the records do not say their domain: the question offers the guess and both domains, with counts
      const domain = page.locator('.quick-input-widget', { hasText: '2 records do not say their domain' });
      await domain.waitFor({ timeout: 15000 });
      const rows = domain.locator('.quick-input-list .monaco-list-row');
      assert.match((await rows.filter({ hasText: 'Guess from each answer' }).textContent()) ?? '', /math for 2, factual for 0/);
      await studio.screenshot('domain');
      // (the Math row by its description: "math for 2" in the guess row would match its label too)
      await rows.filter({ hasText: 'all 2 as math questions' }).click();

      // the save dialog suggests a new .traj.jsonl beside the input
      const suggested = await studio.answerFileDialog('where to write 2 trajectories', { suggestedEnd: '.traj.jsonl' });
      assert.equal(suggested, output);

      // the report names the skipped line and why, in a read-only document
      const tab = page.locator('.tabs-container .tab', { hasText: 'Import of teacher-records.jsonl.md' });
      await tab.waitFor({ timeout: 15000 });
      const reportLines = page.locator('.editor-instance .view-lines', { hasText: 'log_data' }).first();
      await reportLines.waitFor({ timeout: 15000 });
      const reportText = ((await reportLines.textContent()) ?? '').replace(/\u00a0/g, ' ');
      assert.match(reportText, new RegExp(`teacher-records\\.jsonl, line ${badLine} \\(field \`log_data\`\\): is a string but not JSON`), reportText);
      assert.match(reportText, /imported: 2 trajectories/, reportText);
      assert.match(reportText, /domain: math for the 2 records that do not say theirs \(chosen\)/, reportText);

      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Imported 2 trajectories from teacher-records.jsonl into teacher-records.traj.jsonl' });
      await toast.waitFor({ timeout: 15000 });
      assert.match((await toast.textContent()) ?? '', /1 record skipped \(the report says why\)\. Teacher filter \(studio\): 1 of 2 kept/);
      // hovering waits until the toast has stopped sliding in (Playwright checks it is stable), so the shot shows it settled
      await toast.hover();
      await studio.screenshot('report');

      await toast.getByRole('button', { name: 'Open', exact: true }).click();
      const editor = await studio.findWebview('.row', { hasText: good[0].question, timeout: 60000 });
      await editor.locator('.row', { hasText: good[1].question }).waitFor({ timeout: 15000 });
      assert.equal(await editor.locator('.row').count(), 2, 'both imported trajectories are listed, and only they');
      await page.locator('.tabs-container .tab.active', { hasText: 'teacher-records.traj.jsonl' }).waitFor({ timeout: 15000 });
      await studio.screenshot('opened');

      // only the chosen file was written
      assert.deepEqual(fs.readdirSync(path.join(workspace, 'data')).sort(), ['teacher-records.jsonl', 'teacher-records.traj.jsonl']);
    } finally {
      await studio.close();
    }
  });
}
