import { readFile } from 'node:fs/promises';
import { type z } from 'zod';
import { formatJsonPath } from '../trajectory/schema';
import { undefinedIfMissing } from './durableFile';

/**
 * The one reader of the JSON files the product keeps (run manifests, index manifests, run records, cached
 * replies). Each file carries its format's version in a field; older versions are migrated step by step to
 * the current one before validation with the format's zod schema (as trajectories are, see
 * `src/trajectory/schema.ts`), a newer version is refused with a message saying so, and every other problem
 * names the file and the field.
 */

/** Converts a file's content of version `from` into version `from + 1`. A pure function on plain JSON. */
export type JsonMigration = (value: Record<string, unknown>) => Record<string, unknown>;

export interface VersionedJsonFormat<S extends z.ZodType> {
  /** What the file is, for messages: "a teacher run manifest". */
  what: string;
  /** The current shape, version field included. */
  schema: S;
  /** The key that holds the version (`schema`, `manifestVersion`). */
  versionField: string;
  /** The version this code writes. Bump it only together with a migration from the old one. */
  version: number;
  /** Migrations by the version they read. */
  migrations?: Readonly<Record<number, JsonMigration>>;
}

/**
 * Declares a format in one line: `versionedJsonFormat('a teacher run manifest', schema, 'manifestVersion', 1)`.
 * Migrations are added by the version they read when the version is bumped.
 */
export function versionedJsonFormat<S extends z.ZodType>(
  what: string,
  schema: S,
  versionField: string,
  version: number,
  migrations: Readonly<Record<number, JsonMigration>> = {},
): VersionedJsonFormat<S> {
  return { what, schema, versionField, version, migrations };
}

/** One problem in a file: the field (a JSON path such as `$.config.teacher.model`) and what is wrong with it. */
export interface JsonFileIssue {
  path: string;
  message: string;
}

/** A JSON file that could not be read as its format; the message names the file and every field at fault. */
export class JsonFileError extends Error {
  override readonly name = 'JsonFileError';
  constructor(
    readonly file: string,
    readonly what: string,
    readonly issues: readonly JsonFileIssue[],
  ) {
    super(`${file}: not ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/**
 * Files written before a format had a version field are its version 1: every format that gained the field
 * later started at 1, so they migrate from there.
 */
const versionOfUnversionedFiles = 1;

/**
 * Validates already parsed JSON as `format`, migrating older versions first. `file` names where it came
 * from in errors. Throws {@link JsonFileError}.
 */
export function parseVersionedValue<S extends z.ZodType>(value: unknown, file: string, format: VersionedJsonFormat<S>): z.infer<S> {
  const refuse = (path: string, message: string): never => {
    throw new JsonFileError(file, format.what, [{ path, message }]);
  };
  const field = formatJsonPath([format.versionField]);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return refuse('$', `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  let record = value as Record<string, unknown>;
  const version = record[format.versionField] ?? versionOfUnversionedFiles;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return refuse(field, `expected a whole-number version, got ${JSON.stringify(version)}`);
  }
  if (version > format.version) {
    return refuse(
      field,
      `version ${version} was written by a newer Trajectory Studio; this version reads versions up to ${format.version}. Update Trajectory Studio to open this file.`,
    );
  }
  for (let v = version; v < format.version; v++) {
    const migrate = format.migrations?.[v];
    if (!migrate) return refuse(field, `no migration from version ${v} to ${v + 1}`);
    record = migrate(record);
  }
  // A file without the field is at the current version once migrated (or when it needed no migration).
  record = { ...record, [format.versionField]: format.version };
  const parsed = format.schema.safeParse(record);
  if (!parsed.success) {
    throw new JsonFileError(
      file,
      format.what,
      parsed.error.issues.map((i) => ({ path: formatJsonPath(i.path), message: i.message })),
    );
  }
  return parsed.data;
}

/** Parses JSON text as `format` (see {@link parseVersionedValue}); text that is not JSON is a {@link JsonFileError} too. */
export function parseVersionedJson<S extends z.ZodType>(text: string, file: string, format: VersionedJsonFormat<S>): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new JsonFileError(file, format.what, [{ path: '$', message: `not valid JSON (${err instanceof Error ? err.message : String(err)})` }]);
  }
  return parseVersionedValue(value, file, format);
}

/**
 * Reads a file that is not only the product's to write (a `*.manifest.json` another tool may own, a file the
 * user writes by hand): `adapt` sees the parsed JSON first and returns what to read as `format` (an older
 * shape wrapped, say), or undefined for a file that is not this format's (skipped, not an error). Undefined
 * when the file does not exist; text that is not JSON is a {@link JsonFileError}.
 */
export async function readAdaptedVersionedJson<S extends z.ZodType>(file: string, format: VersionedJsonFormat<S>, adapt: (value: unknown) => unknown): Promise<z.infer<S> | undefined> {
  const text = await undefinedIfMissing(readFile(file, 'utf8'));
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Reports the parser's message, naming the file.
    return parseVersionedJson(text, file, format);
  }
  const adapted = adapt(value);
  return adapted === undefined ? undefined : parseVersionedValue(adapted, file, format);
}

/**
 * Reads `file` as `format`: undefined when it does not exist, the current version's content (migrated when
 * older) when it does, a {@link JsonFileError} naming the file and field otherwise.
 */
export async function readVersionedJson<S extends z.ZodType>(file: string, format: VersionedJsonFormat<S>): Promise<z.infer<S> | undefined> {
  const text = await undefinedIfMissing(readFile(file, 'utf8'));
  return text === undefined ? undefined : parseVersionedJson(text, file, format);
}
