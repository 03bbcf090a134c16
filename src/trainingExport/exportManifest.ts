import { readAdaptedVersionedJson, readVersionedJson, versionedJsonFormat } from '../runs/versionedJson';
import { EXPORT_MANIFEST_KIND, EXPORT_MANIFEST_VERSION, exportManifestSchema, manifestPathFor, type ExportManifest } from '../trajectory/sftExport';

/**
 * The one reader of a training export's manifest (`<file>.manifest.json`, written by `exportTrainingData` and
 * `writeManifest` in `src/trajectory/sftExport.ts`, which sits below the versioned-JSON reader and so cannot
 * read it itself). Manifests written before `manifestVersion` existed are version 1.
 */

/** How `<file>.manifest.json` is read: a bump of {@link EXPORT_MANIFEST_VERSION} adds the migration from the old version here. */
export const exportManifestFormat = versionedJsonFormat('a training export manifest', exportManifestSchema, 'manifestVersion', EXPORT_MANIFEST_VERSION);

/**
 * The manifest beside the training file `dataPath`: undefined when there is none (a file made elsewhere), a
 * `JsonFileError` naming the file and the field when it cannot be read as an export manifest.
 */
export function readExportManifest(dataPath: string): Promise<ExportManifest | undefined> {
  return readVersionedJson(manifestPathFor(dataPath), exportManifestFormat);
}

/**
 * A `*.manifest.json` found among the user's files, read as {@link readExportManifest} reads ours; undefined
 * when it is missing or another tool's (a teacher run manifest, a web app manifest: not ours to judge). Ours are
 * told by their `kind`, which every export manifest has carried; a file that is not JSON at all is reported.
 */
export function readExportManifestIfOurs(manifestFile: string): Promise<ExportManifest | undefined> {
  const ours = (value: unknown): boolean => typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === EXPORT_MANIFEST_KIND;
  return readAdaptedVersionedJson(manifestFile, exportManifestFormat, (value) => (ours(value) ? value : undefined));
}
