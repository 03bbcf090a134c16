import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { type FakeModelServer, scriptedAgent, startFakeModelServer } from '../support/fakeModelServer';
import { openStudio, type StudioSession } from './support/studioSession';

// Verdicts that follow the data, the generation filter's verdict, and a list whose counts tell the truth:
// one code-server session on a small generated file (as a teacher run writes it, with `meta.teacherFilter`),
// edited, re-executed and continued the way an annotator would.

let studio: StudioSession;
let workspaceSource: string;
let view: FrameLocator;
let teacher: FakeModelServer;

const eiffel = 'In which year was the Eiffel Tower completed?';
const height = 'How tall is the Eiffel Tower in metres?';

function step(thought: string, code: string, observation: Record<string, unknown>): Record<string, unknown> {
  return { thought, code, modelOutput: `Thought: ${thought}\nCode:\n\`\`\`py\n${code}\n\`\`\`<end_code>`, observation: { lastValue: 'None', webSearchCalls: [], ...observation } };
}

function record(id: string, task: Record<string, unknown>, steps: Record<string, unknown>[], rest: Record<string, unknown>): string {
  return JSON.stringify({ schema: 1, id, task, origin: { kind: 'teacher', model: 'teacher-model', endpoint: 'teacher' }, steps, ...rest });
}

const passed = { teacherFilter: { verdict: 'correct', accepted: true, reason: 'correct answer' } };
const lines = [
  record(
    'squares',
    { id: 'math-squares', question: 'What is the sum of the squares of 1, 2 and 3?', goldAnswer: '14', domain: 'math' },
    [step('I add the squares.', 'total = 1 + 4 + 9\nprint(total)', { printOutput: '14\n' }), step('The sum is 14.', 'final_answer(total)', { printOutput: '', finalAnswer: '14' })],
    { finalAnswer: '14', judgement: { correct: true, method: 'math-equivalence', detail: 'numeric: 14 equals 14' }, meta: passed },
  ),
  record(
    'eiffel',
    { id: 'factual-eiffel', question: eiffel, goldAnswer: '1889', domain: 'factual' },
    [step('I recall the opening year.', 'year = 1887\nprint(year)', { printOutput: '1887\n' }), step('It opened in 1887.', 'final_answer(str(year))', { printOutput: '', finalAnswer: '1887' })],
    { finalAnswer: '1887', judgement: { correct: false, method: 'llm-judge', detail: 'llm-judge: 1887 is when construction began' }, meta: passed },
  ),
  record(
    'parse-dropped',
    { id: 'math-cubes', question: 'What is 2 cubed?', goldAnswer: '8', domain: 'math' },
    [
      step('Cube it.', 'print(2 **)', { printOutput: '', error: { kind: 'parse', type: 'SyntaxError', message: 'invalid syntax' } }),
      step('Again, without the typo.', 'final_answer(2 ** 3)', { printOutput: '', finalAnswer: '8' }),
    ],
    { finalAnswer: '8', judgement: { correct: true, method: 'math-equivalence' }, meta: { teacherFilter: { verdict: 'parse-error', accepted: false, reason: 'correct answer, but the code did not parse in step 1' } } },
  ),
  record(
    'apples',
    { id: 'math-apples', question: 'How many apples are left after eating 2 of 5?', goldAnswer: '3', domain: 'math' },
    [step('Subtract.', 'final_answer(5 - 2)', { printOutput: '', finalAnswer: '3' })],
    { finalAnswer: '3', judgement: { correct: true, method: 'math-equivalence' }, meta: passed },
  ),
  record(
    'pears',
    { id: 'math-pears', question: 'How many pears are left after eating 1 of 4?', goldAnswer: '3', domain: 'math' },
    [step('Subtract.', 'final_answer(4 - 1)', { printOutput: '', finalAnswer: '3' })],
    { finalAnswer: '3', judgement: { correct: true, method: 'math-equivalence' }, meta: passed },
  ),
  record(
    'height',
    { id: 'factual-height', question: height, goldAnswer: '330', domain: 'factual' },
    [step('I recall the height.', 'h = 330\nprint(h)', { printOutput: '330\n' }), step('It is 330 m.', 'final_answer(str(h))', { printOutput: '', finalAnswer: '330' })],
    { finalAnswer: '330', judgement: { correct: true, method: 'llm-judge' }, meta: passed },
  ),
];

before(async () => {
  // The teacher that continues the Eiffel trajectory after step 1 over real HTTP; no judge model is configured.
  teacher = await startFakeModelServer({
    models: ['teacher-model'],
    script: scriptedAgent({
      [eiffel]: {
        steps: [
          { thought: 'not used: step 1 is kept', code: 'print(0)' },
          { thought: 'The tower was completed in March 1889, not 1887.', code: 'final_answer("1889")' },
        ],
      },
      // An answer only a judge model can compare with the gold: none is configured, so it needs judging.
      [height]: {
        steps: [
          { thought: 'not used: step 1 is kept', code: 'print(0)' },
          { thought: 'With the antennas it is about 330 metres.', code: 'final_answer("about 330 metres including antennas")' },
        ],
      },
    }),
  });
  workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'traj-verdicts-ui-'));
  fs.writeFileSync(path.join(workspaceSource, 'generated.traj.jsonl'), `${lines.join('\n')}\n`);
  studio = await openStudio({
    name: 'trajectory-verdicts',
    theme: 'dark',
    workspace: workspaceSource,
    settings: { 'files.autoSave': 'off', 'trajectoryStudio.endpoints.teacher.model': 'teacher-model' },
    machineSettings: { 'trajectoryStudio.endpoints.teacher.baseUrls': [teacher.baseUrl] },
  });
});
after(async () => {
  await studio?.close();
  await teacher?.close();
  fs.rmSync(workspaceSource, { recursive: true, force: true });
});

async function openFile(): Promise<FrameLocator> {
  return studio.openTrajectoryFile('generated.traj.jsonl');
}

async function selectRow(text: string): Promise<void> {
  await view.locator('.row', { hasText: text }).first().click();
  await view.locator('.trajectory-header .question', { hasText: text }).waitFor({ timeout: 15000 });
}

const status = () => view.locator('.list-status');

test('the status line counts the file, the people\'s review and the generation filter apart', async () => {
  view = await openFile();
  await status().filter({ hasText: '6 shown · 6 in file' }).waitFor({ timeout: 30000 });
  const text = await status().innerText();
  assert.match(text, /review: 6 unreviewed, 0 accepted, 0 rejected/);
  assert.match(text, /filter: 5 passed, 1 dropped/);
});

test('the filter\'s verdict is in the header and the list, in other words than a person\'s review', async () => {
  await selectRow('What is 2 cubed?');
  await view.locator('.trajectory-header .filter-line.filter-dropped', { hasText: 'dropped by the filter: correct answer, but the code did not parse in step 1' }).waitFor();
  await view.locator('.trajectory-header .review-line', { hasText: 'unreviewed' }).waitFor();
  // a dropped record is not a plain green "correct"
  await view.locator('.trajectory-header .badge.verdict-correct.verdict-muted').waitFor();
  const row = view.locator('.row', { hasText: 'What is 2 cubed?' });
  await row.locator('.badge.filter-dropped', { hasText: 'dropped by filter' }).waitFor();
  assert.equal(await row.locator('.badge.verdict-correct.verdict-muted').count(), 1);
  await studio.screenshot('filter-dropped');
  await selectRow('apples are left');
  await view.locator('.trajectory-header .filter-line.filter-passed', { hasText: 'passed the filter' }).waitFor();
  assert.equal(await view.locator('.row', { hasText: 'apples are left' }).locator('.filter-passed[aria-label="passed the filter"]').count(), 1);
});

test('the shown count follows the filters and the search; a search without hits says so and offers a way back', async () => {
  const filter = view.locator('select[aria-label="Generation filter"]');
  await filter.selectOption('dropped');
  await status().filter({ hasText: '1 shown · 6 in file' }).waitFor({ timeout: 10000 });
  assert.equal(await view.locator('.row').count(), 1);
  await filter.selectOption('passed');
  await status().filter({ hasText: '5 shown · 6 in file' }).waitFor({ timeout: 10000 });
  await view.locator('select[aria-label="Domain"]').selectOption('factual');
  await status().filter({ hasText: '2 shown · 6 in file' }).waitFor({ timeout: 10000 });
  await view.locator('select[aria-label="Domain"]').selectOption('');
  await filter.selectOption('');
  await status().filter({ hasText: '6 shown · 6 in file' }).waitFor({ timeout: 10000 });

  const search = view.locator('vscode-textfield.search input');
  await search.fill('left');
  await status().filter({ hasText: '2 shown · 6 in file' }).waitFor({ timeout: 10000 });
  await search.fill('zeppelin');
  await status().filter({ hasText: '0 shown · 6 in file' }).waitFor({ timeout: 10000 });
  await view.locator('.list-empty', { hasText: 'No trajectory matches "zeppelin"' }).waitFor();
  assert.equal(await view.locator('.row').count(), 0);
  await studio.screenshot('empty-search');
  await view.locator('.list-empty button.clear-filters').click();
  await status().filter({ hasText: '6 shown · 6 in file' }).waitFor({ timeout: 10000 });
  assert.equal(await view.locator('.list-empty').isHidden(), true);
});

test('re-executing an edited answer step that now raises leaves no answer and no "correct" verdict', async () => {
  await selectRow('sum of the squares');
  await view.locator('.trajectory-header .badge.verdict-correct', { hasText: 'correct' }).waitFor();
  const last = view.locator('.step[data-step="1"]');
  await last.locator('button.action', { hasText: 'Edit' }).click();
  const code = view.locator('textarea.edit-code');
  await code.waitFor();
  await code.fill('final_answer(totl)');
  await view.locator('vscode-button.save-edit').click();
  await view.locator('.step[data-step="1"] .code', { hasText: 'totl' }).waitFor({ timeout: 10000 });
  await view.locator('.step[data-step="1"] button.action', { hasText: 'Re-execute' }).click();
  await view.locator('.run-bar', { hasText: 'end without a final answer' }).waitFor({ timeout: 90000 });
  await view.locator('.step[data-step="1"] .error-box', { hasText: 'NameError' }).waitFor({ timeout: 15000 });
  await view.locator('.trajectory-header .badge', { hasText: 'no answer' }).waitFor({ timeout: 15000 });
  assert.equal((await view.locator('.trajectory-header .final').innerText()).trim(), '—');
  assert.equal(await view.locator('.trajectory-header .verdict-correct').count(), 0, 'the header no longer says correct');
  const row = view.locator('.row', { hasText: 'sum of the squares' });
  assert.equal(await row.locator('.verdict-correct').count(), 0, 'nor does the list');
  await view.locator('select[aria-label="Verdict"]').selectOption('correct');
  await status().filter({ hasText: '4 shown · 6 in file' }).waitFor({ timeout: 10000 });
  await view.locator('select[aria-label="Verdict"]').selectOption('');
  await status().filter({ hasText: '6 shown · 6 in file' }).waitFor({ timeout: 10000 });
  await studio.screenshot('reexecuted-no-answer');
});

test('continuing with the teacher judges the new answer: it matches the gold, so it is correct', async () => {
  await selectRow('Eiffel Tower completed');
  await view.locator('.trajectory-header .badge.verdict-incorrect').waitFor();
  await view.locator('.step[data-step="0"] button.action', { hasText: 'Continue' }).click();
  await view.locator('.run-bar', { hasText: 'The teacher finished' }).waitFor({ timeout: 90000 });
  await view.locator('.run-bar', { hasText: 'Final answer "1889": correct' }).waitFor();
  await view.locator('.trajectory-header .final', { hasText: '1889' }).waitFor({ timeout: 15000 });
  await view.locator('.trajectory-header .badge.verdict-correct', { hasText: 'correct' }).waitFor({ timeout: 15000 });
  await view.locator('.trajectory-header .judgement-detail', { hasText: 'judge model was not needed' }).waitFor();
  await view.locator('.row', { hasText: 'Eiffel Tower completed' }).locator('.badge.verdict-correct').waitFor({ timeout: 10000 });
  await studio.screenshot('continued-judged');
});

test('a new answer that needs the judge model, with none configured, is marked "needs judging" instead of keeping "correct"', async () => {
  await selectRow('How tall is the Eiffel Tower');
  await view.locator('.trajectory-header .badge.verdict-correct').waitFor();
  await view.locator('.step[data-step="0"] button.action', { hasText: 'Continue' }).click();
  await view.locator('.run-bar', { hasText: 'needs judging' }).waitFor({ timeout: 90000 });
  await view.locator('.trajectory-header .final', { hasText: 'about 330 metres' }).waitFor({ timeout: 15000 });
  await view.locator('.trajectory-header .badge.verdict-needs-judging', { hasText: 'needs judging' }).waitFor({ timeout: 15000 });
  await view.locator('.trajectory-header .needs-judging-note', { hasText: 'no judge model is configured' }).waitFor();
  assert.equal(await view.locator('.trajectory-header .verdict-correct').count(), 0);
  await view.locator('select[aria-label="Verdict"]').selectOption('needs-judging');
  await status().filter({ hasText: '1 shown · 6 in file' }).waitFor({ timeout: 10000 });
  await view.locator('.row', { hasText: 'How tall is the Eiffel Tower' }).locator('.badge.verdict-needs-judging').waitFor();
  await studio.screenshot('needs-judging');
  await view.locator('select[aria-label="Verdict"]').selectOption('');
});
