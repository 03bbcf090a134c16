import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TrajectoryEditorModel } from './editorDocumentModel';
import { HeadPreviewSource } from './headPreviewSource';
import { saveThroughStore, StoreTrajectorySource } from './storeSource';
import { TrajectoryEditorSession } from './trajectoryEditorSession';
import { type TrajectoryEdit } from './trajectoryEdits';
import { type AppliedEdit } from './editorDocumentModel';
import { readOnlyReason } from './readOnlyFiles';
import { type Trajectory } from '../trajectory/schema';

/** Files at least this big open progressively (first records at once, the rest when indexed). */
const progressiveOpenBytes = 64 * 1024 * 1024;

/** How often the file's size and modification time are compared with what was read. */
const diskPollMs = 2000;

/** Thrown to make VS Code report a save as failed when the user chose not to overwrite outside changes. */
export class SaveDeclinedError extends Error {
  override readonly name = 'SaveDeclinedError';
}

/**
 * One open trajectory file as VS Code sees it. The model (core) holds the edits; this class adds what
 * only VS Code has: the file watcher that notices outside changes, the prompts, and the ordering rule
 * that a save waits for edits still being applied (so none is lost or half-written).
 */
/**
 * Judges a replaced record again (re-execution, continuation, the text form) before it becomes an edit, so
 * the new verdict travels in the same undo step. The editor's registration owns the scorer and its settings.
 */
export type JudgeReplacement = (before: Trajectory, after: Trajectory) => Promise<Trajectory>;

export class TrajectoryCustomDocument implements vscode.CustomDocument {
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  /** Fires when the list index advanced, a banner changed or the file was replaced. */
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly recordsEmitter = new vscode.EventEmitter<number[] | 'all'>();
  readonly onDidChangeRecords = this.recordsEmitter.event;
  private pendingEdits = new Set<Promise<unknown>>();
  /** Settles when the store's source of the whole file is in place (at once for files that are not big). */
  private fullSource: Promise<void> = Promise.resolve();
  private saving: Promise<void> | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private diskCheckTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private askingAboutDisk = false;
  /** A message shown above the list (outside change, lost edits). */
  banner: string | undefined;
  /** Set when the file must not be edited (an evaluation run's results); says why. */
  readOnly: string | undefined;
  readonly session: TrajectoryEditorSession;

  private constructor(
    readonly uri: vscode.Uri,
    readonly model: TrajectoryEditorModel,
    private readonly log: vscode.LogOutputChannel,
    private readonly judgeReplacement: JudgeReplacement | undefined,
  ) {
    this.session = new TrajectoryEditorSession(model, {
      onIndexProgress: () => this.stateEmitter.fire(),
      onRecordsChanged: (slots) => this.recordsEmitter.fire(slots),
    });
  }

  get fileName(): string {
    return path.basename(this.uri.fsPath);
  }

  /**
   * Opens the file through the trajectory store and, after a hot exit, puts the unsaved edits back from
   * the backup. Indexing for the list continues in the background.
   */
  static async open(uri: vscode.Uri, backupId: string | undefined, log: vscode.LogOutputChannel, judge?: JudgeReplacement): Promise<TrajectoryCustomDocument> {
    if (uri.scheme !== 'file') throw new Error(`The trajectory editor opens files on disk; ${uri.toString()} is not one`);
    const readOnly = await readOnlyReason(uri.fsPath);
    if (!backupId && (await stat(uri.fsPath)).size >= progressiveOpenBytes) {
      const big = await TrajectoryCustomDocument.openProgressively(uri, log, judge);
      big.readOnly = readOnly;
      return big;
    }
    const source = await StoreTrajectorySource.open(uri.fsPath);
    const document = new TrajectoryCustomDocument(uri, new TrajectoryEditorModel(source), log, judge);
    document.readOnly = readOnly;
    if (readOnly) document.banner = readOnly;
    try {
      await document.restoreFrom(backupId);
    } catch (err) {
      document.dispose();
      throw err;
    }
    document.watch();
    return document;
  }

  /**
   * A big file: the first records are shown from the file's first bytes at once, and the document moves
   * to the store's source when its index of the whole file is built. Saving, reloading and backups wait
   * for that; edits do not need to.
   */
  private static async openProgressively(uri: vscode.Uri, log: vscode.LogOutputChannel, judge: JudgeReplacement | undefined): Promise<TrajectoryCustomDocument> {
    const head = await HeadPreviewSource.read(uri.fsPath);
    const document = new TrajectoryCustomDocument(uri, new TrajectoryEditorModel(head), log, judge);
    document.banner = `Showing the first ${head.slotCount} records while the whole file is indexed…`;
    await document.session.startIndexing();
    document.fullSource = (async () => {
      try {
        const full = await StoreTrajectorySource.open(uri.fsPath);
        document.model.adoptFullSource(full);
        document.banner = undefined;
        await document.session.startIndexing();
        document.watch();
      } catch (err) {
        document.setBanner(`The file could not be indexed, so it cannot be saved from here: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
    })();
    document.fullSource.catch((err: unknown) => log.error(`${document.fileName}: ${err instanceof Error ? err.message : String(err)}`));
    return document;
  }

  private async restoreFrom(backupId: string | undefined): Promise<void> {
    if (!backupId) {
      await this.session.startIndexing();
      return;
    }
    const text = Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.parse(backupId))).toString('utf8');
    const stamp = TrajectoryEditorModel.backupStamp(text);
    const sameFile = stamp !== undefined && stamp.size === this.model.stamp.size && stamp.mtimeMs === this.model.stamp.mtimeMs;
    let ids: (string | undefined)[] | undefined;
    if (!sameFile) {
      // The file changed since the backup: records are matched by id, which needs the whole index.
      await this.session.startIndexing();
      await this.session.indexed;
      ids = this.session.listIndex.idsBySlot();
    }
    const report = this.model.restoreBackup(text, ids);
    await this.session.startIndexing();
    if (report.lost.length) {
      this.banner = `${report.lost.length} unsaved edited trajectories could not be restored because the file no longer holds them: ${report.lost.slice(0, 5).join(', ')}${report.lost.length > 5 ? ', …' : ''}`;
      this.log.warn(`${this.fileName}: ${this.banner}`);
    }
  }

  private watch(): void {
    const folder = vscode.Uri.file(path.dirname(this.uri.fsPath));
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, path.basename(this.uri.fsPath)));
    const schedule = () => {
      clearTimeout(this.diskCheckTimer);
      this.diskCheckTimer = setTimeout(() => void this.checkDisk(), 250);
    };
    this.watcher.onDidChange(schedule);
    this.watcher.onDidCreate(schedule);
    this.watcher.onDidDelete(schedule);
    // Watchers are not delivered everywhere (files outside the workspace, some remote file systems; in
    // code-server the editor missed a quick eval's live file, replaced by a rename at each step, when only the
    // watcher was relied on), so a cheap size/time check runs as well; the full fingerprint is compared only
    // when that differs.
    this.pollTimer = setInterval(() => {
      void stat(this.uri.fsPath).then(
        (s) => {
          const known = this.model.stamp;
          if (s.size !== known.size || s.mtimeMs !== known.mtimeMs) schedule();
        },
        () => schedule(),
      );
    }, diskPollMs);
  }

  /**
   * Reacts to the file changing on disk. Our own saves reopen the file before the watcher fires, so
   * they compare equal and cause no reload (no echo loop). Without unsaved edits the editor reloads;
   * with them the user chooses: merge the edits into the new file, discard them, or keep them.
   */
  async checkDisk(): Promise<void> {
    if (this.saving || this.askingAboutDisk) return;
    if (!(await this.model.fileSource.hasChangedOnDisk())) return;
    if (!this.model.isDirty) {
      await this.reload();
      this.setBanner(`${this.fileName} changed on disk and was reloaded.`);
      return;
    }
    this.setBanner(`${this.fileName} changed on disk while you have unsaved edits.`);
    this.askingAboutDisk = true;
    try {
      const merge = 'Merge My Edits into It';
      const discard = 'Discard My Edits and Reload';
      const choice = await vscode.window.showWarningMessage(
        `${this.fileName} changed on disk while you have unsaved edits. Merge carries your edited trajectories over to the new file by id.`,
        merge,
        discard,
        'Keep Mine',
      );
      if (choice === merge) await this.mergeIntoDisk();
      else if (choice === discard) {
        await this.reload();
        this.setBanner(`${this.fileName} was reloaded; your unsaved edits were discarded.`);
      }
    } finally {
      this.askingAboutDisk = false;
    }
  }

  private setBanner(text: string | undefined): void {
    this.banner = text;
    this.stateEmitter.fire();
  }

  /** Replaces the source with the file as it is now on disk, dropping unsaved edits (revert). */
  async reload(): Promise<void> {
    await this.whenIdle();
    const fresh = await StoreTrajectorySource.open(this.uri.fsPath);
    const old = this.model.fileSource;
    const dropped = this.model.editedSlots().length;
    this.model.reset(fresh);
    await old.close();
    this.log.info(`${this.fileName}: reloaded from disk${dropped ? `, dropping ${dropped} unsaved edited trajectories` : ''}`);
    this.banner = undefined;
    await this.session.startIndexing();
  }

  /** Moves the unsaved edits onto the new version of the file, matching trajectories by id. */
  async mergeIntoDisk(): Promise<void> {
    await this.whenIdle();
    const fresh = await StoreTrajectorySource.open(this.uri.fsPath);
    const ids: (string | undefined)[] = new Array<string | undefined>(fresh.slotCount);
    for await (const content of fresh.scan()) if (content.valid) ids[content.slot] = content.trajectory.id;
    const old = this.model.fileSource;
    const report = this.model.rebase(fresh, ids);
    await old.close();
    await this.session.startIndexing();
    this.setBanner(
      report.lost.length
        ? `Merged ${report.kept} edited trajectories; ${report.lost.length} are no longer in the file and were not carried over: ${report.lost.slice(0, 5).join(', ')}`
        : `Merged your ${report.kept} edited trajectories into the file as it is on disk now. Save to write them.`,
    );
  }

  /** Applies an edit; saves wait for it. */
  async applyEdit(slot: number, edit: TrajectoryEdit): Promise<AppliedEdit | undefined> {
    if (this.readOnly) throw new Error(this.readOnly);
    if (this.saving) await this.saving;
    const judge = this.judgeReplacement;
    // Thought, code, exclusion and review edits leave every observation as it was, so the answer and its
    // verdict stand; only a replaced record can end with another answer.
    // Judging is part of the pending edit, so a save waits for it too.
    const pending = (async () => {
      const judged = edit.kind === 'replace' && judge ? { ...edit, trajectory: await judge(await this.model.readTrajectory(slot), edit.trajectory) } : edit;
      return this.model.apply(slot, judged);
    })();
    this.pendingEdits.add(pending);
    try {
      return await pending;
    } finally {
      this.pendingEdits.delete(pending);
    }
  }

  private async whenIdle(): Promise<void> {
    await this.fullSource;
    if (this.saving) await this.saving;
    await Promise.allSettled([...this.pendingEdits]);
  }

  /** Saves to the document's own file, asking before overwriting changes made on disk by someone else. */
  async save(token?: vscode.CancellationToken): Promise<void> {
    await this.whenIdle();
    const run = async (): Promise<void> => {
      const source = this.model.fileSource as StoreTrajectorySource;
      let force = false;
      if (await source.hasChangedOnDisk()) {
        const overwrite = 'Overwrite';
        const choice = await vscode.window.showWarningMessage(
          `${this.fileName} changed on disk since it was opened. Saving now replaces those changes with your version.`,
          { modal: true },
          overwrite,
        );
        if (choice !== overwrite) throw new SaveDeclinedError(`${this.fileName} was not saved: it changed on disk. Reload or merge first, or save again and choose Overwrite.`);
        force = true;
      }
      const abort = new AbortController();
      const sub = token?.onCancellationRequested(() => abort.abort());
      try {
        await saveThroughStore(source, this.model.replacements(), this.uri.fsPath, { force, signal: abort.signal });
      } finally {
        sub?.dispose();
      }
      const changed = this.model.editedSlots().length;
      const fresh = await StoreTrajectorySource.open(this.uri.fsPath);
      this.model.markSaved(fresh);
      this.log.info(`${this.fileName}: saved ${changed} changed trajectories${force ? ' over changes made on disk' : ''}`);
      await source.close();
      this.banner = undefined;
      this.stateEmitter.fire();
    };
    this.saving = run();
    try {
      await this.saving;
    } finally {
      this.saving = undefined;
    }
  }

  /** Writes the document with its edits to another file; this document stays as it is. */
  async saveAs(target: vscode.Uri, token?: vscode.CancellationToken): Promise<void> {
    await this.whenIdle();
    if (target.scheme !== 'file') throw new Error(`Save as needs a file on disk; ${target.toString()} is not one`);
    const abort = new AbortController();
    const sub = token?.onCancellationRequested(() => abort.abort());
    try {
      await saveThroughStore(this.model.fileSource as StoreTrajectorySource, this.model.replacements(), target.fsPath, { signal: abort.signal });
    } finally {
      sub?.dispose();
    }
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    await this.whenIdle();
    await vscode.workspace.fs.writeFile(destination, Buffer.from(this.model.backup(), 'utf8'));
    return {
      id: destination.toString(),
      delete: () => void Promise.resolve(vscode.workspace.fs.delete(destination)).catch(() => undefined),
    };
  }

  dispose(): void {
    clearTimeout(this.diskCheckTimer);
    clearInterval(this.pollTimer);
    this.watcher?.dispose();
    this.session.dispose();
    void this.model.fileSource.close().catch(() => undefined);
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
    this.stateEmitter.dispose();
    this.recordsEmitter.dispose();
  }
}
