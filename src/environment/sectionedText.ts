/**
 * The studio's own prompt-like text files (`.prompt.txt`, `.judge.txt`): sections introduced by a line
 * `=== <name> ===`, `#` comment lines before the first section. Parsing is shared; what each section must
 * contain is the caller's business. Every problem names the file and line.
 */

/** One section: the line of its header (1-based) and its lines. */
export interface TextSection {
  line: number;
  body: string[];
}

/** The lines without leading and trailing blank lines, joined. */
export function trimBlankLines(lines: readonly string[]): string {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start].trim() === '') start += 1;
  while (end > start && lines[end - 1].trim() === '') end -= 1;
  return lines.slice(start, end).join('\n');
}

/**
 * Splits `text` into its sections. An unknown or repeated section, or text before the first one, throws
 * `fail(message)` with `source:line:` in front; `firstHeader` is what the message suggests to start with.
 */
export function parseTextSections<S extends string>(text: string, source: string, names: readonly S[], fail: (message: string) => Error, firstHeader: string): Map<S, TextSection> {
  const found = new Map<S, TextSection>();
  let current: TextSection | undefined;
  text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .forEach((line, i) => {
      const header = /^=== (.+) ===\s*$/.exec(line);
      if (header) {
        const section = header[1].trim().toLowerCase();
        if (!(names as readonly string[]).includes(section)) {
          throw fail(`${source}:${i + 1}: unknown section "${header[1]}" (expected one of: ${names.join(', ')})`);
        }
        const key = section as S;
        const previous = found.get(key);
        if (previous) throw fail(`${source}:${i + 1}: section "${section}" appears twice (first at line ${previous.line})`);
        current = { line: i + 1, body: [] };
        found.set(key, current);
        return;
      }
      if (current) current.body.push(line);
      else if (line.trim() !== '' && !line.startsWith('#')) throw fail(`${source}:${i + 1}: text before the first section (start with ${firstHeader})`);
    });
  return found;
}
