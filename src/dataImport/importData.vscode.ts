import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerStudioCommand } from '../platform/commands';
import { CommandIds, CustomEditorIds } from '../platform/ids';
import { showReadOnlyDocument } from '../platform/readOnlyDocuments';
import { type StudioServices } from '../platform/services';
import { readSetting } from '../platform/settings';
import { writeJsonlAtomically } from '../trajectory/jsonlWriters';
import { type TaskDomain } from '../trajectory/schema';
import {
  detectImportFormat,
  describeTeacherFilter,
  formatImportReport,
  importQuestionFile,
  importReferenceRecordsWithTeacherFilter,
  type ImportDataArgs,
  type ImportFormat,
  type ImportReport,
  parseImportDataArgs,
  type SkippedRecord,
  suggestedOutputName,
  type TeacherFilterCounts,
} from './dataImport';

/** What **Import…** resolves with (scripts, tests); undefined when the user cancelled a question. */
export interface ImportDataOutcome {
  output: string;
  format: ImportFormat;
  written: number;
  skipped: SkippedRecord[];
  teacherFilter?: TeacherFilterCounts;
  /** The report's Markdown (also shown as a read-only document when something was skipped). */
  report: string;
}

const title = 'Import';

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Runs one read of the input in a cancellable notification; undefined when cancelled. */
function withImportProgress<T>(input: string, work: (signal: AbortSignal) => Promise<T>): Thenable<T | undefined> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Reading ${path.basename(input)}`, cancellable: true }, async (_progress, token) => {
    const controller = new AbortController();
    const sub = token.onCancellationRequested(() => controller.abort(new Error('cancelled by the user')));
    try {
      return await work(controller.signal);
    } catch (err) {
      if (controller.signal.aborted) return undefined;
      throw err;
    } finally {
      sub.dispose();
    }
  });
}

/** Asks the domain of the records that do not say it; `guess` keeps the guess from each answer (reference records only). */
async function askDomain(unsaid: number, guessed: Record<TaskDomain, number> | undefined): Promise<TaskDomain | 'guess' | undefined> {
  type Item = vscode.QuickPickItem & { domain: TaskDomain | 'guess' };
  const records = `${unsaid} ${unsaid === 1 ? 'record does' : 'records do'} not say ${unsaid === 1 ? 'its' : 'their'} domain`;
  const items: Item[] = [
    ...(guessed ? [{ label: 'Guess from each answer', description: `math for ${guessed.math}, factual for ${guessed.factual}`, detail: 'Numbers and LaTeX answers are math, words are factual.', domain: 'guess' as const }] : []),
    { label: 'Math', description: `all ${unsaid} as math questions`, domain: 'math' },
    { label: 'Factual', description: `all ${unsaid} as factual questions`, domain: 'factual' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${title}: the domain (${records})`, placeHolder: 'The domain decides how answers are scored', ignoreFocusOut: true });
  return picked?.domain;
}

function workspaceFolder(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

/** An input read into memory, ready to be written where the user chooses. */
interface InputRead {
  count: number;
  skipped: SkippedRecord[];
  teacherFilter?: TeacherFilterCounts;
  domainNote?: string;
  write(output: string): Promise<void>;
}

/** Reads the input in its format, asking the domain when the file does not say it. */
async function readInput(
  input: string,
  format: ImportFormat,
  given: ImportDataArgs | undefined,
): Promise<InputRead | undefined> {
  const domainArg = given?.domain;
  if (format === 'reference') {
    const compatibility = given?.compatibility ?? readSetting('compatibility');
    const read = (defaultDomain: TaskDomain | undefined) =>
      withImportProgress(input, (signal) =>
        importReferenceRecordsWithTeacherFilter(input, { source: path.basename(input), compatibility, ...(defaultDomain ? { defaultDomain } : {}), ...(given?.model ? { model: given.model } : {}) }, signal),
      );
    let result = await read(domainArg === 'math' || domainArg === 'factual' ? domainArg : undefined);
    if (!result) return undefined;
    let domainNote: string | undefined;
    const guessedTotal = result.guessedDomains.math + result.guessedDomains.factual;
    if (domainArg === undefined && guessedTotal > 0) {
      const choice = await askDomain(guessedTotal, result.guessedDomains);
      if (!choice) return undefined;
      if (choice !== 'guess') {
        result = await read(choice);
        if (!result) return undefined;
        domainNote = `${choice} for the ${guessedTotal} records that do not say theirs (chosen)`;
      } else domainNote = `guessed from each answer for the ${guessedTotal} records that do not say theirs (math ${result.guessedDomains.math}, factual ${result.guessedDomains.factual})`;
    } else if (domainArg !== undefined && guessedTotal > 0) {
      domainNote = `guessed from each answer for the ${guessedTotal} records that do not say theirs`;
    } else if (domainArg === 'math' || domainArg === 'factual') {
      domainNote = `${domainArg} for the records that do not say theirs`;
    }
    const { trajectories } = result;
    return {
      skipped: result.problems.map((p) => ({ where: `line ${p.line}`, ...(p.field ? { field: p.field } : {}), message: p.field && p.message.startsWith(`${p.field}: `) ? p.message.slice(p.field.length + 2) : p.message })),
      teacherFilter: result.teacherFilter,
      ...(domainNote ? { domainNote } : {}),
      count: trajectories.length,
      write: (output) => writeJsonlAtomically(output, trajectories),
    };
  }
  const read = (domain: TaskDomain | undefined) => withImportProgress(input, () => importQuestionFile(input, domain));
  let result = await read(domainArg === 'math' || domainArg === 'factual' ? domainArg : undefined);
  if (!result) return undefined;
  let domainNote = domainArg === 'math' || domainArg === 'factual' ? `${domainArg} for the questions that do not say theirs` : undefined;
  if (domainArg === undefined && result.missingDomain > 0) {
    const choice = await askDomain(result.missingDomain, undefined);
    if (!choice || choice === 'guess') return undefined;
    result = await read(choice);
    if (!result) return undefined;
    domainNote = `${choice} for the ${result.missingDomain === 0 ? 'questions' : 'rest of the questions'} that do not say theirs (chosen)`;
  }
  const lines = result.tasks.map((t) => JSON.stringify(t));
  return {
    skipped: result.problems.map((p) => ({ where: p.where, message: p.message })),
    ...(domainNote ? { domainNote } : {}),
    count: result.tasks.length,
    write: (output) => writeJsonlAtomically(output, lines),
  };
}

/** Opens what was written: trajectories in the trajectory editor, a question file as text. */
async function openOutput(output: string, format: ImportFormat): Promise<void> {
  const uri = vscode.Uri.file(output);
  if (format === 'questions') {
    await vscode.window.showTextDocument(uri);
    return;
  }
  const viewType = output.endsWith('.traj.jsonl') ? CustomEditorIds.trajectoryEditor : CustomEditorIds.trajectoryEditorAnyJsonl;
  await vscode.commands.executeCommand('vscode.openWith', uri, viewType);
}

/**
 * **Import…**: the reference implementation's records into a new trajectory file, or a question set into a
 * question file. It runs no code and contacts nothing, so it is allowed in an untrusted workspace; it writes only
 * the file the user chose (or the caller named), never over an existing one without a confirmation.
 */
export function registerImportData(services: StudioServices): void {
  const { context, log } = services;
  registerStudioCommand(context, log, CommandIds.importData, 'Import', async (arg?: unknown) => {
    const given = arg === undefined || arg instanceof vscode.Uri ? undefined : parseImportDataArgs(arg);
    let input = arg instanceof vscode.Uri ? arg.fsPath : given?.input;
    if (!input) {
      const picked = await vscode.window.showOpenDialog({
        title: `${title}: reference records (JSONL with log_data) or a question set (JSON, JSONL, CSV)`,
        canSelectMany: false,
        filters: { 'Records and question sets': ['jsonl', 'json', 'ndjson', 'csv'], 'All files': ['*'] },
        defaultUri: workspaceFolder(),
        openLabel: 'Import',
      });
      input = picked?.[0]?.fsPath;
      if (!input) return undefined;
    }
    if (!(await isFile(input))) throw new Error(`input: ${input} is not a file that can be read`);
    const format = given?.format ?? (await detectImportFormat(input));
    const read = await readInput(input, format, given);
    if (!read) return undefined;
    const what = format === 'reference' ? 'trajectories' : 'questions';

    if (read.count === 0) {
      const report: ImportReport = { input, output: '(nothing written)', format, written: 0, skipped: read.skipped, ...(read.domainNote ? { domainNote: read.domainNote } : {}) };
      await showReadOnlyDocument(context, `Import of ${path.basename(input)}.md`, formatImportReport(report), 'markdown');
      throw new Error(`${path.basename(input)}: nothing could be imported as ${format === 'reference' ? 'reference records' : 'a question set'} (${read.skipped.length} records skipped; the report says why)`);
    }

    let output = given?.output;
    if (output === undefined) {
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(input)) ? path.dirname(input) : (workspaceFolder()?.fsPath ?? path.dirname(input));
      // The save dialog asks before replacing a file, so a file chosen here is one the user agreed to replace.
      const chosen = await vscode.window.showSaveDialog({
        title: `${title}: where to write ${read.count} ${what}`,
        defaultUri: vscode.Uri.file(path.join(folder, suggestedOutputName(input, format))),
        filters: format === 'reference' ? { Trajectories: ['jsonl'] } : { 'Question file': ['jsonl'] },
        saveLabel: format === 'reference' ? 'Write Trajectories Here' : 'Write Questions Here',
      });
      if (!chosen) return undefined;
      output = chosen.fsPath;
    } else if ((await exists(output)) && given?.overwrite !== true) {
      throw new Error(`output: ${output} already exists; choose a new file or pass "overwrite": true to replace it`);
    }
    if (path.resolve(output) === path.resolve(input)) throw new Error(`output: ${output} is the file being imported; choose another file`);

    await read.write(output);
    const report: ImportReport = {
      input,
      output,
      format,
      written: read.count,
      skipped: read.skipped,
      ...(read.domainNote ? { domainNote: read.domainNote } : {}),
      ...(read.teacherFilter ? { teacherFilter: read.teacherFilter } : {}),
    };
    const reportText = formatImportReport(report);
    log.info(`imported ${read.count} ${what} from ${input} into ${output}; ${read.skipped.length} skipped`);
    const reportTitle = `Import of ${path.basename(input)}.md`;
    if (read.skipped.length > 0) await showReadOnlyDocument(context, reportTitle, reportText, 'markdown');

    const skippedText = read.skipped.length ? `; ${read.skipped.length} ${read.skipped.length === 1 ? 'record' : 'records'} skipped (the report says why)` : '';
    const filterText = read.teacherFilter ? ` ${describeTeacherFilter(read.teacherFilter).replace(/^t/, 'T')}.` : '';
    const buttons = read.skipped.length ? ['Open', 'Show Report'] : ['Open'];
    const written = output;
    void vscode.window
      .showInformationMessage(`Imported ${read.count} ${what} from ${path.basename(input)} into ${path.basename(output)}${skippedText}.${filterText}`, ...buttons)
      .then(async (choice) => {
        if (choice === 'Open') await openOutput(written, format);
        else if (choice === 'Show Report') await showReadOnlyDocument(context, reportTitle, reportText, 'markdown');
      })
      .then(undefined, (err: unknown) => log.error(`import: ${err instanceof Error ? err.message : String(err)}`));
    const outcome: ImportDataOutcome = { output, format, written: read.count, skipped: read.skipped, ...(read.teacherFilter ? { teacherFilter: read.teacherFilter } : {}), report: reportText };
    return outcome;
  });
}
