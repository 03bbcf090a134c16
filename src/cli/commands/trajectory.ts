import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type CliCommand, type CliIo, CliUsageError, listOption, type ParsedCliArgs, numberOption, requiredStringOption, stringOption } from '../command';
import { sftPromptCliOption, sftPromptFrom } from '../sftPromptOption';
import { describeTeacherFilter, importQuestionFile, importReferenceRecordsWithTeacherFilter } from '../../dataImport/dataImport';
import { compatibilities, type Compatibility } from '../../trajectory/compatibility';
import { describeLeak, type LeakageMatch, type LeakageQuestion } from '../../trajectory/leakageCheck';
import { writeJsonlAtomically } from '../../trajectory/jsonlWriters';
import { openTrajectoryFile } from '../../trajectory/trajectoryFile';
import { checkLeakage, exportedConversations, leakageManifestEntry, readBenchmarkQuestions as readBenchmarkFile, readTrajectoryFiles, trainingPromptsOfProfile } from '../../trainingExport/trainingExport';
import { reviewStatusSchema, type ReviewStatus, type TaskDomain, type Trajectory } from '../../trajectory/schema';
import { SFT_FORMATS, exclusionReason, exportTrainingData, manifestPathFor, writeManifest, type FallbackPrompt, type SftFormat } from '../../trajectory/sftExport';
import { describeLossMask } from '../../trajectory/trainingProfile';
import { maskConversation, renderMaskPreview, tokenStatistics } from '../../trajectory/tokenMask';
import { type LoadedTokenizer, loadChosenTokenizer, shippedTokenizer } from '../../trajectory/tokenizerFolder';
import { parseTrajectoryText, TrajectoryTextError } from '../../trajectory/textForm';
import { defaultTriageMaxLength } from '../../triage/checks';
import { FileTriage } from '../../triage/fileTriage';
import { trainingTokenCounter } from '../../triage/trainingTokens';
import { ruleIdsOption, triageOptionsFrom } from './triage';

/**
 * `trajectory-studio validate | stats | import | export`: the trajectory files from the command line.
 * Every problem is printed as `file:line: path: message`; commands exit 1 when they found any.
 */

function files(args: ParsedCliArgs, io: CliIo, what: string): string[] {
  if (args.positionals.length === 0) throw new CliUsageError(`give at least one ${what}`);
  return args.positionals.map((p) => path.resolve(io.cwd, p));
}

function domainOption(args: ParsedCliArgs): TaskDomain | undefined {
  const d = stringOption(args, 'domain');
  if (d === undefined) return undefined;
  if (d !== 'math' && d !== 'factual') throw new CliUsageError(`--domain expects math or factual, got "${d}"`);
  return d;
}

/** A progress line redrawn in place on a terminal (and silent otherwise, so logs stay clean). */
function progressLine(io: CliIo, label: string): ((done: number, total: number) => void) | undefined {
  if (!io.isTty) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 200) return;
    last = now;
    io.stderr(`\r${label}: ${done}/${total} records checked${done === total ? '\n' : ''}`);
  };
}

/** `--compat studio|reference` (default studio), spelled as the eval command spells it. */
function compatOption(args: ParsedCliArgs): Compatibility {
  const value = stringOption(args, 'compat') ?? 'studio';
  const known = compatibilities.find((c) => c === value);
  if (known === undefined) throw new CliUsageError(`--compat must be ${compatibilities.join(' or ')}, got "${value}"`);
  return known;
}

/** The fallback call's texts of the same prompt profile the export trains with (see sftPromptFrom). */
async function fallbackPromptFrom(args: ParsedCliArgs, io: CliIo): Promise<FallbackPrompt> {
  const name = stringOption(args, 'prompt-profile') ?? 'student';
  const looksLikePath = name.includes('/') || name.includes(path.sep) || name.endsWith('.prompt.txt');
  return (await trainingPromptsOfProfile(looksLikePath ? path.resolve(io.cwd, name) : name)).fallbackPrompt;
}

function relative(io: CliIo, file: string): string {
  const r = path.relative(io.cwd, file);
  return r.startsWith('..') ? file : r;
}

// ---------------------------------------------------------------------------------------------------------

export const validateCommand: CliCommand = {
  name: 'validate',
  summary: 'Check trajectory JSONL files: every line that is not a valid trajectory, with line and field',
  synopsis: 'trajectory-studio validate <file.traj.jsonl | file.traj>... [--max-problems N]',
  options: { 'max-problems': { type: 'string', value: 'N', help: 'print at most N problems per file (default 100); the count is always complete' } },
  async run(args, io) {
    const max = numberOption(args, 'max-problems', 100);
    let bad = 0;
    for (const file of files(args, io, 'trajectory file')) {
      if (file.endsWith('.traj')) {
        // The readable text form of one trajectory.
        try {
          parseTrajectoryText(await readFile(file, 'utf8'));
          io.stdout(`${relative(io, file)}: a valid trajectory\n`);
        } catch (err) {
          if (!(err instanceof TrajectoryTextError)) throw err;
          bad++;
          io.stdout(`${relative(io, file)}:${err.line}: ${err.reason}\n`);
        }
        continue;
      }
      const f = await openTrajectoryFile(file, { signal: io.signal });
      try {
        const diagnostics = await f.validate({ signal: io.signal, onProgress: progressLine(io, relative(io, file)) });
        const badLines = new Set(diagnostics.map((d) => d.line)).size;
        bad += diagnostics.length;
        for (const d of diagnostics.slice(0, max)) io.stdout(`${relative(io, file)}:${d.line}: ${d.path ?? '$'}: ${d.message}\n`);
        if (diagnostics.length > max) io.stdout(`… ${diagnostics.length - max} more problems not shown\n`);
        io.stdout(`${relative(io, file)}: ${f.count} records, ${f.count - badLines} valid, ${badLines} with problems\n`);
      } finally {
        await f.close();
      }
    }
    return bad > 0 ? 1 : 0;
  },
};

// ---------------------------------------------------------------------------------------------------------

function percent(n: number, total: number): string {
  return total ? `${((100 * n) / total).toFixed(1)}%` : '-';
}

export const statsCommand: CliCommand = {
  name: 'stats',
  summary: 'Counts for trajectory files: review status, correctness, domains, steps, errors, excluded steps',
  synopsis: 'trajectory-studio stats <file.traj.jsonl>...',
  options: {},
  async run(args, io) {
    let invalid = 0;
    for (const file of files(args, io, 'trajectory file')) {
      const f = await openTrajectoryFile(file, { signal: io.signal });
      try {
        const diagnostics = await f.validate({ signal: io.signal });
        invalid += new Set(diagnostics.map((d) => d.line)).size;
        const counts = new Map<string, number>();
        const bump = (key: string, by = 1): void => void counts.set(key, (counts.get(key) ?? 0) + by);
        let valid = 0;
        let steps = 0;
        let maxSteps = 0;
        for (let i = 0; i < f.count; i++) {
          const s = f.summaryOf(i);
          if (!s) continue;
          valid++;
          bump(`status ${s.status}`);
          bump(`domain ${s.domain}`);
          bump(`origin ${s.originKind}`);
          bump(s.correct === undefined ? 'judged no' : s.correct ? 'judged correct' : 'judged wrong');
          if (s.fromFallback) bump('answer from fallback');
          if (s.errorSteps > 0) bump('with an error step');
          bump('error steps', s.errorSteps);
          bump('excluded steps', s.excludedSteps);
          bump('stale steps', s.staleSteps);
          steps += s.stepCount;
          maxSteps = Math.max(maxSteps, s.stepCount);
        }
        io.stdout(`${relative(io, file)}: ${f.count} records (${valid} valid, ${f.count - valid} invalid)\n`);
        const line = (label: string, key: string): void => io.stdout(`  ${label.padEnd(22)}${String(counts.get(key) ?? 0).padStart(8)}  ${percent(counts.get(key) ?? 0, valid)}\n`);
        for (const s of reviewStatusSchema.options) line(s, `status ${s}`);
        line('judged correct', 'judged correct');
        line('judged wrong', 'judged wrong');
        line('not judged', 'judged no');
        line('math', 'domain math');
        line('factual', 'domain factual');
        line('answer from fallback', 'answer from fallback');
        line('with an error step', 'with an error step');
        io.stdout(`  ${'steps'.padEnd(22)}${String(steps).padStart(8)}  mean ${(valid ? steps / valid : 0).toFixed(2)}, max ${maxSteps}\n`);
        io.stdout(`  ${'error steps'.padEnd(22)}${String(counts.get('error steps') ?? 0).padStart(8)}\n`);
        io.stdout(`  ${'excluded steps'.padEnd(22)}${String(counts.get('excluded steps') ?? 0).padStart(8)}\n`);
        io.stdout(`  ${'stale steps'.padEnd(22)}${String(counts.get('stale steps') ?? 0).padStart(8)}\n`);
      } finally {
        await f.close();
      }
    }
    if (invalid > 0) io.stderr(`${invalid} invalid records; run "trajectory-studio validate" for the details\n`);
    return invalid > 0 ? 1 : 0;
  },
};

// ---------------------------------------------------------------------------------------------------------

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'Import reference-implementation records as trajectories, or a question set (JSON, JSONL, CSV) as tasks',
  synopsis: 'trajectory-studio import <input> --format reference|questions --out <file> [--domain math|factual] [--model NAME] [--compat C] [--keep-going]',
  options: {
    format: { type: 'string', value: 'reference|questions', help: 'reference: saved records of the reference implementation (JSONL with log_data) → trajectories (.traj.jsonl); questions: {metadata, examples} JSON, JSONL or CSV with question/answer columns → one task per line' },
    out: { type: 'string', value: 'FILE', help: 'the file to write' },
    domain: { type: 'string', value: 'math|factual', help: 'domain for records that carry none (reference: otherwise guessed from the answer)' },
    model: { type: 'string', value: 'NAME', help: 'teacher model name to record in imported trajectories' },
    compat: { type: 'string', value: 'C', help: 'reference records: each trajectory keeps the decision of the teacher filter (METHOD §6) of this profile, studio (default) or reference; an export of unreviewed trajectories takes only those it keeps' },
    'keep-going': { type: 'boolean', help: 'exit 0 even when some records could not be imported (they are still listed)' },
  },
  async run(args, io) {
    const [input] = files(args, io, 'input file');
    if (args.positionals.length > 1) throw new CliUsageError('import reads one input file at a time');
    const format = requiredStringOption(args, 'format');
    const out = path.resolve(io.cwd, requiredStringOption(args, 'out'));
    const domain = domainOption(args);
    let problems: string[];
    let written: number;
    if (format === 'reference') {
      const model = stringOption(args, 'model');
      const compatibility = compatOption(args);
      // The same filter a teacher run applies, so an export takes the imported trajectories the method would train on.
      const result = await importReferenceRecordsWithTeacherFilter(input, { source: path.basename(input), compatibility, ...(domain ? { domain } : {}), ...(model ? { model } : {}) }, io.signal);
      await writeJsonlAtomically(out, result.trajectories, { signal: io.signal });
      io.stdout(`${describeTeacherFilter(result.teacherFilter)}\n`);
      problems = result.problems.map((p) => `${relative(io, input)}:${p.line}: ${p.message}`);
      written = result.trajectories.length;
    } else if (format === 'questions') {
      const result = await importQuestionFile(input, domain);
      await writeJsonlAtomically(out, result.tasks.map((t) => JSON.stringify(t)), { signal: io.signal });
      problems = result.problems.map((p) => `${relative(io, input)}: ${p.where}: ${p.message}`);
      written = result.tasks.length;
    } else {
      throw new CliUsageError(`--format expects reference or questions, got "${format}"`);
    }
    for (const p of problems) io.stderr(`${p}\n`);
    io.stdout(`wrote ${written} ${format === 'reference' ? 'trajectories' : 'tasks'} to ${relative(io, out)}${problems.length ? `; ${problems.length} records could not be imported (listed above)` : ''}\n`);
    return problems.length > 0 && args.values['keep-going'] !== true ? 1 : 0;
  },
};

// ---------------------------------------------------------------------------------------------------------

async function readTrajectories(paths: readonly string[], io: CliIo, skipInvalid: boolean): Promise<Trajectory[]> {
  const { trajectories: all, problems: located } = await readTrajectoryFiles(paths, io.signal);
  const problems = located.map((p) => relativeProblem(io, p));
  if (problems.length) {
    for (const p of problems.slice(0, 50)) io.stderr(`${p}\n`);
    if (!skipInvalid) throw new Error(`${problems.length} problems in the input (first ones above); fix them, or pass --skip-invalid to export the valid records only`);
    io.stderr(`skipping the invalid records (${problems.length} problems)\n`);
  }
  return all;
}

/** Benchmark questions from question sets (.json, .jsonl, .csv) or trajectory files (.traj.jsonl). */
async function readBenchmarkQuestions(file: string, io: CliIo): Promise<LeakageQuestion[]> {
  const read = await readBenchmarkFile(file, io.signal);
  for (const p of read.problems) io.stderr(`${relativeProblem(io, p)}\n`);
  return read.questions;
}

/** A located problem (`/abs/file:…`) with the file relative to the working folder. */
function relativeProblem(io: CliIo, problem: string): string {
  const prefix = `${io.cwd}${path.sep}`;
  return problem.startsWith(prefix) ? problem.slice(prefix.length) : problem;
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Export accepted trajectories as SFT data (openai/TRL, axolotl, sharegpt) with per-step loss masks and a snapshot hash',
  synopsis: 'trajectory-studio export <file.traj.jsonl>... --out <train.jsonl> [--format openai|axolotl|sharegpt] [options]',
  options: {
    out: { type: 'string', value: 'FILE', help: 'the training file to write (JSONL)' },
    format: { type: 'string', value: 'F', help: 'openai (default: messages, weight 0|1 on assistant turns), axolotl (train flag per message), sharegpt (LLaMA-Factory)' },
    status: { type: 'string', value: 'S', help: 'review statuses to export, comma-separated (default accepted)' },
    'require-correct': { type: 'boolean', help: 'only trajectories judged correct' },
    benchmark: { type: 'string', value: 'FILE', multiple: true, help: 'check the questions against a benchmark file: a .json/.jsonl/.csv question set or a .traj.jsonl' },
    'refuse-leaks': { type: 'boolean', help: 'leave out trajectories whose question is an exact or near duplicate of a benchmark question' },
    'near-threshold': { type: 'string', value: 'X', help: 'share of word trigrams from which a question is a near duplicate (default 0.6)' },
    tokens: { type: 'boolean', help: 'token statistics through the chat template (count, max, over --max-length)' },
    tokenizer: { type: 'string', value: 'T', help: "qwen2.5 (default: shipped) or a folder with the student's tokenizer.json and tokenizer_config.json (its chat template must be ChatML); for --tokens, --preview and over-length; the manifest records it" },
    'max-length': { type: 'string', value: 'N', help: "the trainer's max length in tokens for --tokens (default 10240)" },
    preview: { type: 'string', value: 'N', help: 'print the first N examples with the tokens that carry loss marked ⟦…⟧' },
    ...sftPromptCliOption,
    compat: { type: 'string', value: 'C', help: 'studio (default) or reference: which tokens carry loss, and what a run that ended with the fallback answer call adds (reference: its whole fallback conversation; studio: only the fallback reply trained)' },
    'skip-invalid': { type: 'boolean', help: 'export the valid records when some lines are not valid trajectories' },
    'skip-flag': { type: 'string', value: 'ID', multiple: true, help: 'leave out trajectories that triage flags with these rules (see "trajectory-studio triage"; over-length counts tokens against --max-length), comma-separated' },
  },
  notes: [
    "A manifest <out>.manifest.json records the snapshot hash, the prompt hash, the profile (compatibility, the trainer's `--compat`), the exported ids and every skipped trajectory with its reason.",
  ],
  async run(args, io) {
    const inputs = files(args, io, 'trajectory file');
    const skipFlags = new Set(ruleIdsOption(args, 'skip-flag'));
    const out = path.resolve(io.cwd, requiredStringOption(args, 'out'));
    const format = (stringOption(args, 'format') ?? 'openai') as SftFormat;
    if (!SFT_FORMATS.includes(format)) throw new CliUsageError(`--format expects one of ${SFT_FORMATS.join(', ')}, got "${format}"`);
    const statuses = (stringOption(args, 'status') ?? 'accepted').split(',').map((s) => s.trim()) as ReviewStatus[];
    for (const s of statuses) if (!reviewStatusSchema.options.includes(s)) throw new CliUsageError(`--status expects ${reviewStatusSchema.options.join(', ')}, got "${s}"`);
    const requireCorrect = args.values['require-correct'] === true;
    const compatibility = compatOption(args);
    const prompt = await sftPromptFrom(args, io);
    const fallbackPrompt = await fallbackPromptFrom(args, io);
    // A folder given with --tokenizer is loaded (and checked) before anything is written; the shipped one on first use.
    const tokenizerOption = stringOption(args, 'tokenizer');
    const tokenizerChoice = tokenizerOption === undefined || tokenizerOption === shippedTokenizer ? shippedTokenizer : path.resolve(io.cwd, tokenizerOption);
    let loadedTokenizer: LoadedTokenizer | undefined = tokenizerOption === undefined ? undefined : await loadChosenTokenizer(tokenizerChoice);
    const chosenTokenizer = async (): Promise<LoadedTokenizer> => (loadedTokenizer ??= await loadChosenTokenizer(tokenizerChoice));
    const trajectories = await readTrajectories(inputs, io, args.values['skip-invalid'] === true);

    const withhold = new Map<string, string>();
    let leaks: LeakageMatch[] = [];
    let leakage: ReturnType<typeof checkLeakage> | undefined;
    const benchmarks = listOption(args, 'benchmark');
    if (benchmarks.length) {
      const questions: LeakageQuestion[] = [];
      for (const b of benchmarks) questions.push(...(await readBenchmarkQuestions(path.resolve(io.cwd, b), io)));
      leakage = checkLeakage(trajectories, { statuses, requireCorrect }, questions, { leaveOut: args.values['refuse-leaks'] === true, nearThreshold: numberOption(args, 'near-threshold', 0.6) });
      leaks = leakage.matches;
      for (const m of leaks) io.stderr(`leak: trajectory ${m.trainingId}: ${describeLeak(m)}\n`);
      for (const [id, reason] of leakage.withhold) withhold.set(id, reason);
      io.stdout(`leakage check: ${leaks.length} of ${leakage.candidates} questions match ${questions.length} benchmark questions${leaks.length && args.values['refuse-leaks'] !== true ? ' (kept; pass --refuse-leaks to leave them out)' : ''}\n`);
    }

    if (skipFlags.size) {
      const options = await triageOptionsFrom(args, io);
      // Counted with the export's tokenizer (triageOptionsFrom's counter is the shipped one's).
      if (skipFlags.has('over-length')) {
        const maxLength = numberOption(args, 'max-length', defaultTriageMaxLength);
        options.countTrainingTokens = trainingTokenCounter((await chosenTokenizer()).tokenizer, prompt, maxLength);
      }
      // Only the trajectories the export would take: a duplicate of a rejected record is not one in the export.
      const triage = new FileTriage(options);
      const flaggedOut = new Map<string, number>();
      trajectories
        .filter((t) => exclusionReason(t, { statuses, requireCorrect }) === undefined && !withhold.has(t.id))
        .forEach((t, i) => {
          const hit = triage.add(i, t).find((f) => skipFlags.has(f.rule));
          if (!hit) return;
          withhold.set(t.id, `triage flag ${hit.rule}${hit.step !== undefined ? ` at step ${hit.step + 1}` : ''}: ${hit.message}`);
          flaggedOut.set(hit.rule, (flaggedOut.get(hit.rule) ?? 0) + 1);
        });
      io.stdout(`triage: left out ${[...flaggedOut.values()].reduce((a, b) => a + b, 0)} flagged trajectories${flaggedOut.size ? ` (${[...flaggedOut].map(([r, n]) => `${r} ${n}`).join(', ')})` : ''}\n`);
    }

    const manifest = await exportTrainingData(trajectories, out, {
      format,
      prompt,
      compatibility,
      fallbackPrompt,
      statuses,
      requireCorrect,
      withhold,
      sources: inputs.map((f) => relative(io, f)),
      signal: io.signal,
    });
    const extra: Record<string, unknown> = {};
    if (leakage) extra.leakage = leakageManifestEntry(benchmarks, leakage, args.values['refuse-leaks'] === true);

    const previewCount = numberOption(args, 'preview', 0);
    if (args.values.tokens === true || previewCount > 0) {
      const { tokenizer } = await chosenTokenizer();
      const conversations = exportedConversations(trajectories, manifest, { prompt, fallbackPrompt, compatibility, format });
      if (previewCount > 0) io.stdout(`loss mask (${compatibility}): ${describeLossMask(compatibility)}\n`);
      for (const c of conversations.slice(0, previewCount)) {
        const masked = maskConversation(tokenizer, c, compatibility);
        const label = c.kind === 'fallback' ? `${c.trajectoryId} (fallback example)` : c.trajectoryId;
        io.stdout(`\n===== ${label}: ${masked.inputIds.length} tokens, ${masked.trainedTokens} with loss =====\n${renderMaskPreview(masked, io.isTty)}\n`);
      }
      if (args.values.tokens === true) {
        const stats = tokenStatistics(tokenizer, conversations, numberOption(args, 'max-length', 10_240), io.signal, compatibility);
        extra.tokens = stats;
        io.stdout(
          `tokens: ${stats.totalTokens} in ${stats.examples} examples (${stats.trainedTokens} with loss), mean ${stats.meanTokens}, max ${stats.maxTokens}${stats.longest ? ` (${stats.longest})` : ''}, ${stats.overMaxLength} over ${stats.maxLength}\n`,
        );
      }
    }
    if (loadedTokenizer) extra.tokenizer = loadedTokenizer.record;
    if (Object.keys(extra).length) await writeManifest(out, { ...manifest, extra });

    const reasons = new Map<string, number>();
    for (const s of manifest.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
    for (const [reason, n] of reasons) io.stdout(`left out ${n}: ${reason}\n`);
    const fallbackNote = manifest.fallbackExamples ? `, ${manifest.fallbackExamples} of them fallback examples` : '';
    io.stdout(`exported ${manifest.examples} examples (${format}, ${compatibility} profile${fallbackNote}) to ${relative(io, out)}; ${manifest.trainedTurns} assistant turns with loss, ${manifest.untrainedTurns} without\n`);
    io.stdout(`snapshot ${manifest.snapshot}; manifest ${relative(io, manifestPathFor(out))}\n`);
    return 0;
  },
};

export const trajectoryCommands: readonly CliCommand[] = [validateCommand, statsCommand, importCommand, exportCommand];
