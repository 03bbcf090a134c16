import { type Compatibility } from './compatibility';
import { type ExecOutcome } from './execOutcome';
import { formatObservation, RETRY_INSTRUCTION } from './observationFormat';
import { type Observation } from './schema';
import { MISSING_CODE_BLOCK_TYPE } from './stepErrors';

/**
 * The observation turn the model reads after a step. The missing-block error has its own text and no
 * `Call id` line: no code was run, so there was no call (the reference records none either).
 */
export function observationTurn(outcome: ExecOutcome, callNumber: number, compatibility: Compatibility): string {
  if (outcome.error?.type === MISSING_CODE_BLOCK_TYPE) return `Error:\n${outcome.error.message}\n${RETRY_INSTRUCTION}\n`;
  return formatObservation(outcome, callNumber, { compatibility });
}

/**
 * A stored step's observation turn: exactly as the model saw it when recorded, else (imported or hand-edited
 * steps) rebuilt from the stored outcome as the agent formats it under `compatibility`. Call ids count action
 * steps from 1, as the agent numbers them.
 */
export function observationTextOf(observation: Observation, stepIndex: number, compatibility: Compatibility = 'studio'): string {
  if (observation.text !== undefined) return observation.text;
  const outcome: ExecOutcome = {
    printOutput: observation.printOutput,
    printedChars: observation.printedChars ?? observation.printOutput.length,
    lastValue: observation.lastValue,
    webSearchCalls: observation.webSearchCalls,
    durationMs: observation.durationMs ?? 0,
  };
  if (observation.error) outcome.error = observation.error;
  if (observation.finalAnswer !== undefined) outcome.finalAnswer = observation.finalAnswer;
  return observationTurn(outcome, stepIndex + 1, compatibility);
}
