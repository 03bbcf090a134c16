import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observationTextOf } from '../../../src/trajectory/observationText';
import { type Observation } from '../../../src/trajectory/schema';
import { MISSING_CODE_BLOCK_TYPE } from '../../../src/trajectory/stepErrors';

// Imported and hand-edited steps carry no observation text; the export and the agent's replay rebuild it.
// Both must rebuild what the agent sent, so a student is trained on the turns it will see.

void test('a reply without a code block is rebuilt without a Call id line: nothing was run', () => {
  const observation: Observation = {
    printOutput: '',
    lastValue: 'None',
    webSearchCalls: [],
    error: { kind: 'parse', type: MISSING_CODE_BLOCK_TYPE, message: 'Your reply had no code block.' },
  };
  const text = observationTextOf(observation, 2);
  assert.doesNotMatch(text, /Call id/);
  assert.match(text, /^Error:\nYour reply had no code block\.\n/);
});

void test('a step that ran is rebuilt with its Call id, counting action steps from 1', () => {
  const observation: Observation = { printOutput: '6\n', lastValue: 'None', webSearchCalls: [] };
  assert.match(observationTextOf(observation, 2), /^Call id: call_3\nObservation:\nExecution logs:\n6\n/);
});

void test('the text recorded when the model saw it wins over any rebuilding', () => {
  const observation: Observation = { printOutput: '6\n', lastValue: 'None', webSearchCalls: [], text: 'as recorded' };
  assert.equal(observationTextOf(observation, 0, 'reference'), 'as recorded');
});
