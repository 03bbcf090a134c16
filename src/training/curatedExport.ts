import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { sha256OfFile } from '../runs/durableFile';
import { readTrajectoryFiles, selectionOfRule, trainingPromptsOfProfile } from '../trainingExport/trainingExport';
import { type Compatibility } from '../trajectory/compatibility';
import { exportTrainingData, writeManifest, type ExportManifest, type ExportSourceFile } from '../trajectory/sftExport';

/**
 * Training data made from a curated trajectory file as part of a launch: the same export `trajectory-studio
 * export` writes with its defaults (accepted trajectories, openai format, the student prompt profile, the
 * chosen compatibility; the shared steps in src/trainingExport/trainingExport.ts), plus the source file's hash in the manifest, so a run can be traced back to the
 * exact trajectory file it was trained from.
 */

export interface CuratedExportOptions {
  trajectoryFile: string;
  /** Where the chat JSONL goes (its manifest is written beside it). */
  outPath: string;
  compatibility: Compatibility;
  /** Prompt profile name or `.prompt.txt` path; default `student`, the one students are evaluated with. */
  promptProfile?: string;
  /** The user's prompt folders (`trajectoryStudio.agent.promptsFolder`), searched before the built-in profiles. */
  promptFolders?: readonly string[];
  signal?: AbortSignal;
}

export class NothingToTrainError extends Error {
  override readonly name = 'NothingToTrainError';
}

/**
 * Exports a curated `.traj.jsonl` for training. Invalid lines stop the export (a launch never trains on a
 * silently shortened file); an export with no example stops it too, with the reasons trajectories were left out.
 */
export async function exportCuratedFile(options: CuratedExportOptions): Promise<{ manifest: ExportManifest; source: ExportSourceFile }> {
  const { trajectoryFile, outPath, compatibility, signal } = options;
  const source: ExportSourceFile = { file: path.resolve(trajectoryFile), sha256: `sha256:${await sha256OfFile(trajectoryFile)}` };
  const { trajectories, problems } = await readTrajectoryFiles([trajectoryFile], signal);
  if (problems.length) {
    throw new Error(`${path.basename(trajectoryFile)} has ${problems.length} invalid line(s) (${problems.slice(0, 3).map((p) => path.basename(p)).join('; ')}); fix them in the editor before training on it`);
  }
  const { prompt, fallbackPrompt } = await trainingPromptsOfProfile(options.promptProfile ?? 'student', options.promptFolders ?? []);
  await mkdir(path.dirname(outPath), { recursive: true });
  const manifest = await exportTrainingData(trajectories, outPath, {
    format: 'openai',
    prompt,
    compatibility,
    fallbackPrompt,
    ...selectionOfRule('accepted'),
    sources: [source.file],
    ...(signal ? { signal } : {}),
  });
  if (manifest.examples === 0) {
    const reasons = new Map<string, number>();
    for (const s of manifest.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
    const why = [...reasons].slice(0, 3).map(([r, n]) => `${n}: ${r}`).join('; ');
    throw new NothingToTrainError(`nothing to train on in ${path.basename(trajectoryFile)}: none of its ${trajectories.length} trajectories can be exported${why ? ` (${why})` : ''}; accept the ones to train on in the editor`);
  }
  const withSource: ExportManifest = { ...manifest, extra: { ...manifest.extra, sourceFiles: [source] } };
  await writeManifest(outPath, withSource);
  return { manifest: withSource, source };
}

/** What a run records of the export it trains on. */
export interface ExportProvenance {
  /** `sha256:` of the exported bytes, from the manifest. */
  snapshot: string;
  manifestFile: string;
  /** The trajectory files it was made from, with their hashes (exports made by a launch or that recorded them). */
  sourceFiles: ExportSourceFile[];
}

/** What a run records of `manifest`, read from `manifestFile`. */
export function provenanceOf(manifest: ExportManifest, manifestFile: string): ExportProvenance {
  return { snapshot: manifest.snapshot, manifestFile, sourceFiles: manifest.extra?.sourceFiles ?? [] };
}
