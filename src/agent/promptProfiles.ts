import { mediaFolder } from '../environment/mediaFolder';
import { parseTextSections, trimBlankLines } from '../environment/sectionedText';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { undefinedIfMissing } from '../runs/durableFile';
import path from 'node:path';
import { compileJinja, type JinjaTemplate } from './referencePromptJinja';
import { defaultReferenceSystemKey, parseReferencePromptYaml, ReferencePromptError, referenceSystemVariables, renderReferenceTemplate } from './referencePrompt';
import { defaultAgentTools, renderToolList, type ToolDescription } from './tools';

/**
 * A prompt profile: the texts around the agent's turns. Built-in profiles live in `media/prompts/` as
 * `<name>.prompt.txt` (a long `teacher` variant with worked examples, a short `student` variant without);
 * users add their own files in the same format to a folder of their choice.
 *
 * File format: sections introduced by a line `=== <section> ===`; lines starting with `#` before the first
 * section are comments. Leading and trailing blank lines of a section are dropped. Sections:
 * `system` (with `{{tools}}` and optionally `{{authorized_imports}}`), `task suffix`, `fallback system`,
 * `fallback request` (with `{{question}}`).
 *
 * A profile may also come from a prompt file in the reference's format (`<name>.yaml` / `.yml`, see
 * referencePrompt.ts); its system text is then a Jinja template (`format: 'reference-yaml'`).
 */
interface PromptProfileTexts {
  name: string;
  /** The file it came from (or `<inline>`). */
  source: string;
  /** The system prompt template: `{{tools}}` placeholders for a studio profile, Jinja for a reference YAML. */
  system: string;
  taskSuffix: string;
  fallbackSystem: string;
  /** Carries `{{question}}` where the question goes. */
  fallbackRequest: string;
}

/** A profile in the studio's `.prompt.txt` format. */
export interface StudioPromptProfile extends PromptProfileTexts {
  format?: 'studio';
}

/** A profile read from a prompt YAML in the reference's format. */
export interface ReferenceYamlPromptProfile extends PromptProfileTexts {
  format: 'reference-yaml';
  /** The YAML key the system template came from (`system_prompt`, or e.g. `system_prompt_short`). */
  systemKey: string;
  /** Line in `source` of the system template's first line (template error lines count from it). */
  systemLine: number;
  /** The whole file's text: the profile hash covers it, so any edit to the file shows. */
  fileText: string;
  /** Which parts the file did not carry and where they came from instead; empty when it carried all. */
  sourceNote: string;
}

export type PromptProfile = StudioPromptProfile | ReferenceYamlPromptProfile;

const sectionKeys = {
  system: 'system',
  'task suffix': 'taskSuffix',
  'fallback system': 'fallbackSystem',
  'fallback request': 'fallbackRequest',
} as const satisfies Record<string, keyof PromptProfile>;
type SectionName = keyof typeof sectionKeys;

export const promptProfileSuffix = '.prompt.txt';
/** File endings of prompt files in the reference's format. */
export const referencePromptSuffixes = ['.yaml', '.yml'] as const;

/** Thrown for a malformed profile file; the message names the file and line. */
export class PromptProfileError extends Error {
  override readonly name = 'PromptProfileError';
}

/** Parses a profile file's text. Every section must appear exactly once. */
export function parsePromptProfile(text: string, name: string, source = '<inline>'): PromptProfile {
  const found = parseTextSections(text, source, Object.keys(sectionKeys) as SectionName[], (message) => new PromptProfileError(message), '"=== system ==="');
  const missing = (Object.keys(sectionKeys) as SectionName[]).filter((k) => !found.has(k));
  if (missing.length) throw new PromptProfileError(`${source}: missing section(s): ${missing.map((m) => `"=== ${m} ==="`).join(', ')}`);
  const profile: PromptProfile = { name, source, system: '', taskSuffix: '', fallbackSystem: '', fallbackRequest: '' };
  for (const [section, { body }] of found) profile[sectionKeys[section]] = trimBlankLines(body);
  const systemLine = found.get('system')?.line ?? 1;
  if (!profile.system.includes('{{tools}}')) throw new PromptProfileError(`${source}:${systemLine}: the system section must contain {{tools}} (where the tool list goes)`);
  const requestLine = found.get('fallback request')?.line ?? 1;
  if (!profile.fallbackRequest.includes('{{question}}')) throw new PromptProfileError(`${source}:${requestLine}: the fallback request section must contain {{question}}`);
  return profile;
}

const compiledSystemTemplates = new WeakMap<ReferenceYamlPromptProfile, JinjaTemplate>();

function withFileLine<T>(profile: ReferenceYamlPromptProfile, work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof ReferencePromptError) throw new PromptProfileError(`${profile.source}:${err.line}: ${err.message}`);
    throw err;
  }
}

/**
 * The system prompt with the tool list and the import allowlist filled in. A studio profile's
 * `{{tools}}` gets the studio's tool list; a reference YAML's template is rendered as the reference
 * renders it (Jinja, strict about undefined names, tools as the reference's tool objects). A template
 * error is a {@link PromptProfileError} naming the file and line.
 */
export function renderSystemPrompt(profile: PromptProfile, tools: readonly ToolDescription[], authorizedImports: readonly string[]): string {
  if (profile.format === 'reference-yaml') {
    return withFileLine(profile, () => {
      let template = compiledSystemTemplates.get(profile);
      if (!template) {
        template = compileJinja(profile.system);
        compiledSystemTemplates.set(profile, template);
      }
      return renderReferenceTemplate(template, referenceSystemVariables(tools, authorizedImports), profile.systemLine, profile.systemKey);
    });
  }
  return profile.system.replaceAll('{{tools}}', renderToolList(tools)).replaceAll('{{authorized_imports}}', authorizedImports.join(', '));
}

/**
 * A short hash of the profile's texts, stored with each trajectory so a changed prompt is visible. For a
 * reference YAML it covers the whole file and the key the system template came from.
 */
export function promptProfileHash(profile: PromptProfile): string {
  const h = createHash('sha256');
  // A studio profile hashes exactly as before reference YAMLs existed, so stored hashes stay comparable.
  const parts = profile.format === 'reference-yaml' ? ['reference-yaml', profile.fileText, profile.systemKey] : [];
  for (const part of [...parts, profile.system, profile.taskSuffix, profile.fallbackSystem, profile.fallbackRequest]) h.update(part).update('\0');
  return h.digest('hex').slice(0, 16);
}

/**
 * Builds a profile from a prompt YAML in the reference's format. Parts the file does not carry (the task
 * suffix always, unless the file has the studio's `task_suffix` key; the fallback texts when it has no
 * `final_answer`) come from `studioTexts`, and the profile's `sourceNote` says which. The system template
 * is rendered once with the default tools so an undefined name fails here, not in the middle of a run.
 */
export function parseReferencePromptProfile(
  text: string,
  name: string,
  source: string,
  studioTexts: Pick<PromptProfile, 'taskSuffix' | 'fallbackSystem' | 'fallbackRequest' | 'source'>,
  systemKey: string = defaultReferenceSystemKey,
): ReferenceYamlPromptProfile {
  let parts: ReturnType<typeof parseReferencePromptYaml>;
  try {
    parts = parseReferencePromptYaml(text, systemKey);
  } catch (err) {
    if (err instanceof ReferencePromptError) throw new PromptProfileError(`${source}:${err.line}: ${err.message}`);
    throw err;
  }
  const borrowed: string[] = [];
  if (parts.taskSuffix === undefined) borrowed.push('the task suffix (the reference keeps it in code, not in its YAML; a file may set the studio\'s "task_suffix" key)');
  if (parts.fallbackSystem === undefined) borrowed.push('the fallback system text (no final_answer.pre_messages)');
  if (parts.fallbackRequest === undefined) borrowed.push('the fallback request (no final_answer.post_messages)');
  const notes: string[] = [];
  if (borrowed.length) notes.push(`From the studio's built-in profile (${studioTexts.source}): ${borrowed.join('; ')}.`);
  if (parts.unusedKeys.length) notes.push(`Not used by the studio: ${parts.unusedKeys.join(', ')}.`);
  const profile: ReferenceYamlPromptProfile = {
    format: 'reference-yaml',
    name,
    source,
    system: parts.system,
    systemKey: parts.systemKey,
    systemLine: parts.systemLine,
    taskSuffix: parts.taskSuffix ?? studioTexts.taskSuffix,
    fallbackSystem: parts.fallbackSystem ?? studioTexts.fallbackSystem,
    fallbackRequest: parts.fallbackRequest ?? studioTexts.fallbackRequest,
    fileText: text,
    sourceNote: notes.join(' '),
  };
  renderSystemPrompt(profile, defaultAgentTools, ['math']);
  return profile;
}

/** `media/prompts/` of the bundle (dist/) or of the source tree (src/agent/). */
export function builtinPromptFolder(): Promise<string> {
  return mediaFolder('prompts', `teacher${promptProfileSuffix}`, 'The built-in prompt profiles');
}

/** The profile name a file provides, or undefined for a file that is not a prompt profile. */
function profileNameOf(file: string): string | undefined {
  if (file.endsWith(promptProfileSuffix)) return file.slice(0, -promptProfileSuffix.length);
  const yamlSuffix = referencePromptSuffixes.find((suffix) => file.endsWith(suffix));
  return yamlSuffix ? file.slice(0, -yamlSuffix.length) : undefined;
}

function isReferencePromptFile(file: string): boolean {
  return referencePromptSuffixes.some((suffix) => file.endsWith(suffix));
}

/**
 * Profile names available in `folders` (user folders first, then the built-ins); a user file shadows a
 * built-in of the same name. `<name>.prompt.txt`, `<name>.yaml` and `<name>.yml` files count; within one
 * folder the first in that order wins.
 */
export async function listPromptProfiles(userFolders: readonly string[] = []): Promise<{ name: string; file: string }[]> {
  const folders = [...userFolders, await builtinPromptFolder()];
  const seen = new Map<string, string>();
  for (const folder of folders) {
    const names = await undefinedIfMissing(readdir(folder));
    if (!names) continue;
    const rank = (file: string): number => (file.endsWith(promptProfileSuffix) ? 0 : file.endsWith('.yaml') ? 1 : 2);
    for (const file of names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
      const name = profileNameOf(file);
      if (name !== undefined && !seen.has(name)) seen.set(name, path.join(folder, file));
    }
  }
  return [...seen].map(([name, file]) => ({ name, file }));
}

async function readProfileFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new PromptProfileError(`${file}: cannot read the prompt file (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** The built-in studio texts a reference YAML borrows what it lacks from: the student's for a short system prompt, else the teacher's. */
async function builtinTextsFor(systemKey: string): Promise<PromptProfile> {
  const name = systemKey.includes('short') ? 'student' : 'teacher';
  const file = path.join(await builtinPromptFolder(), `${name}${promptProfileSuffix}`);
  return parsePromptProfile(await readFile(file, 'utf8'), name, file);
}

async function profileFromFile(file: string, name: string, systemKey: string | undefined): Promise<PromptProfile> {
  const text = await readProfileFile(file);
  if (isReferencePromptFile(file)) {
    const key = systemKey ?? defaultReferenceSystemKey;
    const fullName = key === defaultReferenceSystemKey ? name : `${name}#${key}`;
    return parseReferencePromptProfile(text, fullName, file, await builtinTextsFor(key), key);
  }
  if (systemKey !== undefined) throw new PromptProfileError(`${file}: "#${systemKey}" picks a template of a prompt YAML; a ${promptProfileSuffix} file has one system section`);
  return parsePromptProfile(text, name, file);
}

/**
 * Loads a profile by name (from user folders first) or from a path to a `.prompt.txt`, `.yaml` or `.yml`
 * file. For a prompt YAML in the reference's format, `#<key>` after the name or path picks the system
 * template (e.g. `code_agent.yaml#system_prompt_short`, the one the reference's students run with);
 * the default is `system_prompt`.
 */
export async function loadPromptProfile(nameOrPath: string, userFolders: readonly string[] = []): Promise<PromptProfile> {
  // `#<key>` only when what follows the last `#` is a key name, so a path with `#` in a folder name still loads.
  const keyMatch = /^(.+)#(\w+)$/.exec(nameOrPath);
  const base = keyMatch ? keyMatch[1] : nameOrPath;
  const systemKey = keyMatch ? keyMatch[2] : undefined;
  const isPath = base.endsWith(promptProfileSuffix) || isReferencePromptFile(base) || base.includes('/') || base.includes(path.sep);
  if (isPath) {
    const name = profileNameOf(path.basename(base)) ?? path.basename(base);
    return profileFromFile(base, name, systemKey);
  }
  const available = await listPromptProfiles(userFolders);
  const entry = available.find((p) => p.name === base);
  if (!entry) throw new PromptProfileError(`no prompt profile "${base}" (available: ${available.map((p) => p.name).join(', ')})`);
  return profileFromFile(entry.file, entry.name, systemKey);
}
