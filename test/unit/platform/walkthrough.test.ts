import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

// Every command a walkthrough step links to must exist: a link to a command that is not contributed does
// nothing when a new user clicks it, with no error anywhere.

const root = path.resolve(import.meta.dirname, '../../..');

interface WalkthroughStep {
  id: string;
  description: string;
  media?: { markdown?: string; image?: string };
}
interface PackageJson {
  contributes: {
    commands: { command: string }[];
    viewsContainers?: Record<string, { id: string }[]>;
    walkthroughs: { id: string; steps: WalkthroughStep[] }[];
  };
}

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;
const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
const containers = new Set(Object.values(pkg.contributes.viewsContainers ?? {}).flatMap((list) => list.map((c) => c.id)));

/** `command:` links in markdown text; arguments after `?` are not part of the id. */
function commandLinks(text: string): string[] {
  return [...text.matchAll(/\(command:([A-Za-z0-9_.-]+)(?:\?[^)]*)?\)/g)].map((m) => m[1]);
}

/** A link the user can follow: a command the extension contributes, or the view container it opens. */
function linkProblem(id: string): string | undefined {
  if (id.startsWith('trajectoryStudio.')) return contributed.has(id) ? undefined : 'is not a contributed command';
  const view = /^workbench\.view\.extension\.(.+)$/.exec(id);
  if (view) return containers.has(view[1]) ? undefined : `opens a view container "${view[1]}" that package.json does not contribute`;
  return 'is neither a studio command nor a studio view container';
}

void test('every command a walkthrough step or its page links to is contributed', () => {
  const problems: string[] = [];
  let links = 0;
  for (const walkthrough of pkg.contributes.walkthroughs) {
    for (const step of walkthrough.steps) {
      const sources: [string, string][] = [[`${walkthrough.id}/${step.id} description`, step.description]];
      if (step.media?.markdown) sources.push([step.media.markdown, readFileSync(path.join(root, step.media.markdown), 'utf8')]);
      for (const [where, text] of sources) {
        for (const id of commandLinks(text)) {
          links++;
          const problem = linkProblem(id);
          if (problem) problems.push(`${where}: command:${id} ${problem}`);
        }
      }
    }
  }
  assert.ok(links >= pkg.contributes.walkthroughs.reduce((n, w) => n + w.steps.length, 0), 'each step links to at least one command');
  assert.deepEqual(problems, []);
});

void test('the link check notices a command that does not exist', () => {
  assert.deepEqual(commandLinks('[Export](command:trajectoryStudio.noSuchCommand) and [View](command:workbench.view.extension.trajectoryStudio)'), [
    'trajectoryStudio.noSuchCommand',
    'workbench.view.extension.trajectoryStudio',
  ]);
  assert.match(linkProblem('trajectoryStudio.noSuchCommand') ?? '', /not a contributed command/);
  assert.equal(linkProblem('workbench.view.extension.trajectoryStudio'), undefined);
});

void test('every walkthrough page a step shows exists', () => {
  for (const walkthrough of pkg.contributes.walkthroughs) {
    for (const step of walkthrough.steps) {
      const file = step.media?.markdown ?? step.media?.image;
      if (file) assert.doesNotThrow(() => readFileSync(path.join(root, file)), `${walkthrough.id}/${step.id}: ${file} is missing`);
    }
  }
});
