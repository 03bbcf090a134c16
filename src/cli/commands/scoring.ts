import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { type CliCommand, type CliIo, CliUsageError, type ParsedCliArgs, stringOption } from '../command';
import { type ModelEndpoint } from '../../llm/modelEndpoint';
import { judgeEndpointFromEnvironment } from '../judgeEndpoint';
import {
  type AnswerScorerOptions,
  type AnswerToScore,
  type AnswerVerdict,
  scoreAnswer,
  scoreAnswerByProfile,
  scoreAnswerReference,
} from '../../scoring/answerScorer';
import { SympyChecker } from '../../scoring/sympyChecker';
import { type Compatibility, compatibilities } from '../../trajectory/compatibility';
import { type TaskDomain } from '../../trajectory/schema';

/** One pair of a `--file` JSONL: `pred` (or `prediction`), `gold` (or `answer`), optional `domain` and `question`. */
interface ScoringPair {
  line: number;
  prediction: string;
  gold: string | string[];
  domain: TaskDomain;
  question?: string;
}

function pairFromLine(text: string, line: number, file: string, fallbackDomain: TaskDomain | undefined): ScoringPair {
  const where = `${file}:${line}`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: expected a JSON object`);
  const record = value as Record<string, unknown>;
  const prediction = record.pred ?? record.prediction;
  if (typeof prediction !== 'string') throw new Error(`${where}: field "pred" (or "prediction") must be a string`);
  const gold = record.gold ?? record.answer;
  const goldOk = typeof gold === 'string' || (Array.isArray(gold) && gold.length > 0 && gold.every((g) => typeof g === 'string'));
  if (!goldOk) throw new Error(`${where}: field "gold" (or "answer") must be a string or a non-empty array of strings`);
  const domain = record.domain ?? fallbackDomain;
  if (domain !== 'math' && domain !== 'factual') {
    throw new Error(`${where}: field "domain" must be "math" or "factual" (or pass --math / --factual for the whole file)`);
  }
  const question = record.question;
  if (question !== undefined && typeof question !== 'string') throw new Error(`${where}: field "question" must be a string`);
  return { line, prediction, gold: gold, domain, question };
}

function formatVerdict(v: AnswerVerdict): string {
  return `${v.correct ? 'correct' : 'wrong'}  ${v.rule}  ${v.detail}${v.error !== undefined ? `  (error: ${v.error})` : ''}`;
}

/** Which profiles' verdicts the command reports: one, or both side by side (the default). */
type ProfileChoice = Compatibility | 'both';

function profileFlag(args: ParsedCliArgs): ProfileChoice {
  const value = stringOption(args, 'profile') ?? 'both';
  if (value !== 'both' && !(compatibilities as readonly string[]).includes(value)) {
    throw new CliUsageError(`--profile expects studio, reference or both, got "${value}"`);
  }
  return value as ProfileChoice;
}

/** The verdicts of the chosen profiles; a single profile is scored alone (no judge call for the other). */
async function scoreForProfiles(input: AnswerToScore, choice: ProfileChoice, options: AnswerScorerOptions, signal: AbortSignal): Promise<Partial<Record<Compatibility, AnswerVerdict>>> {
  if (choice === 'both') return scoreAnswerByProfile(input, options, signal);
  if (choice === 'studio') return { studio: await scoreAnswer(input, options, signal) };
  return { reference: await scoreAnswerReference(input, options, signal) };
}

const profileLabelWidth = Math.max(...compatibilities.map((p) => p.length)) + 1;

/** One line per profile (`studio     correct  numeric  …`); a single profile prints its verdict alone, as before profiles. */
function formatVerdicts(verdicts: Partial<Record<Compatibility, AnswerVerdict>>, choice: ProfileChoice, indent = ''): string {
  if (choice !== 'both') return `${indent}${formatVerdict(verdicts[choice]!)}\n`;
  return compatibilities.map((p) => `${indent}${`${p}:`.padEnd(profileLabelWidth + 1)} ${formatVerdict(verdicts[p]!)}\n`).join('');
}

function verdictsJson(verdicts: Partial<Record<Compatibility, AnswerVerdict>>, choice: ProfileChoice): object {
  return choice === 'both' ? verdicts : { profile: choice, ...verdicts[choice] };
}

function domainFlag(args: ParsedCliArgs): TaskDomain | undefined {
  const math = args.values.math === true;
  const factual = args.values.factual === true;
  if (math && factual) throw new CliUsageError('pass either --math or --factual, not both');
  return math ? 'math' : factual ? 'factual' : undefined;
}

function scorerOptions(args: ParsedCliArgs, io: CliIo): { options: AnswerScorerOptions; close: () => Promise<void> } {
  const symbolic = args.values['no-symbolic'] === true ? undefined : new SympyChecker({ python: stringOption(args, 'python') });
  let judge: ModelEndpoint | undefined;
  if (args.values.judge === true) {
    judge = judgeEndpointFromEnvironment(io, '--judge');
  }
  const threshold = stringOption(args, 'f1-threshold');
  let f1Threshold: number | undefined;
  if (threshold !== undefined) {
    f1Threshold = Number(threshold);
    if (!(f1Threshold >= 0 && f1Threshold <= 1)) throw new CliUsageError(`--f1-threshold expects a number between 0 and 1, got "${threshold}"`);
  }
  return { options: { symbolic, judge, f1Threshold }, close: () => symbolic?.close() ?? Promise.resolve() };
}

interface Disagreement {
  line: number;
  pred: string;
  gold: string | string[];
  studio: { correct: boolean; rule: string };
  reference: { correct: boolean; rule: string };
}

async function scoreFile(file: string, domain: TaskDomain | undefined, choice: ProfileChoice, options: AnswerScorerOptions, io: CliIo, json: boolean): Promise<number> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  const profiles = choice === 'both' ? compatibilities : [choice];
  let lineNo = 0;
  let total = 0;
  const correct = new Map<Compatibility, number>(profiles.map((p) => [p, 0]));
  const byRule = new Map<Compatibility, Map<string, number>>(profiles.map((p) => [p, new Map<string, number>()]));
  const disagreements: Disagreement[] = [];
  for await (const text of lines) {
    lineNo++;
    io.signal.throwIfAborted();
    if (text.trim() === '') continue;
    const pair = pairFromLine(text, lineNo, file, domain);
    const verdicts = await scoreForProfiles({ domain: pair.domain, prediction: pair.prediction, gold: pair.gold, question: pair.question }, choice, options, io.signal);
    total++;
    for (const p of profiles) {
      const v = verdicts[p]!;
      if (v.correct) correct.set(p, correct.get(p)! + 1);
      const key = `${v.correct ? 'correct' : 'wrong'} by ${v.rule}`;
      const rules = byRule.get(p)!;
      rules.set(key, (rules.get(key) ?? 0) + 1);
    }
    const { studio, reference } = verdicts;
    if (studio && reference && studio.correct !== reference.correct) {
      disagreements.push({
        line: lineNo,
        pred: pair.prediction,
        gold: pair.gold,
        studio: { correct: studio.correct, rule: studio.rule },
        reference: { correct: reference.correct, rule: reference.rule },
      });
    }
    if (json) io.stdout(`${JSON.stringify({ line: lineNo, ...verdictsJson(verdicts, choice) })}\n`);
    else io.stdout(choice === 'both' ? `line ${lineNo}:\n${formatVerdicts(verdicts, choice, '  ')}` : `line ${lineNo}: ${formatVerdicts(verdicts, choice)}`);
  }
  const accuracy = Object.fromEntries(
    profiles.map((p) => [p, { correct: correct.get(p)!, total, accuracy: total === 0 ? 0 : correct.get(p)! / total }]),
  );
  if (json) {
    io.stdout(`${JSON.stringify({ summary: accuracy, ...(choice === 'both' ? { disagreements } : {}) })}\n`);
    return 0;
  }
  io.stdout('\n');
  for (const p of profiles) {
    const n = correct.get(p)!;
    const share = total === 0 ? 0 : (100 * n) / total;
    io.stdout(`${choice === 'both' ? `${p}: ` : ''}${n}/${total} correct (${share.toFixed(1)}%)\n`);
    for (const [rule, count] of [...byRule.get(p)!].sort((a, b) => b[1] - a[1])) io.stdout(`  ${rule}: ${count}\n`);
  }
  if (choice === 'both') {
    io.stdout(`\ndisagreements: ${disagreements.length}\n`);
    for (const d of disagreements) {
      const verdict = (v: { correct: boolean; rule: string }) => `${v.correct ? 'correct' : 'wrong'} (${v.rule})`;
      io.stdout(`  line ${d.line}: pred ${JSON.stringify(d.pred)} gold ${JSON.stringify(d.gold)}  studio ${verdict(d.studio)}  reference ${verdict(d.reference)}\n`);
    }
  }
  return 0;
}

export const scoreCommand: CliCommand = {
  name: 'score',
  summary: 'Check answers with the scorer the pipeline uses: math equivalence, or exact match / F1 / the judge model for factual answers',
  synopsis: [
    'trajectory-studio score --math|--factual --pred "<model output>" --gold "<answer>" [--question "<q>"] [--profile P] [--judge] [--json]',
    'trajectory-studio score --file pairs.jsonl [--math|--factual] [--profile P] [--judge] [--json]',
  ],
  options: {
    math: { type: 'boolean', help: 'math equivalence (last \\boxed{}, normalisation, numeric, element-wise, symbolic via sympy)' },
    factual: { type: 'boolean', help: 'factual answer: normalised exact match (token F1 reported), or the judge model with --judge' },
    pred: { type: 'string', value: 'TEXT', help: 'the model output (the last \\boxed{} is used when there is one)' },
    gold: { type: 'string', value: 'TEXT', help: 'the reference answer (factual: aliases as a JSON array or separated by " | ")' },
    question: { type: 'string', value: 'TEXT', help: 'the question (the judge model needs it)' },
    file: { type: 'string', value: 'PATH', help: 'JSONL with one pair per line: {"pred", "gold", "domain"?, "question"?}' },
    profile: { type: 'string', value: 'studio|reference|both', help: "studio (the corrected scorer), reference (the paper's grader, quirks kept) or both (default: each verdict, and with --file each accuracy and the pairs they disagree on)" },
    judge: { type: 'boolean', help: 'judge factual answers with the judge endpoint (TRAJECTORY_STUDIO_JUDGE_BASE_URLS, _MODEL)' },
    'f1-threshold': { type: 'string', value: 'X', help: 'offline factual: also accept token F1 ≥ X' },
    'no-symbolic': { type: 'boolean', help: 'skip the sympy check (no Python needed)' },
    python: { type: 'string', value: 'PATH', help: 'Python with sympy for the symbolic check (default python3)' },
    json: { type: 'boolean', help: 'JSON: {"studio", "reference"} per pair (one profile: its verdict); --file adds a summary line' },
  },
  async run(args, io) {
    const domain = domainFlag(args);
    const choice = profileFlag(args);
    const file = stringOption(args, 'file');
    const json = args.values.json === true;
    const pred = stringOption(args, 'pred');
    const gold = stringOption(args, 'gold');
    if (file === undefined) {
      if (!domain) throw new CliUsageError('pass --math or --factual');
      if (pred === undefined) throw new CliUsageError('--pred is required (or --file)');
      if (gold === undefined || gold.trim() === '') throw new CliUsageError('--gold is required (or --file)');
    } else if (pred !== undefined || gold !== undefined) {
      throw new CliUsageError('--file scores the pairs in the file; leave out --pred and --gold');
    }
    const { options, close } = scorerOptions(args, io);
    try {
      if (file !== undefined) return await scoreFile(path.resolve(io.cwd, file), domain, choice, options, io, json);
      const input = { domain: domain!, prediction: pred!, gold: gold!, question: stringOption(args, 'question') };
      const verdicts = await scoreForProfiles(input, choice, options, io.signal);
      io.stdout(json ? `${JSON.stringify(verdictsJson(verdicts, choice))}\n` : formatVerdicts(verdicts, choice));
      return 0;
    } finally {
      await close();
    }
  },
};
