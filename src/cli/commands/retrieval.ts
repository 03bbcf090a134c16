import * as path from 'node:path';
import { type CliCommand, type CliIo, type CliOptionSpecs, type ParsedCliArgs, CliUsageError, optionGroup, numberOption, requiredStringOption, stringOption } from '../command';
import { type CorpusFormat, corpusFormats } from '../../retrieval/corpusFormats';
import { type AnnOptions, defaultAnnQuery } from '../../retrieval/indexBuilder';
import { type BuildProcessEvent, type IndexBuildRequest, type VectorSpec, buildIndexInWorker, embeddingsApiKeyVariable, runBuildRequest } from '../../retrieval/indexBuildProcess';
import { type EmbeddingPrefixes, OpenAiEmbeddingsClient, e5Prefixes } from '../../retrieval/embeddings';
import { OnnxFolderEmbedder } from '../../retrieval/onnxEmbedder';
import { type SearchMode, LanceRetrievalBackend, describeIndex, searchModes } from '../../retrieval/lanceIndex';
import { formatWebSearchResult } from '../../retrieval/webSearchText';
import { serveRetrieval } from '../../retrieval/retrieveApi';
import { formatBytes } from '../../retrieval/sizeText';
import { embeddingsApiKeyFromEnvironment } from '../../runs/runEnvironment';

function embeddingsApiKey(io: CliIo): string | undefined {
  return embeddingsApiKeyFromEnvironment(io.env);
}

function positiveIntegerOption(args: ParsedCliArgs, key: string): number | undefined {
  if (args.values[key] === undefined) return undefined;
  const n = numberOption(args, key, 1);
  if (!Number.isInteger(n) || n < 1) throw new CliUsageError(`--${key} must be a positive integer, got "${String(args.values[key])}"`);
  return n;
}

function prefixesFrom(args: ParsedCliArgs): EmbeddingPrefixes {
  return { query: stringOption(args, 'query-prefix') ?? e5Prefixes.query, passage: stringOption(args, 'passage-prefix') ?? e5Prefixes.passage };
}

function modeFrom(args: ParsedCliArgs): SearchMode | undefined {
  const mode = stringOption(args, 'mode');
  if (mode === undefined) return undefined;
  if (!(searchModes as readonly string[]).includes(mode)) throw new CliUsageError(`--mode must be one of ${searchModes.join(', ')}, got "${mode}"`);
  return mode as SearchMode;
}

/** A query embedder given on the command line (overrides what the index manifest records). */
function queryEmbedderFrom(args: ParsedCliArgs, io: CliIo): OpenAiEmbeddingsClient | OnnxFolderEmbedder | undefined {
  const url = stringOption(args, 'embeddings-url');
  const onnx = stringOption(args, 'onnx-model');
  if (url && onnx) throw new CliUsageError('give either --embeddings-url or --onnx-model, not both');
  if (url) return new OpenAiEmbeddingsClient({ baseUrl: url, model: requiredStringOption(args, 'embeddings-model'), apiKey: embeddingsApiKey(io), prefixes: prefixesFrom(args) });
  if (onnx) return new OnnxFolderEmbedder({ modelFolder: path.resolve(io.cwd, onnx), prefixes: prefixesFrom(args) });
  return undefined;
}

/** The query embedder flags (`index build` embeds passages with them too); read by {@link queryEmbedderFrom}. */
const embeddingOptions = {
  'embeddings-url': { type: 'string', value: 'URL', help: 'OpenAI-compatible base URL (…/v1) of an embeddings server' },
  'embeddings-model': { type: 'string', value: 'NAME', help: 'model name to send (required with --embeddings-url)' },
  'onnx-model': { type: 'string', value: 'DIR', help: 'local ONNX model folder (needs @huggingface/transformers)' },
  'query-prefix': { type: 'string', value: 'S', help: `prefix for queries (default ${JSON.stringify(e5Prefixes.query)})` },
  'passage-prefix': { type: 'string', value: 'S', help: `prefix for passages (default ${JSON.stringify(e5Prefixes.passage)})` },
} as const satisfies CliOptionSpecs;

/** The same flags as the query embedder that overrides the one the index records. */
const queryEmbedderOptions = optionGroup("Query embedder (default: the index's own)", embeddingOptions);

const embeddingsKeyNote = 'API key for the embeddings server: TRAJECTORY_STUDIO_EMBEDDINGS_API_KEY or OPENAI_API_KEY.';

export const indexBuildCommand: CliCommand = {
  name: 'index build',
  summary: 'Build (or resume) a LanceDB retrieval index from a passage corpus',
  synopsis: 'trajectory-studio index build --corpus FILE --out DIR [options]',
  options: {
    corpus: { type: 'string', value: 'FILE', help: 'wiki-18 JSONL {id, contents}, JSONL {id, title, text}, or DPR TSV (id, text, title)' },
    out: { type: 'string', value: 'DIR', help: 'index folder; an interrupted build there resumes where it stopped' },
    format: { type: 'string', value: corpusFormats.join('|'), help: 'corpus format (default: detected from the file)' },
    name: { type: 'string', value: 'NAME', help: 'display name (default: the folder name)' },
    restart: { type: 'boolean', help: 'discard what the folder holds and build from the start' },
    'no-fts': { type: 'boolean', help: 'skip the full-text (BM25) index' },
    'batch-size': { type: 'string', value: 'N', help: 'passages per write and per embedding round' },
    ...optionGroup('Dense vectors (optional; BM25 needs none)', {
      ...embeddingOptions,
      'embeddings-concurrency': { type: 'string', value: 'N', help: 'requests in flight (default 4)' },
      faiss: { type: 'string', value: 'FILE', help: 'import vectors from a FAISS IndexFlatIP file, row i = corpus record i (give --embeddings-url/--embeddings-model too, to embed queries later)' },
      ann: { type: 'string', value: 'auto|none|ivf-pq', help: 'vector index (default auto: IVF_PQ from 20,000 rows)' },
      partitions: { type: 'string', value: 'N', help: 'IVF partitions (default √rows / 2)' },
      'sub-vectors': { type: 'string', value: 'N', help: 'PQ sub-vectors (default dims / 4: 192 for 768-d)' },
      'refine-factor': { type: 'string', value: 'N', help: `IVF_PQ refine factor recorded for queries (default ${defaultAnnQuery.refineFactor})` },
      nprobes: { type: 'string', value: 'N', help: `IVF_PQ partitions probed per query (default ${defaultAnnQuery.nprobes})` },
    }),
  },
  notes: [embeddingsKeyNote],
  async run(args, io) {
    const corpus = path.resolve(io.cwd, requiredStringOption(args, 'corpus'));
    const out = path.resolve(io.cwd, requiredStringOption(args, 'out'));
    const format = stringOption(args, 'format');
    if (format !== undefined && !(corpusFormats as readonly string[]).includes(format)) throw new CliUsageError(`--format must be one of ${corpusFormats.join(', ')}`);
    const annMode = stringOption(args, 'ann') ?? 'auto';
    if (annMode !== 'auto' && annMode !== 'none' && annMode !== 'ivf-pq') throw new CliUsageError('--ann must be auto, none or ivf-pq');
    const ann: AnnOptions = {
      mode: annMode,
      refineFactor: args.values['refine-factor'] === undefined ? undefined : numberOption(args, 'refine-factor', defaultAnnQuery.refineFactor),
      nprobes: args.values.nprobes === undefined ? undefined : numberOption(args, 'nprobes', defaultAnnQuery.nprobes),
      numPartitions: positiveIntegerOption(args, 'partitions'),
      numSubVectors: positiveIntegerOption(args, 'sub-vectors'),
    };
    const prefixes = prefixesFrom(args);
    const faiss = stringOption(args, 'faiss');
    const url = stringOption(args, 'embeddings-url');
    const onnx = stringOption(args, 'onnx-model');
    let vectors: VectorSpec | undefined;
    if (faiss) {
      if (onnx) throw new CliUsageError('--faiss imports vectors; give --embeddings-url (for queries) rather than --onnx-model');
      vectors = { kind: 'faiss', file: path.resolve(io.cwd, faiss), model: stringOption(args, 'embeddings-model') ?? 'intfloat/e5-base-v2', prefixes, baseUrl: url };
    } else if (url) {
      vectors = { kind: 'endpoint', baseUrl: url, model: requiredStringOption(args, 'embeddings-model'), prefixes, concurrency: numberOption(args, 'embeddings-concurrency', 4) };
    } else if (onnx) {
      vectors = { kind: 'onnx', modelFolder: path.resolve(io.cwd, onnx), prefixes };
    }
    const request: IndexBuildRequest = {
      corpus,
      indexDir: out,
      format: format as CorpusFormat | undefined,
      name: stringOption(args, 'name'),
      vectors,
      batchSize: args.values['batch-size'] === undefined ? undefined : numberOption(args, 'batch-size', 20_000),
      fts: args.values['no-fts'] !== true,
      ann,
      restart: args.values.restart === true,
    };
    // Run as a program, the build goes to a worker process with a memory-friendly allocator setting
    // (see indexBuildProcess.ts); called as a library (tests), it runs here.
    const apiKey = embeddingsApiKey(io);
    const events: AsyncIterable<BuildProcessEvent> = io.selfCommand
      ? buildIndexInWorker(request, { cli: io.selfCommand, apiKey, signal: io.signal })
      : runBuildRequest(request, apiKey, io.signal);
    let lastDraw = 0;
    for await (const event of events) {
      if (event.kind === 'resources') continue;
      if (event.kind === 'progress') {
        // On a terminal the line redraws in place; in a log, one line every 5 s at most.
        const now = Date.now();
        if (io.isTty) io.stdout(`\r\x1b[K${event.message}`);
        else if (now - lastDraw >= 5000 || event.fraction >= 1) {
          io.stdout(`${event.message}\n`);
          lastDraw = now;
        }
        continue;
      }
      if (io.isTty) io.stdout('\r\x1b[K');
      if (event.kind === 'bad-row') io.stderr(`${event.message}\n`);
      else io.stdout(`${event.message}\n`);
    }
    return 0;
  },
};

export const indexBuildWorkerCommand: CliCommand = {
  name: 'index build-worker',
  summary: 'Run one index build as a worker process (started by "index build" and by VS Code)',
  synopsis: 'trajectory-studio index build-worker --request JSON',
  description: [
    `Builds the index the request describes and writes every build event as one JSON line on stdout, then a "resources" line with the process's peak memory. The embeddings API key comes from ${embeddingsApiKeyVariable}.`,
  ],
  options: { request: { type: 'string', value: 'JSON', help: 'the build to run (an IndexBuildRequest: corpus, indexDir, and the build settings)' } },
  async run(args, io) {
    let request: IndexBuildRequest;
    try {
      request = JSON.parse(requiredStringOption(args, 'request')) as IndexBuildRequest;
    } catch (err) {
      throw new CliUsageError(`--request is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (typeof request.corpus !== 'string' || typeof request.indexDir !== 'string') throw new CliUsageError('--request needs "corpus" and "indexDir"');
    if (io.selfCommand) {
      // The parent holds our stdin open: when it dies (killed, crashed) the pipe closes and so do we, at
      // once, as if killed with it; the next build resumes from the last checkpoint either way.
      process.stdin.once('end', () => process.exit(1));
      process.stdin.resume();
    }
    try {
      for await (const event of runBuildRequest(request, embeddingsApiKey(io), io.signal)) io.stdout(`${JSON.stringify(event)}\n`);
    } finally {
      // stop watching the pipe, or it would keep this process alive after the build
      if (io.selfCommand) process.stdin.destroy();
    }
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    const resources: BuildProcessEvent = { kind: 'resources', peakRssBytes, message: `The build process peaked at ${formatBytes(peakRssBytes)} of memory` };
    io.stdout(`${JSON.stringify(resources)}\n`);
    return 0;
  },
};

export const indexSearchCommand: CliCommand = {
  name: 'index search',
  summary: 'Search a retrieval index (full-text, vector or hybrid)',
  synopsis: 'trajectory-studio index search DIR QUERY [options]',
  options: {
    mode: { type: 'string', value: searchModes.join('|'), help: 'search mode (default: hybrid when the index has vectors, else fts)' },
    k: { type: 'string', value: 'N', help: 'passages to return (default 3)' },
    output: { type: 'string', value: 'web-search|json|table', help: "web-search: the exact text the agent's web_search tool returns; json; table (default)" },
    ...queryEmbedderOptions,
  },
  notes: [embeddingsKeyNote],
  async run(args, io) {
    const [dir, ...words] = args.positionals;
    if (!dir || words.length === 0) throw new CliUsageError('give the index folder and the query');
    const query = words.join(' ');
    const topK = numberOption(args, 'k', 3);
    if (!Number.isInteger(topK) || topK < 1) throw new CliUsageError('--k must be a positive integer');
    const output = stringOption(args, 'output') ?? 'table';
    if (!['web-search', 'json', 'table'].includes(output)) throw new CliUsageError('--output must be web-search, json or table');
    const backend = await LanceRetrievalBackend.open(path.resolve(io.cwd, dir), {
      prewarm: 'never',
      mode: modeFrom(args),
      queryEmbedder: queryEmbedderFrom(args, io),
      apiKey: embeddingsApiKey(io),
    });
    try {
      const hits = await backend.searchHits(query, { topK, signal: io.signal });
      if (output === 'web-search') io.stdout(`${formatWebSearchResult(hits)}\n`);
      else if (output === 'json') io.stdout(`${JSON.stringify({ mode: backend.mode, scoreScale: backend.scoreScale, hits }, null, 2)}\n`);
      else {
        io.stdout(`${hits.length} passages, ${backend.mode} search; score = ${backend.scoreScale}\n`);
        hits.forEach((h, i) => {
          const snippet = h.text.length > 160 ? `${h.text.slice(0, 157)}…` : h.text;
          io.stdout(`\n${i + 1}. [${h.score.toFixed(2)}] ${h.title} (id ${h.id}, corpus line ${h.line})\n   ${snippet}\n`);
        });
      }
    } finally {
      backend.close();
    }
    return 0;
  },
};

export const indexInfoCommand: CliCommand = {
  name: 'index info',
  summary: 'Show what a retrieval index holds (rows, size, indexes, embedding model, build state)',
  synopsis: 'trajectory-studio index info DIR [--json]',
  options: { json: { type: 'boolean', help: 'print the summary as JSON' } },
  async run(args, io) {
    const [dir] = args.positionals;
    if (!dir) throw new CliUsageError('give the index folder');
    const summary = await describeIndex(path.resolve(io.cwd, dir));
    if (args.values.json === true) {
      io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
      return 0;
    }
    const m = summary.manifest;
    const lines = [
      `name:       ${m.name}`,
      `folder:     ${summary.dir}`,
      `rows:       ${m.rows.toLocaleString('en-US')}${m.badRows ? ` (${m.badRows} bad corpus rows skipped)` : ''}`,
      `size:       ${formatBytes(summary.sizeBytes)}`,
      `corpus:     ${m.corpus.path} (${m.corpus.format})`,
      `state:      ${m.builtAt ? `built ${m.builtAt}` : `unfinished: ${m.rows} rows, stopped after line ${m.progress.linesConsumed}; run index build again to resume`}`,
      `indexes:    ${summary.indexes.join('; ') || 'none'}`,
      `embedding:  ${m.embedding ? `${m.embedding.model}, ${m.embedding.dims}-d, from ${m.embedding.source}, prefixes ${JSON.stringify(m.embedding.queryPrefix)} / ${JSON.stringify(m.embedding.passagePrefix)}` : 'none (full-text only)'}`,
    ];
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  },
};

export const serveRetrievalCommand: CliCommand = {
  name: 'serve-retrieval',
  summary: 'Serve a retrieval index over the community POST /retrieve API on 127.0.0.1',
  synopsis: 'trajectory-studio serve-retrieval --index DIR [--port 8000] [--mode fts|vector|hybrid] [query embedder options]',
  description: ['Answers POST /retrieve {"queries":[…],"topk":3,"return_scores":true} and GET /health, on 127.0.0.1 only.'],
  options: {
    index: { type: 'string', value: 'DIR', help: 'the index folder to serve' },
    port: { type: 'string', value: 'N', help: 'port on 127.0.0.1 (default 8000; 0 picks a free one)' },
    mode: { type: 'string', value: searchModes.join('|'), help: 'search mode (default: hybrid when the index has vectors, else fts)' },
    prewarm: { type: 'string', value: 'auto|always|never', help: 'load the full-text indexes into memory at start (default auto: corpora up to 1 GB, when free memory allows; 1M passages take about 400 MB)' },
    ...queryEmbedderOptions,
  },
  notes: [embeddingsKeyNote],
  async run(args, io) {
    const prewarm = stringOption(args, 'prewarm') ?? 'auto';
    if (prewarm !== 'auto' && prewarm !== 'always' && prewarm !== 'never') throw new CliUsageError(`--prewarm must be auto, always or never, got "${prewarm}"`);
    const backend = await LanceRetrievalBackend.open(path.resolve(io.cwd, requiredStringOption(args, 'index')), {
      prewarm,
      mode: modeFrom(args),
      queryEmbedder: queryEmbedderFrom(args, io),
      apiKey: embeddingsApiKey(io),
    });
    const port = numberOption(args, 'port', 8000);
    const server = await serveRetrieval(backend, { port, log: (line) => io.stderr(`${line}\n`) });
    io.stdout(`Serving ${backend.description} at ${server.url}/retrieve (scores: ${backend.scoreScale}). Ctrl-C stops.\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    backend.close();
    io.stdout('Stopped.\n');
    return 0;
  },
};

export const retrievalCommands: readonly CliCommand[] = [indexBuildCommand, indexSearchCommand, indexInfoCommand, serveRetrievalCommand, indexBuildWorkerCommand];
