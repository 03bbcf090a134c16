import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { type Compatibility } from '../trajectory/compatibility';
import { type EpisodeLaunch } from './episode';
import { cachedInterpreter, type PythonInterpreterInfo } from './interpreter';
import { cachedBubblewrapProbe, chooseIsolation, type IsolationMode, type IsolationSetting, planLaunch } from './isolation';
import { type WebSearchHandler } from './types';

/** Modules model code may import by default (METHOD §3). Submodules of a listed module are allowed too. */
export const DEFAULT_ALLOWED_IMPORTS: readonly string[] = [
  'collections', 'datetime', 'itertools', 'math', 'numpy', 'numpy.linalg', 'queue', 'random', 're', 'stat',
  'statistics', 'sympy', 'time', 'unicodedata',
];

/** How to start a sandboxed Python episode. Every field has a default matching the extension's settings. */
export interface EpisodeOptions {
  /** Python to run (the `python.interpreter` setting). Empty: the first `python3` on PATH with numpy and sympy. */
  interpreter?: string;
  /** The `sandbox.isolation` setting. Default `auto`. */
  isolation?: IsolationSetting;
  /** CPU seconds one step may use before `StepTimeout` interrupts it (state kept). Default 30. */
  stepCpuSeconds?: number;
  /**
   * Wall-clock seconds one step may take. Python is interrupted at this point (state kept); code stuck in C
   * is killed `killGraceSeconds` later (state lost). Default: twice the CPU budget, at least 5 s more.
   */
  wallClockSeconds?: number;
  /** Default 2. */
  killGraceSeconds?: number;
  /** Address-space limit in MiB. Default 2048. */
  memoryLimitMb?: number;
  /** Largest file the code may write, in MiB. Default 100. */
  fileSizeLimitMb?: number;
  /** Open files per process. Default 256. */
  openFilesLimit?: number;
  /**
   * Processes and threads the code may start. bwrap: a per-sandbox limit (default 64). rlimits: a margin above
   * the tasks the user already runs (default 256), since the kernel counts all of them there (ignored for root).
   */
  processLimit?: number;
  /** Characters of print output the worker keeps at the head and at the tail of a step. Default 60,000 each. */
  outputCaptureChars?: number;
  /** Bytes written straight to fd 1/2 that are kept per step. Default 32 KiB. */
  rawOutputBytes?: number;
  /** Import allowlist (a policy layer, not the security boundary). `null`: any module. Default: METHOD §3's list. */
  allowedImports?: readonly string[] | null;
  /** Seconds a web_search answer may take before the call fails with an error the model reads. Default 120. */
  toolTimeoutSeconds?: number;
  /** Host side of `web_search`; without it the tool raises an error the model can read. */
  webSearch?: WebSearchHandler;
  /** Path of sandbox_worker.py; found next to the extension or the source tree by default. */
  workerScript?: string;
  /** Run the worker as this user (root-run services and tests); the work folder is given to that user. */
  runAs?: { uid: number; gid: number };
  /** Parent folder of the per-episode work folders. Default: the OS temp folder. */
  workFolderParent?: string;
  /** Isolate SAG candidates by replaying steps in fresh workers even where fork exists (tests). */
  replayCandidates?: boolean;
  /**
   * After a SAG step, fork as many idle candidate processes as it had, from the new state, so the next SAG
   * step starts without waiting for fork(). Costs memory and CPU between steps. Default true.
   */
  prestartCandidates?: boolean;
  /**
   * Whose rules the step outcomes follow (default `studio`): under `reference` the last value is the last
   * statement's value as the reference's interpreter gives it and the execution logs hold stdout only.
   */
  compatibility?: Compatibility;
  /** Called once with a warning when the sandbox runs with weaker isolation than bubblewrap, or the interpreter lacks numpy or sympy. */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

let workerScriptLookup: Promise<string> | undefined;

/** Finds media/python/sandbox_worker.py from the bundle (dist/) or from the source tree (src/sandbox/). */
export function defaultWorkerScript(): Promise<string> {
  workerScriptLookup ??= (async () => {
    const candidates = [
      path.resolve(__dirname, '..', 'media', 'python', 'sandbox_worker.py'),
      path.resolve(__dirname, '..', '..', 'media', 'python', 'sandbox_worker.py'),
    ];
    for (const candidate of candidates) {
      try {
        await access(candidate, constants.R_OK);
        return candidate;
      } catch {
        // next
      }
    }
    throw new Error(`The sandbox worker script was not found (looked in ${candidates.join(', ')})`);
  })();
  return workerScriptLookup;
}

/** The resolved plan shared by every episode started with the same options (pool members, replays). */
export interface PreparedSandbox {
  mode: IsolationMode;
  interpreter: PythonInterpreterInfo;
  warning?: string;
  launch: EpisodeLaunch;
}

/** Resolves the interpreter and isolation for `options` (cached probes) without starting a worker. */
export async function prepareSandbox(options: EpisodeOptions = {}): Promise<PreparedSandbox> {
  const [interpreter, probe, workerScript] = await Promise.all([
    cachedInterpreter(options.interpreter),
    cachedBubblewrapProbe(options.runAs),
    options.workerScript ? Promise.resolve(options.workerScript) : defaultWorkerScript(),
  ]);
  const { mode, warning: isolationWarning } = chooseIsolation(options.isolation ?? 'auto', probe);
  const packageWarning = interpreter.missing.length
    ? `The Python interpreter ${interpreter.executable} (${interpreter.version}) lacks ${interpreter.missing.join(' and ')}; model code that imports ${interpreter.missing.length > 1 ? 'them' : 'it'} will fail. Set trajectoryStudio.python.interpreter to a Python that has both.`
    : undefined;
  const warning = [isolationWarning, packageWarning].filter(Boolean).join(' ') || undefined;
  const cpuSeconds = options.stepCpuSeconds ?? 30;
  const wallSeconds = options.wallClockSeconds ?? Math.max(cpuSeconds * 2, cpuSeconds + 5);
  const mib = 1024 * 1024;
  const allowed = options.allowedImports === undefined ? DEFAULT_ALLOWED_IMPORTS : options.allowedImports;
  const workerConfig = {
    memoryBytes: Math.round((options.memoryLimitMb ?? 2048) * mib),
    fileSizeBytes: Math.round((options.fileSizeLimitMb ?? 100) * mib),
    openFiles: options.openFilesLimit ?? 256,
    // RLIMIT_NPROC counts every process of the user outside a user namespace, so it is only safe in bwrap.
    ...(mode === 'bwrap' ? { processes: options.processLimit ?? 64 } : { processesAboveCurrent: options.processLimit ?? 256 }),
    allowedImports: allowed === null ? null : [...allowed],
    captureChars: options.outputCaptureChars ?? 60_000,
    rawOutputBytes: options.rawOutputBytes ?? 32_768,
    compatibility: options.compatibility ?? 'studio',
  };
  const launch: EpisodeLaunch = {
    mode,
    plan: (workFolder) => planLaunch({ mode, bwrapBinary: probe.binary, interpreter, workerScript, workFolder, workerConfig }),
    ...(options.runAs ? { runAs: options.runAs } : {}),
    ...(options.workFolderParent ? { workFolderParent: options.workFolderParent } : {}),
    cpuSeconds,
    wallSeconds,
    killGraceSeconds: options.killGraceSeconds ?? 2,
    ...(options.webSearch ? { webSearch: options.webSearch } : {}),
    replayCandidates: options.replayCandidates ?? !interpreter.hasFork,
    prestartCandidates: options.prestartCandidates ?? true,
    toolTimeoutSeconds: options.toolTimeoutSeconds ?? 120,
    compatibility: options.compatibility ?? 'studio',
  };
  return { mode, interpreter, ...(warning ? { warning } : {}), launch };
}
