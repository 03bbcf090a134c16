import { type TriageRuleId } from '../../src/triage/flags';
import { numericValue } from '../../src/triage/answerText';
import { extractLastBoxed } from '../../src/scoring/boxedAnswer';
import { type SagCandidate, type Step, type Trajectory } from '../../src/trajectory/schema';

/**
 * The labelled set for the triage benchmark: correct example trajectories as controls, and for every
 * deterministic rule a mutation that plants that defect into each base it applies to, plus a near miss
 * (a change that looks like the defect but is not one, labelled clean).
 *
 * Labels are what the mutation planted, never what triage says. A mutation may also create another genuine
 * defect as a side effect (dropping the searches of a factual trajectory also leaves numbers in its last
 * thought that nothing shows any more); such rules are listed in `mayAlso` and not scored on that item.
 */

export interface LabelledItem {
  name: string;
  /** Trajectories fed to triage first, in order (for the near-duplicate rule: the original). */
  before: Trajectory[];
  trajectory: Trajectory;
  labels: Set<string>;
  mayAlso: Set<string>;
}

function copy(t: Trajectory): Trajectory {
  return structuredClone(t);
}

function finalStepIndex(t: Trajectory): number {
  for (let i = t.steps.length - 1; i >= 0; i--) if (t.steps[i].observation?.finalAnswer !== undefined) return i;
  return t.steps.length - 1;
}

/** Sets the answer everywhere it is recorded: the call in the code, the observation and the record. */
function setAnswer(t: Trajectory, answer: string): void {
  const f = finalStepIndex(t);
  const s = t.steps[f];
  s.code = `final_answer(${JSON.stringify(answer)})`;
  if (s.observation) {
    s.observation.finalAnswer = answer;
    s.observation.lastValue = answer;
  }
  t.finalAnswer = answer;
}

function emptyObservation(): NonNullable<Step['observation']> {
  return { printOutput: '', lastValue: 'None', webSearchCalls: [] };
}

/** SAG candidates for a step: `agreeing` of 8 print what the step printed, the rest each print something else. */
function withCandidates(s: Step, agreeing: number): void {
  const out = s.observation?.printOutput ?? '';
  const candidates: SagCandidate[] = Array.from({ length: 8 }, (_, i) => {
    const same = i < agreeing;
    return { text: `candidate ${i}`, code: same ? s.code : `${s.code}\nprint(${i})`, valid: true, voteKey: same ? out : `${out}${i}\n`, printOutput: same ? out : `${out}${i}\n` };
  });
  s.candidates = candidates;
  s.winner = 0;
  s.voteGroups = [{ voteKey: out, members: Array.from({ length: agreeing }, (_, i) => i) }, ...Array.from({ length: 8 - agreeing }, (_, k) => ({ voteKey: `${out}${agreeing + k}\n`, members: [agreeing + k] }))];
}

/**
 * Makes an example follow the task instruction (math answers boxed) and gives its first step a clear SAG
 * majority (6 of 8), so the SAG rules have something to look at in every item. The shipped example teacher
 * does not box its math answers; that is itself a defect the rules find, so controls fix it first.
 */
export function control(base: Trajectory): Trajectory {
  const t = copy(base);
  if (t.task.domain === 'math' && t.finalAnswer !== undefined && extractLastBoxed(t.finalAnswer) === undefined) setAnswer(t, `\\boxed{${t.finalAnswer}}`);
  withCandidates(t.steps[0], 6);
  t.id = `${base.task.id}-control`;
  return t;
}

/** Adds printed text to a step, to its observation as the model saw it, and to the SAG candidates that agreed. */
function appendOutput(s: Step, text: string): void {
  const o = s.observation;
  if (!o) return;
  const before = o.printOutput;
  o.printOutput += text;
  if (o.text !== undefined) o.text += text;
  for (const c of s.candidates ?? []) {
    if (c.printOutput === before) {
      c.printOutput += text;
      c.voteKey += text;
    }
  }
  for (const g of s.voteGroups ?? []) if (g.voteKey === before) g.voteKey += text;
}

/** A copy of a step without its SAG record, as a plain greedy step. */
function plainCopy(s: Step): Step {
  const { candidates: _c, winner: _w, voteGroups: _g, ...rest } = structuredClone(s);
  return rest;
}

interface Mutation {
  rule: TriageRuleId;
  applies(t: Trajectory): boolean;
  plant(t: Trajectory, i: number): Trajectory;
  nearMiss?(t: Trajectory, i: number): Trajectory;
  mayAlso?: TriageRuleId[];
}

const isFactual = (t: Trajectory): boolean => t.task.domain === 'factual';
const isMath = (t: Trajectory): boolean => t.task.domain === 'math';
const searches = (t: Trajectory): Step[] => t.steps.filter((s) => (s.observation?.webSearchCalls.length ?? 0) > 0);

const mutations: Mutation[] = [
  {
    rule: 'no-search',
    applies: isFactual,
    // The teacher answers from memory: only the answering step is left.
    plant: (t) => ({ ...t, steps: [t.steps[finalStepIndex(t)]] }),
    mayAlso: ['unchecked-thought-number'],
  },
  {
    rule: 'ungrounded-answer',
    applies: (t) => isFactual(t) && searches(t).length > 0,
    plant: (t) => {
      setAnswer(t, 'Velmora Quay');
      return t;
    },
    // The same answer with other capitals and an article is still the passage's.
    nearMiss: (t) => {
      setAnswer(t, `The ${(t.finalAnswer ?? '').toUpperCase()}`);
      return t;
    },
  },
  {
    rule: 'answer-not-computed',
    applies: (t) => isMath(t) && t.steps.length > 1,
    plant: (t) => ({ ...t, steps: [t.steps[finalStepIndex(t)]] }),
    mayAlso: ['unchecked-thought-number'],
  },
  {
    rule: 'unchecked-thought-number',
    applies: () => true,
    plant: (t, i) => {
      t.steps[0].thought += ` Working it out by hand first, I get ${4817 + 31 * i}.25 along the way.`;
      return t;
    },
    // A number the question itself gives is not a claim.
    nearMiss: (t) => {
      const n = /\d{2,}/.exec(t.task.question)?.[0] ?? '';
      t.steps[0].thought += n ? ` The question gives ${n}.` : ' Nothing to add.';
      return t;
    },
  },
  {
    rule: 'ignored-error',
    applies: () => true,
    plant: (t) => {
      const failing: Step = {
        thought: 'I try the helper I need.',
        code: 'value = helper_total(3)\nprint(value)',
        modelOutput: '',
        observation: { ...emptyObservation(), error: { kind: 'execution', type: 'NameError', message: "name 'helper_total' is not defined" } },
      };
      const f = finalStepIndex(t);
      t.steps.splice(f, 0, failing, structuredClone(failing));
      return t;
    },
    // An error followed by a different, working step is recovery, which the method keeps on purpose.
    nearMiss: (t) => {
      const f = finalStepIndex(t);
      t.steps.splice(
        f,
        0,
        { thought: 'I try the helper I need.', code: 'value = helper_total(3)', modelOutput: '', observation: { ...emptyObservation(), error: { kind: 'execution', type: 'NameError', message: "name 'helper_total' is not defined" } } },
        { thought: 'It does not exist; I compute directly.', code: 'value = 3 * 2\nprint(value)', modelOutput: '', observation: { ...emptyObservation(), printOutput: '6\n' } },
      );
      return t;
    },
  },
  {
    rule: 'repeated-search',
    applies: (t) => searches(t).length > 0,
    plant: (t) => {
      const first = t.steps.findIndex((s) => (s.observation?.webSearchCalls.length ?? 0) > 0);
      t.steps.splice(first + 1, 0, plainCopy(t.steps[first]));
      return t;
    },
    nearMiss: (t) => {
      const first = t.steps.findIndex((s) => (s.observation?.webSearchCalls.length ?? 0) > 0);
      const again = plainCopy(t.steps[first]);
      for (const c of again.observation?.webSearchCalls ?? []) c.query = `${c.query} founding history`;
      again.code = again.code.replace(/query="([^"]*)"/, 'query="$1 founding history"');
      t.steps.splice(first + 1, 0, again);
      return t;
    },
  },
  {
    rule: 'silent-step',
    applies: () => true,
    plant: (t) => {
      t.steps.splice(finalStepIndex(t), 0, { thought: 'I set up the tools.', code: 'import math', modelOutput: '', observation: emptyObservation() });
      return t;
    },
    nearMiss: (t) => {
      t.steps.splice(finalStepIndex(t), 0, { thought: 'I set up a constant.', code: 'scale = 3', modelOutput: '', observation: { ...emptyObservation(), lastValue: '3' } });
      return t;
    },
  },
  {
    rule: 'missing-boxed',
    applies: isMath,
    plant: (t) => {
      setAnswer(t, extractLastBoxed(t.finalAnswer ?? '') ?? t.finalAnswer ?? '');
      return t;
    },
  },
  {
    rule: 'answer-format-drift',
    applies: (t) => t.task.goldAnswer !== undefined && (isFactual(t) || numericValue(t.task.goldAnswer) !== undefined || /[a-z\\]/i.test(t.task.goldAnswer)),
    plant: (t) => {
      const gold = t.task.goldAnswer ?? '';
      if (isFactual(t)) setAnswer(t, `Having read all of the passages above, the answer to the question is ${gold}`);
      else {
        const v = numericValue(gold);
        setAnswer(t, v !== undefined ? `\\boxed{${Number.isInteger(v) ? v.toFixed(1) : v.toFixed(4)}}` : `\\boxed{x = ${gold}}`);
      }
      return t;
    },
    mayAlso: ['ungrounded-answer', 'answer-not-computed'],
  },
  {
    rule: 'over-length',
    applies: () => true,
    // About 16,000 tokens of printed output (digits are one token each), over the method's 10,240.
    plant: (t, i) => {
      appendOutput(t.steps[0], Array.from({ length: 2000 }, (_, k) => `row ${k + i} ok`).join('\n'));
      return t;
    },
    // About 2,400 tokens more: long, but within the max length.
    nearMiss: (t, i) => {
      appendOutput(t.steps[0], Array.from({ length: 300 }, (_, k) => `row ${k + i} ok`).join('\n'));
      return t;
    },
  },
  {
    rule: 'low-agreement',
    applies: () => true,
    plant: (t) => {
      withCandidates(t.steps[0], 3);
      return t;
    },
    nearMiss: (t) => {
      withCandidates(t.steps[0], 5);
      return t;
    },
  },
  {
    rule: 'winner-overridden',
    applies: () => true,
    plant: (t) => {
      t.steps[0].code += '\nprint("checked by hand")';
      return t;
    },
    // Re-indenting the chosen code does not change the action.
    nearMiss: (t) => {
      t.steps[0].code = t.steps[0].code.replace(/\n/g, '\n\n');
      return t;
    },
  },
  {
    rule: 'stale-step',
    applies: (t) => t.steps.length > 1,
    plant: (t) => {
      t.steps[t.steps.length - 1].stale = true;
      return t;
    },
  },
];

/** The whole labelled set: controls, then a planted and a near-miss item per rule and base. */
export function labelledSet(bases: readonly Trajectory[], knownDefects: ReadonlyMap<string, readonly string[]>): LabelledItem[] {
  const controls = bases.filter((b) => b.judgement?.correct === true).map(control);
  const known = (t: Trajectory): Set<string> => new Set(knownDefects.get(t.task.id) ?? []);
  const items: LabelledItem[] = controls.map((t) => ({ name: `control ${t.task.id}`, before: [], trajectory: t, labels: known(t), mayAlso: new Set() }));
  controls.forEach((c, i) => {
    for (const m of mutations) {
      if (!m.applies(c)) continue;
      const planted = m.plant(copy(c), i);
      planted.id = `${c.task.id}-${m.rule}`;
      // A mutation may remove or cover a base's own defect (dropping the step it was in), so those rules are
      // scored on the controls only.
      const mayAlso = new Set([...(m.mayAlso ?? []), ...known(c)]);
      items.push({ name: `${m.rule} ${c.task.id}`, before: [], trajectory: planted, labels: new Set([m.rule]), mayAlso });
      if (m.nearMiss) {
        const near = m.nearMiss(copy(c), i);
        near.id = `${c.task.id}-${m.rule}-near`;
        items.push({ name: `near miss ${m.rule} ${c.task.id}`, before: [], trajectory: near, labels: new Set(), mayAlso });
      }
    }
    // Near duplicates are a property of a file: the copy follows its original.
    const sameQuestion = copy(c);
    sameQuestion.id = `${c.task.id}-copy`;
    sameQuestion.task = { ...sameQuestion.task, id: `${c.task.id}-copy`, question: sameQuestion.task.question.toLowerCase().replace(/[?.!]+$/, '') };
    items.push({ name: `near-duplicate ${c.task.id} (question)`, before: [c], trajectory: sameQuestion, labels: new Set([...known(c), 'near-duplicate']), mayAlso: new Set() });
    const reworded = copy(c);
    reworded.id = `${c.task.id}-reworded`;
    reworded.task = { ...reworded.task, id: `${c.task.id}-reworded`, question: `Restated: ${[...reworded.task.question].reverse().join('')}` };
    items.push({ name: `near-duplicate ${c.task.id} (episode)`, before: [c], trajectory: reworded, labels: new Set([...known(c), 'near-duplicate']), mayAlso: new Set() });
    // Near miss: another base's trajectory after this one is not a duplicate.
    const other = controls[(i + 1) % controls.length];
    items.push({ name: `near miss near-duplicate ${c.task.id}`, before: [c], trajectory: other, labels: known(other), mayAlso: new Set() });
  });
  return items;
}
