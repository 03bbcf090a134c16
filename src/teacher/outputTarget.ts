import * as path from 'node:path';

/** How the generation wizard offers a trajectory file to write to. */
export interface OutputTargetWords {
  label: string;
  description: string;
  detail: string;
  resumes: boolean;
}

/**
 * The words for writing generation output to `file`. An existing file is never replaced: generation appends
 * to it and skips the questions already answered there, so it is offered as "Resume", with what it holds.
 */
export function describeOutputTarget(file: string, existingRecords: number | undefined): OutputTargetWords {
  const name = path.basename(file);
  const description = path.dirname(file);
  if (existingRecords === undefined) return { label: `$(new-file) ${name}`, description, detail: 'A new trajectory file.', resumes: false };
  return {
    label: `$(debug-continue) Resume ${name}`,
    description,
    detail: `It holds ${existingRecords} ${existingRecords === 1 ? 'trajectory' : 'trajectories'}; answered questions are skipped, nothing is replaced.`,
    resumes: true,
  };
}

/** The question asked once, in our words, when a new-file dialog returned a file that already exists. */
export function existingOutputQuestion(file: string, existingRecords: number): string {
  return `${path.basename(file)} already exists with ${existingRecords} ${existingRecords === 1 ? 'trajectory' : 'trajectories'}. Generation never replaces a file: it resumes, adding the questions not yet answered there.`;
}
