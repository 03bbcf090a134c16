import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatErrorObservation,
  formatErrorText,
  formatObservation,
  LAST_VALUE_LIMIT,
  PRINT_OUTPUT_LIMIT,
  RETRY_INSTRUCTION,
  truncateHeadTail,
  voteOutputOf,
} from '../../../src/trajectory/observationFormat';
import { type ExecOutcome } from '../../../src/sandbox/types';

function outcome(fields: Partial<ExecOutcome>): ExecOutcome {
  return { printOutput: '', printedChars: 0, lastValue: 'None', webSearchCalls: [], durationMs: 1, ...fields };
}

void describe('observation text', () => {
  void it('renders a successful step in the reference shape with the call number', () => {
    const prints = 'a\nb\n';
    const text = formatObservation(outcome({ printOutput: prints, lastValue: '42' }), 3);
    assert.equal(text, `Call id: call_3\nObservation:\nExecution logs:\n${prints}Last output from code snippet:\n42`);
  });

  void it('renders an execution error with the failing statement, the exception and a retry instruction', () => {
    const error = { kind: 'execution' as const, type: 'ZeroDivisionError', message: 'division by zero', statement: 'y = 1/0', line: 2 };
    const text = formatObservation(outcome({ error }), 2);
    assert.equal(text, `Call id: call_2\nError:\nCode execution failed at line '${error.statement}' due to: ${error.type}: ${error.message}\n${RETRY_INSTRUCTION}\n`);
  });

  void it('shows what the step printed before an execution error, as the reference does', () => {
    const error = { kind: 'execution' as const, type: 'KeyError', message: "'k'", statement: "d['k']" };
    const text = formatObservation(outcome({ printOutput: 'before\n', error }), 1);
    assert.ok(text.startsWith('Call id: call_1\nObservation:\nExecution logs:\nbefore\nCall id: call_1\nError:\n'));
  });

  void it('renders a parse error with a Call id line, a caret under the column, and without any earlier output', () => {
    const error = { kind: 'parse' as const, type: 'SyntaxError', message: 'invalid syntax (<unknown>, line 4)', line: 4, statement: 'def f(:' };
    const text = formatErrorObservation({ printOutput: 'stale output from before\n', error, syntaxError: { text: 'def f(:\n', offset: 7 } }, 5);
    assert.equal(text, `Call id: call_5\nError:\nCode parsing failed on line 4 due to: SyntaxError\ndef f(:\n      ^\nError: ${error.message}\n${RETRY_INSTRUCTION}\n`);
    assert.ok(!text.includes('stale output'));
  });

  void it('under the reference profile, indents the caret by the offset and pastes the line as Python gave it', () => {
    const error = { kind: 'parse' as const, type: 'SyntaxError', message: "'(' was never closed (<unknown>, line 2)", line: 2, statement: 'y = (' };
    // local_python_executor.py:1546-1553: `{e.text}{' ' * offset}^`, so a line without its newline gets the caret glued on.
    assert.equal(
      formatErrorText(error, { text: 'y = (', offset: 5 }, { compatibility: 'reference' }),
      `Code parsing failed on line 2 due to: SyntaxError\ny = (     ^\nError: ${error.message}`,
    );
    assert.equal(
      formatErrorText(error, { text: 'y = (\n', offset: 5 }, { compatibility: 'reference' }),
      `Code parsing failed on line 2 due to: SyntaxError\ny = (\n     ^\nError: ${error.message}`,
    );
    // Python gave no line: the reference prints `None` there.
    assert.equal(formatErrorText(error, { offset: 5 }, { compatibility: 'reference' }), `Code parsing failed on line 2 due to: SyntaxError\nNone     ^\nError: ${error.message}`);
  });

  void it('keeps tabs in the studio caret line so the caret lines up with tab-indented code', () => {
    const error = { kind: 'parse' as const, type: 'SyntaxError', message: 'invalid syntax', line: 1 };
    assert.equal(formatErrorText(error, { text: '\tx = 5 $ 3\n', offset: 8 }), 'Code parsing failed on line 1 due to: SyntaxError\n\tx = 5 $ 3\n\t      ^\nError: invalid syntax');
  });

  void it('omits the caret line when the position is unknown (a stored error without it)', () => {
    const error = { kind: 'parse' as const, type: 'SyntaxError', message: 'invalid syntax', line: 3, statement: 'x = = 1' };
    assert.equal(formatErrorText(error), 'Code parsing failed on line 3 due to: SyntaxError\nx = = 1\nError: invalid syntax');
    assert.equal(formatErrorText(error, undefined, { compatibility: 'reference' }), 'Code parsing failed on line 3 due to: SyntaxError\nx = = 1\nError: invalid syntax');
  });

  void it('votes on stdout when the logs also hold stderr text', () => {
    assert.equal(voteOutputOf(outcome({ printOutput: 'Warning: overflow\n7\n', stdoutOutput: '7\n' })), '7\n');
    assert.equal(voteOutputOf(outcome({ printOutput: '7\n' })), '7\n');
  });

  void it('says that the state is gone after a wall-clock kill', () => {
    const error = { kind: 'killed' as const, type: 'WallClockTimeout', message: 'stopped', stateLost: true };
    const text = formatObservation(outcome({ error }), 1);
    assert.match(text, /Code execution failed due to: WallClockTimeout: stopped\n/);
    assert.match(text, /no longer exist/);
  });

  void it('keeps head and tail of long print output and of a long last value, within the limits', () => {
    const prints = `${'h'.repeat(PRINT_OUTPUT_LIMIT)}${'m'.repeat(1000)}${'t'.repeat(PRINT_OUTPUT_LIMIT)}`;
    const last = `${'H'.repeat(LAST_VALUE_LIMIT)}${'T'.repeat(LAST_VALUE_LIMIT)}`;
    const text = formatObservation(outcome({ printOutput: prints, lastValue: last }), 1);
    const [logsPart, lastPart] = text.split('Last output from code snippet:\n') as [string, string];
    const logs = logsPart.slice('Call id: call_1\nObservation:\nExecution logs:\n'.length);
    assert.ok(logs.startsWith('h'.repeat(PRINT_OUTPUT_LIMIT / 2)));
    assert.ok(logs.endsWith('t'.repeat(PRINT_OUTPUT_LIMIT / 2)));
    assert.ok(!logs.includes('m'), 'the middle is cut');
    assert.ok(logs.length < PRINT_OUTPUT_LIMIT + 200);
    assert.ok(lastPart.startsWith('H'.repeat(LAST_VALUE_LIMIT / 2)) && lastPart.endsWith('T'.repeat(LAST_VALUE_LIMIT / 2)));
    assert.ok(lastPart.length < LAST_VALUE_LIMIT + 200);
  });

  void it('leaves text within the limit unchanged and says how much was cut otherwise', () => {
    assert.equal(truncateHeadTail('abc', 3), 'abc');
    const cut = truncateHeadTail('0123456789', 4);
    assert.ok(cut.startsWith('01') && cut.endsWith('89'));
    assert.match(cut, /6 characters/);
  });
});
