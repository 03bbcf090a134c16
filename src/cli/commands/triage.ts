import * as path from 'node:path';
import { type CliCommand, type CliIo, CliUsageError, listOption, numberOption, optionalIntOption, type ParsedCliArgs, stringOption } from '../command';
import { sftPromptCliOption, sftPromptFrom } from '../sftPromptOption';
import { defaultTriageMaxLength, type TriageOptions } from '../../triage/checks';
import { triageFile, type TriagedRecord } from '../../triage/fileTriage';
import { flagTitle, type FlagSeverity, isTriageRuleId, severityWeight, TRIAGE_RULE_IDS, type TriageFlag } from '../../triage/flags';
import { trainingTokenCounter } from '../../triage/trainingTokens';
import { loadRubric, RubricError, type Rubric } from '../../triage/rubric';
import { judgeTrajectoryFile } from '../../triage/rubricJudge';
import { judgeEndpointFromEnvironment } from '../judgeEndpoint';
import { loadQwenTokenizer } from '../../trajectory/tokenMask';

/**
 * `trajectory-studio triage FILE…`: the defects a reviewer would look for, per trajectory and step, with
 * counts by rule. Text for people (flagged trajectories in file or risk order, then the counts), JSON Lines
 * for tools (`--json`: one object per flagged trajectory, then one summary object per file).
 */

/** Rule ids named on the command line, checked: a deterministic rule id or `rubric:<criterion>`. */
export function ruleIdsOption(args: ParsedCliArgs, key: string): string[] {
  const ids = listOption(args, key, true);
  for (const id of ids) {
    if (!isTriageRuleId(id) && !/^rubric:[\w-]+$/.test(id)) {
      throw new CliUsageError(`--${key}: unknown rule "${id}"; rules are ${TRIAGE_RULE_IDS.join(', ')}, or rubric:<criterion id>`);
    }
  }
  return ids;
}

function severityOption(args: ParsedCliArgs, key: string): FlagSeverity | undefined {
  const v = stringOption(args, key);
  if (v === undefined) return undefined;
  if (v !== 'high' && v !== 'medium' && v !== 'low') throw new CliUsageError(`--${key} expects high, medium or low, got "${v}"`);
  return v;
}

/**
 * The triage settings a command line asks for; `over-length` needs the tokenizer and the prompt the export
 * trains with, so it runs only when `--max-length` is given.
 */
export async function triageOptionsFrom(args: ParsedCliArgs, io: CliIo): Promise<TriageOptions> {
  const options: TriageOptions = {};
  if (args.values['allow-unboxed'] === true) options.requireBoxed = false;
  const agreement = stringOption(args, 'low-agreement');
  if (agreement !== undefined) {
    const x = Number(agreement);
    if (!(x > 0 && x < 1)) throw new CliUsageError(`--low-agreement expects a share between 0 and 1, got "${agreement}"`);
    options.lowAgreement = x;
  }
  const maxLength = optionalIntOption(args, 'max-length');
  if (maxLength !== undefined) {
    if (maxLength <= 0) throw new CliUsageError(`--max-length expects a positive number of tokens, got ${maxLength}`);
    options.maxLength = maxLength;
    options.countTrainingTokens = trainingTokenCounter(await loadQwenTokenizer(), await sftPromptFrom(args, io), maxLength);
  }
  return options;
}

/** A rubric file, or a usage error listing every problem with its line and field. */
async function loadRubricForCli(file: string): Promise<Rubric> {
  try {
    return await loadRubric(file);
  } catch (err) {
    if (err instanceof RubricError) throw new CliUsageError(err.message);
    throw err;
  }
}

function relative(io: CliIo, file: string): string {
  const r = path.relative(io.cwd, file);
  return r.startsWith('..') ? file : r;
}

function formatFlag(f: TriageFlag): string {
  const where = f.step === undefined ? 'whole' : `step ${f.step + 1}`;
  const evidence = f.evidence ? `\n      ${'evidence:'.padEnd(9)} ${f.evidence}` : '';
  return `  ${where.padEnd(8)} ${f.severity.padEnd(6)} ${f.rule.padEnd(26)} ${f.message}${evidence}\n`;
}

export const triageCommand: CliCommand = {
  name: 'triage',
  summary: 'Flag the steps a careful reviewer would question (ungrounded answers, typed answers, ignored errors, …), with counts by rule',
  synopsis: 'trajectory-studio triage <file.traj.jsonl>... [--sort file|risk] [--limit N] [--rule ID...] [--json] [options]',
  options: {
    sort: { type: 'string', value: 'file|risk', help: 'list flagged trajectories in file order (default) or highest risk first' },
    limit: { type: 'string', value: 'N', help: 'list at most N flagged trajectories per file (default 50; 0 lists none); counts are always complete' },
    rule: { type: 'string', value: 'ID', multiple: true, help: 'list only trajectories with these rules, comma-separated' },
    json: { type: 'boolean', help: 'JSON Lines: {"kind":"trajectory",…} per flagged trajectory, then {"kind":"summary",…} per file' },
    'max-length': { type: 'string', value: 'N', help: 'also flag trajectories whose training text exceeds N tokens (Qwen2.5 tokenizer; the method trains with 10240)' },
    ...sftPromptCliOption,
    'allow-unboxed': { type: 'boolean', help: 'do not flag math answers without \\boxed{}' },
    'low-agreement': { type: 'string', value: 'X', help: 'flag SAG steps whose winning group holds at most this share of the candidates (default 0.5)' },
    'fail-on': { type: 'string', value: 'S', help: 'exit 1 when any flag has severity S or higher (high, medium, low)' },
    rubric: { type: 'string', value: 'R', help: 'first judge each trajectory with the rubric file R (the judge endpoint from TRAJECTORY_STUDIO_JUDGE_*); findings are saved into the file (cached: unchanged trajectories are not judged again) and flagged as rubric:<criterion>' },
    concurrency: { type: 'string', value: 'N', help: 'rubric requests at once (default 4)' },
  },
  notes: [`Rules: ${TRIAGE_RULE_IDS.join(', ')}.`],
  async run(args, io) {
    if (args.positionals.length === 0) throw new CliUsageError('give at least one trajectory file');
    const sort = stringOption(args, 'sort') ?? 'file';
    if (sort !== 'file' && sort !== 'risk') throw new CliUsageError(`--sort expects file or risk, got "${sort}"`);
    const limit = numberOption(args, 'limit', 50);
    const only = new Set(ruleIdsOption(args, 'rule'));
    const json = args.values.json === true;
    const failOn = severityOption(args, 'fail-on');
    const options = await triageOptionsFrom(args, io);
    const rubricPath = stringOption(args, 'rubric');
    const rubric = rubricPath !== undefined ? await loadRubricForCli(path.resolve(io.cwd, rubricPath)) : undefined;
    const judge = rubric ? judgeEndpointFromEnvironment(io, '--rubric') : undefined;
    const concurrency = optionalIntOption(args, 'concurrency');
    let invalid = 0;
    let failing = false;

    for (const input of args.positionals) {
      const file = path.resolve(io.cwd, input);
      const name = relative(io, file);
      // Keeps the listed records only (at most `limit`), so memory stays flat on huge files.
      if (rubric && judge) {
        const judged = await judgeTrajectoryFile(file, rubric, {
          judge,
          model: judge.profile.model,
          signal: io.signal,
          ...(concurrency !== undefined ? { concurrency } : {}),
          ...(io.isTty ? { onProgress: (done: number, total: number) => io.stderr(`\r${name}: judged ${done}/${total}${done === total ? '\n' : ''}`) } : {}),
        });
        const stopped = judged.stoppedBy ? `; stopped: ${judged.stoppedBy}` : judged.cancelled ? '; cancelled' : '';
        if (judged.stoppedBy) failing = true;
        io.stderr(`${name}: rubric "${rubric.name}": ${judged.requests} judged, ${judged.cacheHits} unchanged since the last judging, ${judged.errors} judge errors, ${judged.written} records updated${stopped}\n`);
      }
      const listed: TriagedRecord[] = [];
      let matching = 0;
      const result = await triageFile(file, {
        ...options,
        signal: io.signal,
        onRecord(record) {
          if (failOn && record.flags.some((f) => severityWeight[f.severity] >= severityWeight[failOn])) failing = true;
          const shown = only.size ? record.flags.filter((f) => only.has(f.rule)) : record.flags;
          if (shown.length === 0) return;
          matching++;
          const entry = { ...record, flags: shown };
          if (json) {
            io.stdout(`${JSON.stringify({ kind: 'trajectory', file: name, line: entry.line, id: entry.id, taskId: entry.taskId, risk: entry.risk, flags: entry.flags })}\n`);
            return;
          }
          if (limit <= 0) return;
          if (sort === 'file') {
            if (listed.length < limit) listed.push(entry);
            return;
          }
          // Highest risk first; ties keep file order.
          let at = listed.length;
          while (at > 0 && listed[at - 1].risk < entry.risk) at--;
          if (at < limit) {
            listed.splice(at, 0, entry);
            if (listed.length > limit) listed.pop();
          }
        },
      });
      invalid += result.invalid.length;
      for (const d of result.invalid) io.stderr(`${name}:${d.line}: ${d.path ?? '$'}: ${d.message} (not triaged)\n`);
      if (json) {
        io.stdout(`${JSON.stringify({ kind: 'summary', file: name, records: result.records, valid: result.valid, flagged: result.flagged, invalid: result.invalid.length, byRule: Object.fromEntries(result.byRule) })}\n`);
        continue;
      }
      for (const r of listed) {
        io.stdout(`${name}:${r.line}  task ${r.taskId}  (${r.id})  risk ${r.risk}\n`);
        for (const f of r.flags) io.stdout(formatFlag(f));
      }
      if (matching > listed.length && limit > 0) io.stdout(`… ${matching - listed.length} more flagged trajectories not listed (--limit)\n`);
      io.stdout(`${name}: ${result.valid} trajectories, ${result.flagged} flagged${result.invalid.length ? `, ${result.invalid.length} invalid lines not triaged` : ''}\n`);
      for (const [rule, n] of result.byRule) io.stdout(`  ${rule.padEnd(26)}${String(n).padStart(8)}  ${flagTitle(rule)}\n`);
      if (options.countTrainingTokens === undefined) io.stdout(`  (over-length not checked: pass --max-length ${defaultTriageMaxLength} to count training tokens)\n`);
    }
    return invalid > 0 || failing ? 1 : 0;
  },
};
