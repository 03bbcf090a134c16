import * as path from 'node:path';
import { cliRunEnvironment, promptsFolderCliOption, retrievalCliOptions, retrievalFromArgs } from '../runEnvironmentArgs';
import { type CliCommand, type CliIo, CliUsageError, numberOption, type ParsedCliArgs, stringOption } from '../command';
import { type AgentEvent, type AgentMode, describeStepError, runAgentEpisode } from '../../agent/agentLoop';
import { loadPromptProfile } from '../../agent/promptProfiles';
import { describeRetry, ModelEndpoint, type RetryInfo } from '../../llm/modelEndpoint';
import { type EndpointRole, endpointRoles, environmentApiKeys, profileFromEnvironment } from '../../llm/profiles';
import { DiskResponseCache } from '../../llm/responseCache';
import { type SamplingSettings } from '../../llm/types';
import { testConnection, formatConnectionReport } from '../../llm/testConnection';
import { startEpisode } from '../../sandbox/index';
import { SympyChecker } from '../../scoring/sympyChecker';
import { sagCliOptions, sagExtrasFromArgs } from '../sagOptions';
import { runOneQuestion } from '../../eval/oneQuestionRun';

function roleOption(args: ParsedCliArgs): EndpointRole {
  const role = stringOption(args, 'profile') ?? 'teacher';
  if (!(endpointRoles as readonly string[]).includes(role)) throw new CliUsageError(`--profile must be one of ${endpointRoles.join(', ')}, got "${role}"`);
  return role as EndpointRole;
}

function wholeNumber(args: ParsedCliArgs, key: string, fallback: number, min: number): number {
  const n = numberOption(args, key, fallback);
  if (!Number.isInteger(n) || n < min) throw new CliUsageError(`--${key} expects a whole number ≥ ${min}, got ${n}`);
  return n;
}

/** The endpoint profile of a role from the environment, with flags on top (flags win). */
function endpointFromArgs(args: ParsedCliArgs, io: CliIo, role: EndpointRole, onRetry?: (info: RetryInfo) => void): ModelEndpoint {
  const profile = profileFromEnvironment(role, io.env);
  const urls = stringOption(args, 'base-url');
  if (urls) profile.baseUrls = urls.split(',').map((u) => u.trim()).filter(Boolean);
  profile.model = stringOption(args, 'model') ?? profile.model;
  const flavor = stringOption(args, 'flavor');
  if (flavor !== undefined) {
    if (flavor !== 'vllm' && flavor !== 'openai') throw new CliUsageError(`--flavor must be vllm or openai, got "${flavor}"`);
    profile.flavor = flavor;
  }
  const timeout = stringOption(args, 'timeout');
  if (timeout !== undefined) profile.timeoutMs = numberOption(args, 'timeout', 0) * 1000;
  const cache = stringOption(args, 'cache');
  return new ModelEndpoint(profile, {
    apiKeys: environmentApiKeys(io.env),
    ...(cache ? { cache: new DiskResponseCache(path.resolve(io.cwd, cache)) } : {}),
    ...(onRetry ? { onRetry } : {}),
  });
}


/** Prints an episode live: each step's streamed text, the observation, the vote, and the answer. */
export function agentEventPrinter(io: CliIo): (event: AgentEvent) => void {
  let atLineStart = true;
  const write = (text: string): void => {
    if (!text) return;
    io.stdout(text);
    atLineStart = text.endsWith('\n');
  };
  const newline = (): void => {
    if (!atLineStart) write('\n');
  };
  return (event) => {
    switch (event.type) {
      case 'step-started':
        newline();
        write(`\n── step ${event.step + 1} ──\n`);
        break;
      case 'model-text':
        if (event.restarted) write('\n[retrying the request]\n');
        if (event.choice === 0) write(event.delta);
        break;
      case 'model-reply':
        newline();
        break;
      case 'vote':
        write(`[vote: ${event.candidates.filter((c) => c.valid).length}/${event.candidates.length} candidates valid; ` +
          `groups ${event.groups.map((g) => g.members.length).join('+') || 'none'}; winner ${event.winner}` +
          `${event.rounds ? `; ${event.rounds.length} ${event.rounds.length === 1 ? 'round' : 'rounds'} (${event.rounds.map((r) => r.candidates).join('+')}), stopped: ${event.stop ?? 'budget'}` : ''}]\n`);
        break;
      case 'code':
        break;
      case 'observation':
        newline();
        write(event.outcome.error ? `Error: ${describeStepError(event.outcome.error)}\n` : `Observation:\n${event.outcome.printOutput}${event.outcome.printOutput.endsWith('\n') || !event.outcome.printOutput ? '' : '\n'}`);
        break;
      case 'step-finished':
        break;
      case 'fallback-started':
        newline();
        write('\n── no answer after the last step: asking for one ──\n');
        break;
      case 'final-answer':
        newline();
        write(`\nFinal answer${event.fromFallback ? ' (fallback)' : ''}: ${event.answer}\n`);
        break;
    }
  };
}

export const askCommand: CliCommand = {
  name: 'ask',
  summary: 'Run the agent on one question and print its steps as they happen',
  synopsis: 'trajectory-studio ask [--profile teacher|student|judge] [options] "question"',
  description: ['The endpoint comes from TRAJECTORY_STUDIO_<PROFILE>_BASE_URLS / _MODEL / _FLAVOR (and _API_KEY), or the flags.'],
  options: {
    profile: { type: 'string', value: endpointRoles.join('|'), help: 'endpoint profile to read from the environment (default teacher)' },
    'base-url': { type: 'string', value: 'URL[,URL]', help: 'OpenAI-compatible base URL(s), e.g. http://127.0.0.1:8000/v1' },
    model: { type: 'string', value: 'NAME', help: 'model name the server serves' },
    flavor: { type: 'string', value: 'vllm|openai', help: 'server kind (vllm: sends top_k, repetition_penalty, continuation)' },
    timeout: { type: 'string', value: 'SECONDS', help: 'per-request limit' },
    prompt: { type: 'string', value: 'NAME|FILE', help: 'prompt profile (default: teacher for the teacher, student otherwise)' },
    ...promptsFolderCliOption,
    'max-steps': { type: 'string', value: 'N', help: 'action steps before the fallback answer (default 5)' },
    sag: { type: 'string', value: 'N', help: 'self-consistent action generation with N candidates per step' },
    shared: { type: 'boolean', help: 'run SAG candidates in one shared state, as the reference did' },
    ...sagCliOptions,
    temperature: { type: 'string', value: 'T', help: 'sampling temperature (default: greedy)' },
    'top-p': { type: 'string', value: 'P', help: 'nucleus sampling share' },
    seed: { type: 'string', value: 'S', help: 'sampling seed (default 42)' },
    'max-tokens': { type: 'string', value: 'N', help: 'most tokens per reply' },
    'first-thought': { type: 'string', value: 'TEXT', help: 'first-thought prefix for the first step' },
    domain: { type: 'string', value: 'math|factual', help: "the question's domain (recorded in the trajectory; default math)" },
    ...retrievalCliOptions,
    cache: { type: 'string', value: 'DIR', help: 'reuse replies to identical requests from this folder' },
    json: { type: 'boolean', help: 'print the trajectory as JSON at the end' },
    out: { type: 'string', value: 'FILE', help: 'write the trajectory to FILE (JSONL) as it grows: rewritten after each step, so an editor can watch it; a stop leaves the finished steps' },
    check: { type: 'boolean', help: 'only test the connection: list the models and the latency' },
  },
  async run(args, io) {
    const role = roleOption(args);
    const endpoint = endpointFromArgs(args, io, role, (info) => {
      io.stderr(`[${describeRetry(info)}]\n`);
    });
    if (args.values.check === true) {
      const report = await testConnection(endpoint.profile, environmentApiKeys(io.env), io.signal);
      io.stdout(formatConnectionReport(report));
      return report.ok ? 0 : 1;
    }
    const question = args.positionals.join(' ').trim();
    if (!question) throw new CliUsageError('give the question as an argument, e.g. ask "What is 17 * 23?"');
    const domain = stringOption(args, 'domain') ?? 'math';
    if (domain !== 'math' && domain !== 'factual') throw new CliUsageError(`--domain must be math or factual, got "${domain}"`);
    const prompt = await loadPromptProfile(stringOption(args, 'prompt') ?? (role === 'teacher' ? 'teacher' : 'student'), cliRunEnvironment(args, io).promptFolders);
    const sagCandidates = stringOption(args, 'sag') === undefined ? undefined : wholeNumber(args, 'sag', 8, 1);
    const sagExtras = sagExtrasFromArgs(args, sagCandidates !== undefined);
    const mode: AgentMode =
      sagCandidates === undefined ? { kind: 'greedy' } : { kind: 'sag', candidates: sagCandidates, isolation: args.values.shared === true ? 'shared' : 'isolated', ...sagExtras };
    const sampling: Partial<SamplingSettings> = {};
    if (stringOption(args, 'temperature') !== undefined) sampling.temperature = numberOption(args, 'temperature', 0);
    if (stringOption(args, 'top-p') !== undefined) sampling.topP = numberOption(args, 'top-p', 1);
    if (stringOption(args, 'seed') !== undefined) sampling.seed = wholeNumber(args, 'seed', 42, 0);
    if (stringOption(args, 'max-tokens') !== undefined) sampling.maxTokens = wholeNumber(args, 'max-tokens', 1024, 1);
    const retrieval = await retrievalFromArgs(args, io);
    // Normalised vote keys compare expressions with sympy, in the interpreter the sandbox uses.
    const symbolic = sagExtras.voteKeys === 'normalized' ? new SympyChecker() : undefined;
    const episode = await startEpisode({
      ...(retrieval ? { webSearch: (query: string, signal?: AbortSignal) => retrieval.search(query, 3, signal) } : {}),
      onWarning: (message) => io.stderr(`warning: ${message}\n`),
      signal: io.signal,
    });
    try {
      const firstThought = stringOption(args, 'first-thought');
      const maxSteps = wholeNumber(args, 'max-steps', 5, 1);
      const originKind = role === 'student' ? 'student' : 'teacher';
      const out = stringOption(args, 'out');
      const print = agentEventPrinter(io);
      const run = runOneQuestion({
        task: { id: 'cli', question, domain },
        origin: { kind: originKind, model: endpoint.profile.model, endpoint: endpoint.profile.name },
        runEpisode: ({ task, signal, onEvent }) =>
          runAgentEpisode(
            {
              task,
              endpoint,
              episode,
              prompt,
              originKind,
              mode,
              maxSteps,
              sampling,
              ...(firstThought ? { firstThoughtPrefix: firstThought.startsWith('Thought:') ? firstThought : `Thought: ${firstThought}\n\n` } : {}),
              streamText: true,
              ...(symbolic ? { symbolic } : {}),
              signal,
            },
            onEvent,
          ),
        ...(out ? { liveFile: path.resolve(io.cwd, out) } : {}),
        signal: io.signal,
      });
      let next = await run.next();
      for (; !next.done; next = await run.next()) if (next.value.type !== 'live-file-written') print(next.value);
      const trajectory = next.value;
      // Stopped by the signal (Ctrl-C): `--out` holds the finished steps, and `runCli` reports the cancellation.
      if (!trajectory) throw new Error('stopped before the answer');
      const usage = endpoint.usage;
      io.stderr(`[${usage.requests} model calls, ${usage.promptTokens} prompt + ${usage.completionTokens} completion tokens${usage.retries ? `, ${usage.retries} retries` : ''}${usage.cacheHits ? `, ${usage.cacheHits} from cache` : ''}]\n`);
      if (args.values.json === true) io.stdout(`${JSON.stringify(trajectory)}\n`);
      return 0;
    } finally {
      await episode.close();
      await symbolic?.close();
    }
  },
};

export const agentCommands: readonly CliCommand[] = [askCommand];
