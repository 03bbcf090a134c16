import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { readJsonLines, type LineProblem } from './jsonlLines';
import { MISSING_CODE_BLOCK_TYPE } from './stepErrors';
import { newTrajectory, type Observation, type Step, type StepError, type TaskDomain, type Trajectory } from './schema';
import { codeBlocks, extractThought } from './replyParsing';

/**
 * Imports the saved records of the method's reference implementation (a smolagents fork), so the
 * published teacher data sets can be curated and exported here. A record is one JSON line with
 * `question`, `true_answer`, `generated_answer`, `score` and `log_data`; `log_data` (an object, or the same
 * object serialized as a JSON string) holds `messages` with roles `system`, `user`, `assistant`,
 * `tool-call` and `tool-response`, whose content is a string or a list of `{type: "text", text}` parts.
 *
 * Each assistant message becomes a step (thought, code blocks, raw text); the next tool-response or user
 * message becomes its observation, parsed into print output / last value / error and kept verbatim in
 * `observation.text` so exports replay exactly what the teacher saw. Tool-call messages are skipped (the
 * code is already in the assistant text). A run that hit the step limit also keeps the fallback call's reply
 * (`fromFallback`, `fallbackOutput`), from which the export builds the reference's extra fallback example.
 *
 * A reply that had no parsable code block (the reference's "Error in code parsing") is stored as a parse error
 * of type {@link MISSING_CODE_BLOCK_TYPE}, as the studio's agent stores it; a `SyntaxError` in the code keeps its
 * Python type, so the teacher filter can tell the two apart (METHOD §6).
 */

export class ReferenceImportError extends Error {
  override readonly name = 'ReferenceImportError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export interface ReferenceImportOptions {
  /** Domain of every record; without it, a record's `domain` field or a guess from the answer is used. */
  domain?: TaskDomain;
  /** Domain of the records that carry no `domain` field, instead of a guess from the answer (`domain` wins over it). */
  defaultDomain?: TaskDomain;
  /** The file name recorded in `task.source` and `origin.importedFrom`. */
  source: string;
  /** Teacher model name to record, when known. */
  model?: string;
}

interface Message {
  role: string;
  text: string;
}

function contentText(content: unknown, field: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content
      .map((part, i) => {
        if (typeof part === 'string') return part;
        if (typeof part === 'object' && part !== null && typeof (part as Record<string, unknown>).text === 'string') return (part as { text: string }).text;
        if (typeof part === 'object' && part !== null && (part as Record<string, unknown>).type === 'image') return '';
        throw new ReferenceImportError(`${field}[${i}]`, 'expected a text part ({"type": "text", "text": ...})');
      })
      .join('');
  }
  throw new ReferenceImportError(field, 'expected a string or a list of text parts');
}

/** `MessageRole.TOOL_RESPONSE`, `tool_response` and `tool-response` all mean the same. */
function normalizeRole(role: unknown, field: string): string {
  if (typeof role !== 'string') throw new ReferenceImportError(field, 'expected a role string');
  return role.replace(/^MessageRole\./i, '').toLowerCase().replace(/_/g, '-');
}

/** The record's `log_data`, parsed when it is a JSON string (the Hugging Face copies store it so). */
function logDataOf(record: Record<string, unknown>): { log: unknown; field: string } {
  if ('log_data' in record && (record.log_data === null || record.log_data === '' || (typeof record.log_data === 'object' && Object.keys(record.log_data).length === 0))) {
    // The reference writes `log_data: null` (with an `error` field) when its agent run raised; its filter and its
    // training preprocessing skip such records.
    const error = typeof record.error === 'string' && record.error.trim() !== '' ? ` with the error "${record.error.trim().split('\n')[0]}"` : '';
    throw new ReferenceImportError(
      'log_data',
      `is ${JSON.stringify(record.log_data)}: the reference's agent run for this question failed${error}, so the record holds no conversation to import (the reference leaves such records out of training too); run the question again to get a trajectory`,
    );
  }
  let log: unknown = record.log_data ?? record.messages;
  const field = record.log_data !== undefined ? 'log_data' : 'messages';
  if (typeof log === 'string') {
    try {
      log = JSON.parse(log) as unknown;
    } catch (err) {
      throw new ReferenceImportError(field, `is a string but not JSON: ${(err as Error).message}`);
    }
  }
  return { log, field };
}

function readMessages(list: unknown, field: string): Message[] {
  if (!Array.isArray(list)) throw new ReferenceImportError(field, 'expected a list of messages (or an object with "messages")');
  return list.map((m, i) => {
    if (typeof m !== 'object' || m === null) throw new ReferenceImportError(`${field}[${i}]`, 'expected a message object');
    const r = m as Record<string, unknown>;
    return { role: normalizeRole(r.role, `${field}[${i}].role`), text: contentText(r.content, `${field}[${i}].content`) };
  });
}

function messagesOf(log: unknown, field: string): Message[] {
  if (typeof log === 'object' && log !== null && !Array.isArray(log) && 'messages' in log) {
    return readMessages((log as Record<string, unknown>).messages, `${field}.messages`);
  }
  return readMessages(log, field);
}

/**
 * The reply of the fallback answer call, when the record has one. The reference keeps the whole fallback
 * conversation (its own system text, the memory, the request and the reply) as the `messages` of the last
 * entry of `original_memory.steps` (exps_research/train_utils/preprocess.py:207-212 trains on it as an extra
 * example). Everything but the reply is already in the trajectory or comes from the export's prompt texts, so
 * the reply is what is kept (`fallbackOutput`).
 */
function fallbackReplyOf(log: unknown, field: string): string | undefined {
  if (typeof log !== 'object' || log === null || Array.isArray(log)) return undefined;
  const memory = (log as Record<string, unknown>).original_memory;
  if (memory === undefined || memory === null) return undefined;
  const stepsField = `${field}.original_memory.steps`;
  const steps = typeof memory === 'object' ? (memory as Record<string, unknown>).steps : undefined;
  if (steps === undefined || steps === null) return undefined;
  if (!Array.isArray(steps)) throw new ReferenceImportError(stepsField, 'expected a list of memory steps');
  const conversations = steps.flatMap((step, i) => {
    if (typeof step !== 'object' || step === null) return [];
    const messages = (step as Record<string, unknown>).messages;
    return Array.isArray(messages) && messages.length > 0 ? [{ index: i, messages: readMessages(messages, `${stepsField}[${i}].messages`) }] : [];
  });
  if (conversations.length === 0) return undefined;
  if (conversations.length > 1) {
    // Planning steps also store conversations there; the paper's runs had none, and importing them is not supported.
    throw new ReferenceImportError(stepsField, `holds ${conversations.length} extra conversations (steps ${conversations.map((c) => c.index).join(', ')}); only the one of the max-steps fallback answer call can be imported`);
  }
  const { index, messages } = conversations[0];
  const last = messages[messages.length - 1];
  if (last?.role !== 'assistant') throw new ReferenceImportError(`${stepsField}[${index}].messages[${messages.length - 1}].role`, `the fallback conversation should end with the assistant's reply, not with a ${last?.role ?? 'missing'} message`);
  return last.text;
}

const RETRY_TAIL = /\nNow let's retry:[\s\S]*$/;

/** Reads an error observation's text back into the sandbox's error shape. */
export function parseErrorText(text: string): StepError {
  const body = text.replace(RETRY_TAIL, '').trim();
  const exec = /^Code execution failed at line '([\s\S]*?)' due to: ([\w.]+): ([\s\S]*)$/.exec(body);
  if (exec) return { kind: 'execution', type: exec[2], message: exec[3], statement: exec[1] };
  const execNoLine = /^Code execution failed due to: ([\w.]+): ([\s\S]*)$/.exec(body);
  if (execNoLine) return { kind: 'execution', type: execNoLine[1], message: execNoLine[2] };
  const parse = /^Code parsing failed on line (\d+) due to: ([\w.]+)([\s\S]*)$/.exec(body);
  if (parse) return { kind: 'parse', type: parse[2], message: parse[3].replace(/^[:\s]+/, ''), line: Number(parse[1]) };
  if (/^Error in code parsing/.test(body)) return { kind: 'parse', type: MISSING_CODE_BLOCK_TYPE, message: body };
  if (/SyntaxError/.test(body)) return { kind: 'parse', type: 'SyntaxError', message: body };
  return { kind: 'execution', type: 'Error', message: body };
}

/** Reads an observation turn's text back into print output, last value and error; keeps the text verbatim. */
export function parseObservationText(text: string): Observation {
  const observation: Observation = { printOutput: '', lastValue: 'None', webSearchCalls: [], text };
  const withoutCallId = text.replace(/^Call id: [^\n]*\n/, '');
  const errorMatch = /(^|\n)(Call id: [^\n]*\n)?Error:\n/.exec(withoutCallId);
  // The newline before an error turn ends the print output (which keeps its own final newline).
  const errorAt = errorMatch ? errorMatch.index + errorMatch[1].length : -1;
  const logs = /^Observation:\n(?:Execution logs:\n)?([\s\S]*)$/.exec(errorAt === -1 ? withoutCallId : withoutCallId.slice(0, errorAt));
  if (logs) {
    const body = logs[1];
    const lastAt = body.lastIndexOf('Last output from code snippet:\n');
    if (lastAt === -1) observation.printOutput = body;
    else {
      observation.printOutput = body.slice(0, lastAt);
      observation.lastValue = body.slice(lastAt + 'Last output from code snippet:\n'.length);
    }
  } else if (errorAt === -1) {
    observation.printOutput = withoutCallId;
  }
  if (errorAt !== -1) {
    const errorText = withoutCallId.slice(errorAt).replace(/^Call id: [^\n]*\n/, '').replace(/^Error:\n/, '');
    observation.error = parseErrorText(errorText);
  }
  return observation;
}

function textField(record: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const v = record[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.length === 1 ? v[0] : JSON.stringify(v);
    throw new ReferenceImportError(key, 'expected text or a number');
  }
  return undefined;
}

/** A guess when no domain is given: math answers are numbers or LaTeX, factual ones are words. */
function guessDomain(question: string, gold: string | undefined): TaskDomain {
  if (gold !== undefined && /^[\s$\\{}()[\],.\-+*/^=0-9a-z_|<>]*$/i.test(gold) && /[0-9\\]/.test(gold)) return 'math';
  if (/\\(frac|sqrt|boxed)|\$[^$]+\$/.test(question)) return 'math';
  return 'factual';
}

/** Converts one reference record into a trajectory; throws {@link ReferenceImportError} naming the field. */
export function trajectoryFromReferenceRecord(value: unknown, line: number, options: ReferenceImportOptions): Trajectory {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ReferenceImportError('$', 'expected a JSON object');
  const record = value as Record<string, unknown>;
  const { log, field } = logDataOf(record);
  const messages = messagesOf(log, field);
  const fallbackReply = fallbackReplyOf(log, field);

  const taskTurn = messages.find((m) => m.role === 'user');
  const question = textField(record, ['question', 'task']) ?? taskTurn?.text.replace(/^New task:\n/, '');
  if (question === undefined || question.trim() === '') throw new ReferenceImportError('question', 'missing (and no task message to take it from)');
  const gold = textField(record, ['true_answer', 'answer', 'gold_answer']);
  const generated = textField(record, ['generated_answer', 'prediction']);
  const domainField = record.domain;
  const domain: TaskDomain = options.domain ?? (domainField === 'math' || domainField === 'factual' ? domainField : (options.defaultDomain ?? guessDomain(question, gold)));
  const taskId = textField(record, ['id', 'task_id', 'question_id']) ?? `${basename(options.source)}:${line}`;

  const steps: Step[] = [];
  let sawTask = false;
  let systemPrompt: string | undefined;
  for (const m of messages) {
    if (m.role === 'system') {
      systemPrompt ??= m.text;
      continue;
    }
    if (m.role === 'tool-call') continue;
    if (m.role === 'user' && !sawTask) {
      sawTask = true;
      continue;
    }
    if (m.role === 'assistant') {
      steps.push({ thought: extractThought(m.text), code: codeBlocks(m.text) ?? '', modelOutput: m.text });
      continue;
    }
    if (m.role === 'tool-response' || m.role === 'user') {
      const step = steps[steps.length - 1];
      if (!step) continue; // text before the first action (e.g. a planning note) has no step to belong to
      // Adjacent observation turns are merged by concatenation, as the model saw them.
      const text = step.observation?.text !== undefined ? step.observation.text + m.text : m.text;
      step.observation = parseObservationText(text);
    }
  }

  const id = `ref-${createHash('sha256').update(`${options.source}\n${line}\n${taskId}`).digest('hex').slice(0, 16)}`;
  const t = newTrajectory({
    id,
    task: { id: taskId, question, domain, source: options.source, ...(gold !== undefined ? { goldAnswer: gold } : {}) },
    origin: {
      kind: 'import',
      promptProfile: 'reference',
      ...(options.model ? { model: options.model } : {}),
      ...(systemPrompt !== undefined ? { promptHash: createHash('sha256').update(systemPrompt).digest('hex') } : {}),
      importedFrom: { file: options.source, line, format: 'reference-records' },
      // The reference's executor produced these observations: re-running a step in the editor, continuing it
      // or rebuilding its text follows the reference's rules (docs/COMPATIBILITY.md).
      compatibility: 'reference',
    },
    steps,
  });
  if (generated !== undefined) {
    t.finalAnswer = generated;
    const last = steps[steps.length - 1];
    const answeredByCall = last !== undefined && /\bfinal_answer\s*\(/.test(last.code) && !last.observation?.error;
    if (answeredByCall && last.observation) last.observation.finalAnswer = generated;
    t.fromFallback = !answeredByCall;
  }
  if (fallbackReply !== undefined) {
    // The run hit the step limit: the answer is the fallback reply (generated_answer is that reply as well).
    t.fromFallback = true;
    t.fallbackOutput = fallbackReply;
    t.finalAnswer ??= fallbackReply.trim();
  }
  const score = record.score;
  if (typeof score === 'number' || typeof score === 'boolean') {
    const numeric = Number(score);
    t.judgement = { correct: numeric >= 1 || score === true, method: 'imported', score: numeric, detail: 'score from the reference record' };
  } else if (score !== undefined && score !== null) {
    throw new ReferenceImportError('score', 'expected a number or a boolean');
  }
  return t;
}

/** Records of a JSONL file, or of a file holding one JSON array of records (numbered from 1 as "lines"). */
async function* readRecords(path: string, problems: LineProblem[], signal?: AbortSignal): AsyncGenerator<{ line: number; value: unknown }> {
  const handle = await open(path, 'r');
  let head: string;
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  } finally {
    await handle.close();
  }
  if (!head.startsWith('[')) {
    yield* readJsonLines(path, problems, signal);
    return;
  }
  let list: unknown;
  try {
    list = JSON.parse((await readFile(path, 'utf8')).replace(/^\uFEFF/, '')) as unknown;
  } catch (err) {
    problems.push({ line: 1, message: `the file starts like a JSON array but is not valid JSON: ${(err as Error).message}` });
    return;
  }
  if (!Array.isArray(list)) return;
  for (let i = 0; i < list.length; i++) yield { line: i + 1, value: list[i] as unknown };
}

export interface ImportProblem extends LineProblem {
  field?: string;
}

export interface ImportedReferenceRecords {
  trajectories: Trajectory[];
  /** Records that could not be imported, by line (and field where one is to blame), in line order. */
  problems: ImportProblem[];
  /** How many imported records carried no domain and got one guessed from their answer, per guessed domain. */
  guessedDomains: Record<TaskDomain, number>;
}

/**
 * Reads a file of reference records (JSONL, or one JSON array whose elements count as "lines" from 1).
 * Records that cannot be converted are reported by line and field.
 */
export async function importReferenceRecords(path: string, options: ReferenceImportOptions, signal?: AbortSignal): Promise<ImportedReferenceRecords> {
  const problems: ImportProblem[] = [];
  const trajectories: Trajectory[] = [];
  const guessedDomains: Record<TaskDomain, number> = { math: 0, factual: 0 };
  for await (const { line, value } of readRecords(path, problems, signal)) {
    try {
      const t = trajectoryFromReferenceRecord(value, line, options);
      trajectories.push(t);
      const said = (value as Record<string, unknown>).domain;
      if (options.domain === undefined && options.defaultDomain === undefined && said !== 'math' && said !== 'factual') guessedDomains[t.task.domain]++;
    } catch (err) {
      if (!(err instanceof ReferenceImportError)) throw err;
      problems.push({ line, field: err.field, message: err.message });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return { trajectories, problems, guessedDomains };
}
