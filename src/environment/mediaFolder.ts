import { access } from 'node:fs/promises';
import * as path from 'node:path';

const lookups = new Map<string, Promise<string>>();

/**
 * A folder under the extension's `media/`, found once per process: beside the bundle (`dist/` → `../media`) or
 * in the source tree (`src/<feature>/` → `../../media`). `probe` is a file that must be in it; `what` names the
 * files in the error when neither layout has them.
 */
export function mediaFolder(relative: string, probe: string, what: string): Promise<string> {
  const key = `${relative}\0${probe}`;
  let lookup = lookups.get(key);
  if (!lookup) {
    lookup = (async () => {
      const candidates = [path.resolve(__dirname, '..', 'media', relative), path.resolve(__dirname, '..', '..', 'media', relative)];
      for (const candidate of candidates) {
        try {
          await access(path.join(candidate, probe));
          return candidate;
        } catch {
          // try the next layout
        }
      }
      throw new Error(`${what} were not found (looked in ${candidates.join(', ')})`);
    })();
    lookups.set(key, lookup);
  }
  return lookup;
}
