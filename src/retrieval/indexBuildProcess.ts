import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type AnnOptions, type BuildEvent, type BuildIndexOptions, type VectorSource, buildIndex } from './indexBuilder';
import { type EmbeddingPrefixes, OpenAiEmbeddingsClient } from './embeddings';
import { type CorpusFormat } from './corpusFormats';
import { OnnxFolderEmbedder } from './onnxEmbedder';

/**
 * Index builds run in a process of their own (the `index build-worker` command). LanceDB's compaction and
 * IVF_PQ training allocate gigabytes from many native threads; in a long-lived process (the extension host)
 * that memory stays resident after the build, and glibc's per-thread arenas fragment it: importing and
 * compacting 1M passages peaked at 1,065 MB in a plain process and at 768 MB with `MALLOC_ARENA_MAX=2`
 * (and took 48 s instead of 64 s); a whole 1M build with an IVF_PQ index peaks at about 1.0 GB in the
 * worker. A crash in native code ends the worker, not the host, and the build resumes from its last
 * checkpoint.
 */

/** Where a build's vectors come from, in a form that can be sent to another process. */
export type VectorSpec =
  | { kind: 'endpoint'; baseUrl: string; model: string; prefixes: EmbeddingPrefixes; concurrency?: number }
  | { kind: 'onnx'; modelFolder: string; prefixes: EmbeddingPrefixes }
  | { kind: 'faiss'; file: string; model: string; prefixes: EmbeddingPrefixes; baseUrl?: string };

/** `BuildIndexOptions` without the parts that cannot cross a process boundary. */
export interface IndexBuildRequest {
  corpus: string;
  indexDir: string;
  format?: CorpusFormat;
  name?: string;
  vectors?: VectorSpec;
  batchSize?: number;
  fts?: boolean;
  ann?: AnnOptions;
  restart?: boolean;
}

/** The last event of a worker: what the build process used. */
export interface BuildResourcesEvent {
  kind: 'resources';
  peakRssBytes: number;
  message: string;
}

export type BuildProcessEvent = BuildEvent | BuildResourcesEvent;

/** Environment variable that carries an embeddings API key to the worker (never the command line). */
export const embeddingsApiKeyVariable = 'TRAJECTORY_STUDIO_EMBEDDINGS_API_KEY';

/** The vector source a spec describes; embedders are created here, in the process that uses them. */
export function vectorSourceFor(spec: VectorSpec | undefined, apiKey?: string): VectorSource | undefined {
  if (!spec) return undefined;
  const { prefixes } = spec;
  switch (spec.kind) {
    case 'faiss':
      return { kind: 'faiss', file: spec.file, info: { model: spec.model, queryPrefix: prefixes.query, passagePrefix: prefixes.passage, baseUrl: spec.baseUrl } };
    case 'endpoint': {
      const embedder = new OpenAiEmbeddingsClient({ baseUrl: spec.baseUrl, model: spec.model, apiKey, prefixes, concurrency: spec.concurrency });
      return { kind: 'embedder', embedder, info: { source: 'openai-endpoint', model: spec.model, queryPrefix: prefixes.query, passagePrefix: prefixes.passage, baseUrl: spec.baseUrl } };
    }
    case 'onnx': {
      const embedder = new OnnxFolderEmbedder({ modelFolder: spec.modelFolder, prefixes });
      return {
        kind: 'embedder',
        embedder,
        info: { source: 'onnx-folder', model: embedder.model, queryPrefix: prefixes.query, passagePrefix: prefixes.passage, modelFolder: spec.modelFolder },
      };
    }
  }
}

/** Runs a build request here (the worker side), with the embedder made from the spec. */
export async function* runBuildRequest(request: IndexBuildRequest, apiKey: string | undefined, signal?: AbortSignal): AsyncGenerator<BuildEvent> {
  const vectors = vectorSourceFor(request.vectors, apiKey);
  const options: BuildIndexOptions = { ...request, vectors, signal };
  try {
    yield* buildIndex(options);
  } finally {
    if (vectors?.kind === 'embedder' && vectors.embedder instanceof OnnxFolderEmbedder) await vectors.embedder.dispose();
  }
}

export interface BuildProcessOptions {
  /** How to start the CLI: the program and its first arguments, e.g. `[process.execPath, '/…/dist/cli.js']`. */
  cli: readonly string[];
  /** Extra environment for the worker (added to this process's). */
  env?: Readonly<Record<string, string>>;
  apiKey?: string;
  /** Stops the worker (SIGTERM, then SIGKILL after `killAfterMs`); the build resumes from its checkpoint. */
  signal?: AbortSignal;
  killAfterMs?: number;
}

/**
 * Runs a build in a worker process and streams its events. Throws the worker's own error message when
 * the build fails, and `signal.reason` when it was stopped.
 */
export async function* buildIndexInWorker(request: IndexBuildRequest, options: BuildProcessOptions): AsyncGenerator<BuildProcessEvent> {
  const [program, ...prefix] = options.cli;
  if (!program) throw new Error('buildIndexInWorker: no CLI command given');
  const resolved: IndexBuildRequest = { ...request, corpus: path.resolve(request.corpus), indexDir: path.resolve(request.indexDir) };
  const env: Record<string, string | undefined> = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', ...options.env };
  if (options.apiKey) env[embeddingsApiKeyVariable] = options.apiKey;
  options.signal?.throwIfAborted();
  const child = spawn(program, [...prefix, 'index', 'build-worker', '--request', JSON.stringify(resolved)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  // stdin stays open and unused: the worker exits when it closes, so it never outlives this process
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > 200) stderr.splice(0, stderr.length - 200);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve({ code, signal: sig }));
  });
  exited.catch(() => undefined);
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 10_000);
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      let event: BuildProcessEvent;
      try {
        event = JSON.parse(line) as BuildProcessEvent;
      } catch {
        stderr.push(`${line}\n`);
        continue;
      }
      yield event;
    }
    const { code, signal } = await exited;
    options.signal?.throwIfAborted();
    if (code !== 0) {
      const message = stderr.join('').trim().split('\n').filter(Boolean).at(-1) ?? '';
      const cleaned = message.replace(/^trajectory-studio index build-worker: /, '');
      throw new Error(cleaned || `the index build process ended with ${signal ? `signal ${signal}` : `exit code ${code}`}`);
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
    if (child.exitCode === null && child.signalCode === null) {
      // the consumer stopped reading early: do not leave the worker running
      stop();
      await exited.catch(() => undefined);
    }
    if (killTimer) clearTimeout(killTimer);
  }
}
