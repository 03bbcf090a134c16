import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandIds, ViewIds } from '../platform/ids';
import { registerStudioCommand } from '../platform/commands';
import { runWithProgress } from '../platform/progress';
import { readSetting } from '../platform/settings';
import { showReadOnlyDocument } from '../platform/readOnlyDocuments';
import { type StudioServices } from '../platform/services';
import { type IndexSummary, LanceRetrievalBackend, deleteIndex, listIndexes } from './lanceIndex';
import { type BuildEvent } from './indexBuilder';
import { type BuildProcessEvent, type VectorSpec, buildIndexInWorker } from './indexBuildProcess';
import { e5Prefixes } from './embeddings';
import { formatBytes } from './sizeText';
import { type RetrievalSetting } from './retrievalSetting';
import { indexRootFromSettings } from '../runs/runEnvironment';
import { settingsPlaces } from '../runs/runEnvironment.vscode';

/** The folder holding the indexes: the setting, relative to the first workspace folder, else extension storage. */
export function retrievalIndexRoot(context: vscode.ExtensionContext): string {
  return indexRootFromSettings(readSetting, settingsPlaces(context));
}

/**
 * Asks which index a run's `web_search` uses: a finished index under the index folder (full-text search, and
 * hybrid search where the index has vectors), a `/retrieve` server, or none. Teacher generation and
 * evaluation ask with this.
 */
export async function pickRunRetrieval(title: string, indexRoot: string): Promise<RetrievalSetting | undefined> {
  const indexes = (await listIndexes(indexRoot)).filter((i) => i.manifest.builtAt);
  type Item = vscode.QuickPickItem & { retrieval: RetrievalSetting };
  const items: Item[] = [
    ...indexes.flatMap((i): Item[] => [
      { label: i.manifest.name, description: `${i.manifest.rows} passages · full-text search`, detail: i.dir, retrieval: { kind: 'lancedb', indexDir: i.dir, mode: 'fts' } },
      ...(i.manifest.embedding
        ? [{ label: i.manifest.name, description: `${i.manifest.rows} passages · hybrid search (full text and ${i.manifest.embedding.model})`, detail: i.dir, retrieval: { kind: 'lancedb', indexDir: i.dir, mode: 'hybrid' } } satisfies Item]
        : []),
    ]),
    { label: 'A /retrieve server…', description: 'enter its URL', retrieval: { kind: 'http', url: '' } },
    { label: 'No retrieval', description: indexes.length ? 'web_search answers with an error' : `no finished index in ${indexRoot}; web_search answers with an error`, retrieval: { kind: 'none' } },
  ];
  const picked = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.retrieval.kind === 'http') {
    const url = await vscode.window.showInputBox({ title, prompt: 'URL of the /retrieve server', value: 'http://127.0.0.1:8000', ignoreFocusOut: true });
    return url ? { kind: 'http', url } : undefined;
  }
  return picked.retrieval;
}

class RetrievalIndexItem extends vscode.TreeItem {
  constructor(readonly summary: IndexSummary) {
    super(summary.manifest.name, vscode.TreeItemCollapsibleState.None);
    const m = summary.manifest;
    const state = m.builtAt ? '' : ' · unfinished';
    this.description = `${m.rows.toLocaleString()} rows · ${formatBytes(summary.sizeBytes)}${state}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(`${m.name}\n\n`);
    tooltip.appendText(`Rows: ${m.rows.toLocaleString()}${m.badRows ? ` (${m.badRows} bad corpus rows skipped)` : ''}\n`);
    tooltip.appendText(`Size on disk: ${formatBytes(summary.sizeBytes)}\n`);
    tooltip.appendText(`Indexes: ${summary.indexes.join('; ') || 'none'}\n`);
    tooltip.appendText(`Embedding model: ${m.embedding ? `${m.embedding.model} (${m.embedding.dims}-d, ${m.embedding.source})` : 'none (full-text only)'}\n`);
    tooltip.appendText(`Built: ${m.builtAt ? new Date(m.builtAt).toLocaleString() : `not finished (stopped after corpus line ${m.progress.linesConsumed}; build again to resume)`}\n`);
    tooltip.appendText(`Corpus: ${m.corpus.path}\nFolder: ${summary.dir}`);
    this.tooltip = tooltip;
    this.iconPath = new vscode.ThemeIcon(m.builtAt ? (m.embedding ? 'database' : 'search') : 'warning');
    this.contextValue = m.builtAt ? 'retrievalIndex' : 'retrievalIndexUnfinished';
  }
}

/** The "Retrieval Indexes" view: every index under the index folder, with rows, size, indexes and model. */
export class RetrievalIndexesProvider implements vscode.TreeDataProvider<RetrievalIndexItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly root: () => string) {}

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(item: RetrievalIndexItem): vscode.TreeItem {
    return item;
  }

  async getChildren(): Promise<RetrievalIndexItem[]> {
    const indexes = await listIndexes(this.root());
    return indexes.map((s) => new RetrievalIndexItem(s));
  }

  dispose(): void {
    this.changed.dispose();
  }
}

async function pickIndex(root: string, placeHolder: string, arg: unknown): Promise<IndexSummary | undefined> {
  if (arg instanceof RetrievalIndexItem) return arg.summary;
  const indexes = (await listIndexes(root)).filter((s) => s.manifest.builtAt);
  if (indexes.length === 0) {
    void vscode.window.showInformationMessage(`No finished retrieval index in ${root}. Build one from a passage corpus first.`);
    return undefined;
  }
  if (indexes.length === 1) return indexes[0];
  const picked = await vscode.window.showQuickPick(
    indexes.map((s) => ({ label: s.manifest.name, description: `${s.manifest.rows.toLocaleString()} rows`, summary: s })),
    { placeHolder },
  );
  return picked?.summary;
}

async function pickCorpus(): Promise<vscode.Uri | undefined> {
  const found = await vscode.workspace.findFiles('**/*.{jsonl,tsv}', '{**/node_modules/**,**/*.traj.jsonl}', 200);
  const corpusLike = found.filter((u) => /corpus|passage|wiki|psgs/i.test(u.fsPath));
  const items: (vscode.QuickPickItem & { uri?: vscode.Uri })[] = corpusLike.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri }));
  items.push({ label: '$(folder-opened) Choose a file…' });
  const picked = await vscode.window.showQuickPick(items, {
    placeHolder: 'Passage corpus: JSONL {id, contents}, JSONL {id, title, text} or DPR TSV (id, text, title)',
  });
  if (!picked) return undefined;
  if (picked.uri) return picked.uri;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Passage corpus': ['jsonl', 'tsv'] }, openLabel: 'Build Index' });
  return chosen?.[0];
}

async function pickVectors(): Promise<VectorSpec | undefined | 'cancelled'> {
  const choice = await vscode.window.showQuickPick(
    [
      { label: 'Full-text (BM25) only', detail: 'Needs no model; builds in about a minute per million passages.', vectors: 'none' as const },
      { label: 'Full-text + vectors from an embeddings server', detail: 'An OpenAI-compatible /v1/embeddings endpoint (TEI, vLLM, Infinity, OpenAI); hybrid search.', vectors: 'endpoint' as const },
      { label: 'Full-text + vectors from a local ONNX model folder', detail: 'config.json, tokenizer.json and onnx/model.onnx; runs offline on the CPU.', vectors: 'onnx' as const },
    ],
    { placeHolder: 'What should the index hold?' },
  );
  if (!choice) return 'cancelled';
  if (choice.vectors === 'none') return undefined;
  if (choice.vectors === 'endpoint') {
    const baseUrl = await vscode.window.showInputBox({ prompt: 'Base URL of the embeddings server (ending in /v1)', value: 'http://127.0.0.1:8080/v1', ignoreFocusOut: true });
    if (!baseUrl) return 'cancelled';
    const model = await vscode.window.showInputBox({ prompt: 'Embedding model name', value: 'intfloat/e5-base-v2', ignoreFocusOut: true });
    if (!model) return 'cancelled';
    return { kind: 'endpoint', baseUrl, model, prefixes: e5Prefixes };
  }
  const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use Model Folder' });
  if (!folder?.[0]) return 'cancelled';
  return { kind: 'onnx', modelFolder: folder[0].fsPath, prefixes: e5Prefixes };
}

/**
 * The embeddings server's API key: typed in (and kept in secret storage for next time), or, left empty,
 * the key kept from last time, or none. `null` when the user dismissed the prompt.
 */
async function embeddingsApiKey(services: StudioServices): Promise<string | undefined | null> {
  const stored = await services.secrets.get('apiKey.embeddings');
  const entered = await vscode.window.showInputBox({
    title: 'Embeddings server API key',
    prompt: stored ? 'Leave empty to use the key kept from last time.' : 'Leave empty when the server needs no key. A key is kept in VS Code secret storage, never in settings.',
    password: true,
    ignoreFocusOut: true,
  });
  if (entered === undefined) return null;
  if (entered.trim() === '') return stored;
  await services.secrets.store('apiKey.embeddings', entered.trim());
  return entered.trim();
}

/** A folder name from a display name: letters, digits, dashes. */
function folderNameFor(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'index';
}

export function registerRetrieval(services: StudioServices): RetrievalIndexesProvider {
  const { context, log } = services;
  const root = (): string => retrievalIndexRoot(context);
  const provider = new RetrievalIndexesProvider(root);
  context.subscriptions.push(provider, vscode.window.registerTreeDataProvider(ViewIds.retrievalIndexes, provider));

  registerStudioCommand(context, log, CommandIds.refreshRetrievalIndexes, 'Refresh Retrieval Indexes', () => provider.refresh());

  registerStudioCommand(context, log, CommandIds.buildRetrievalIndex, 'Build Index from Corpus', async (arg: unknown) => {
    const corpus = arg instanceof vscode.Uri ? arg : await pickCorpus();
    if (!corpus) return;
    const vectors = await pickVectors();
    if (vectors === 'cancelled') return;
    const apiKey = vectors?.kind === 'endpoint' ? await embeddingsApiKey(services) : undefined;
    if (apiKey === null) return;
    const defaultName = path.basename(corpus.fsPath).replace(/\.(jsonl|tsv)$/i, '');
    const name = await vscode.window.showInputBox({ prompt: 'Index name', value: defaultName, ignoreFocusOut: true });
    if (!name) return;
    const indexDir = path.join(root(), folderNameFor(name));
    let finished: BuildEvent | undefined;
    let badRows = 0;
    // The build runs in a worker process (the bundled CLI, on this host's Node) so LanceDB's native
    // memory is returned when it ends and the extension host stays responsive.
    const cli = [process.execPath, context.asAbsolutePath(path.join('dist', 'cli.js'))];
    const build = (signal: AbortSignal): AsyncIterable<BuildProcessEvent> =>
      buildIndexInWorker({ corpus: corpus.fsPath, indexDir, name, vectors }, { cli, env: { ELECTRON_RUN_AS_NODE: '1' }, apiKey, signal });
    const outcome = await runWithProgress(`Building retrieval index "${name}"`, build, (event) => {
      if (event.kind === 'bad-row') {
        badRows++;
        log.warn(event.message);
      } else if (event.kind !== 'progress') log.info(event.message);
      if (event.kind === 'done') finished = event;
      // show the new index (searchable once the full-text phase is done) while the ANN index builds
      if (event.kind === 'phase') provider.refresh();
    });
    provider.refresh();
    if (outcome === 'cancelled') {
      void vscode.window.showInformationMessage(`Stopped building "${name}". Build it again from the same corpus to resume where it stopped.`);
    } else if (finished) {
      const extra = badRows ? ` ${badRows} bad corpus rows were skipped (listed in the log).` : '';
      void vscode.window.showInformationMessage(`${finished.message}.${extra}`);
    }
  });

  registerStudioCommand(context, log, CommandIds.searchRetrievalIndex, 'Search Index', async (arg: unknown) => {
    const summary = await pickIndex(root(), 'Index to search', arg);
    if (!summary) return;
    const apiKey = summary.manifest.embedding?.baseUrl ? await services.secrets.get('apiKey.embeddings') : undefined;
    const backend = await LanceRetrievalBackend.open(summary.dir, { prewarm: 'never', apiKey });
    try {
      const query = await vscode.window.showInputBox({ prompt: `Search "${summary.manifest.name}" (${backend.mode})`, placeHolder: 'Who discovered penicillin?', ignoreFocusOut: true });
      if (!query) return;
      const hits = await backend.searchHits(query, { topK: 10 });
      if (hits.length === 0) {
        void vscode.window.showInformationMessage(`No passage matches "${query}".`);
        return;
      }
      const picked = await vscode.window.showQuickPick(
        hits.map((h, i) => ({
          label: `${i + 1}. ${h.title || '(untitled)'}`,
          description: `score ${h.score.toFixed(2)} · id ${h.id}`,
          detail: h.text,
          hit: h,
        })),
        { placeHolder: `${hits.length} passages for "${query}"; score = ${backend.scoreScale}`, matchOnDetail: true },
      );
      if (picked) {
        // read-only: a passage from the index is for reading; an Untitled copy would ask to be saved
        await showReadOnlyDocument(context, `${picked.hit.title || picked.hit.id}.txt`, `"${picked.hit.title}"\n${picked.hit.text}\n`, 'plaintext');
      }
    } finally {
      backend.close();
    }
  });

  registerStudioCommand(context, log, CommandIds.deleteRetrievalIndex, 'Delete Index', async (arg: unknown) => {
    const summary = arg instanceof RetrievalIndexItem ? arg.summary : await pickIndex(root(), 'Index to delete', undefined);
    if (!summary) return;
    const answer = await vscode.window.showWarningMessage(
      `Delete the index "${summary.manifest.name}" (${formatBytes(summary.sizeBytes)} in ${summary.dir})? The corpus file is not touched.`,
      { modal: true },
      'Delete',
    );
    if (answer !== 'Delete') return;
    await deleteIndex(summary.dir);
    log.info(`Deleted retrieval index ${summary.dir}`);
    provider.refresh();
  });

  return provider;
}
