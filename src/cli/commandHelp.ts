import { type CliCommand, type CliOptionSpec, type CliOptionSpecs } from './command';

/** Lines of help are wrapped to this many columns (a terminal of 100 columns shows them unbroken). */
export const helpWidth = 100;
/** The option column is at most this wide; a longer option name puts its help on the next line. */
const maxOptionColumn = 30;

/**
 * Wraps one paragraph to `width` columns at spaces; continuation lines keep the paragraph's own indentation
 * plus `hangingIndent`. A word longer than the line stays whole.
 */
export function wrapText(text: string, width = helpWidth, hangingIndent = 0): string[] {
  const indent = /^ */.exec(text)?.[0] ?? '';
  const words = text.slice(indent.length).split(/ +/).filter((w) => w !== '');
  if (words.length === 0) return [''];
  const lines: string[] = [];
  let line = indent;
  let lineHasWord = false;
  const continuation = `${indent}${' '.repeat(hangingIndent)}`;
  for (const word of words) {
    if (lineHasWord && line.length + 1 + word.length > width) {
      lines.push(line);
      line = continuation + word;
    } else {
      line = lineHasWord ? `${line} ${word}` : line + word;
    }
    lineHasWord = true;
  }
  lines.push(line);
  return lines;
}

/** How an option is written in the help: `--out DIR`, `--json`. */
export function optionLabel(name: string, spec: CliOptionSpec): string {
  return spec.type === 'string' ? `--${name} ${spec.value}` : `--${name}`;
}

function optionHelp(spec: CliOptionSpec): string {
  return spec.type === 'string' && spec.multiple ? `${spec.help} (repeatable)` : spec.help;
}

/** The option table: aligned columns, help wrapped in its column, a heading where the group changes. */
export function formatOptions(options: CliOptionSpecs, width = helpWidth): string[] {
  const entries = Object.entries(options);
  if (entries.length === 0) return [];
  const labels = entries.map(([name, spec]) => optionLabel(name, spec));
  // As wide as the longest label that fits; a longer one puts its help on the next line.
  const column = Math.max(...labels.map((l) => (l.length <= maxOptionColumn ? l.length : 0)));
  const helpIndent = 2 + column + 2;
  const lines: string[] = [];
  let group: string | undefined | null = null; // null: before the first option
  entries.forEach(([, spec], i) => {
    if (spec.group !== group) {
      if (lines.length) lines.push('');
      lines.push(`${spec.group ?? (group === null ? 'Options' : 'Other options')}:`);
      group = spec.group;
    }
    const label = labels[i] ?? '';
    const help = wrapText(optionHelp(spec), width - helpIndent).map((l) => `${' '.repeat(helpIndent)}${l}`);
    if (label.length > column) {
      lines.push(`  ${label}`, ...help);
    } else {
      const [first = '', ...rest] = help;
      lines.push(`  ${label.padEnd(column)}  ${first.trimStart()}`, ...rest);
    }
  });
  return lines;
}

function paragraphs(texts: readonly string[] | undefined, width: number): string[] {
  return (texts ?? []).flatMap((t) => wrapText(t, width));
}

/** `--help` of one command: summary, usage line(s), description, the generated option table, notes. */
export function formatCommandHelp(command: CliCommand, width = helpWidth): string {
  const synopsis = typeof command.synopsis === 'string' ? [command.synopsis] : command.synopsis;
  const lines = [command.summary, '', ...synopsis.map((s, i) => `${i === 0 ? 'Usage: ' : '       '}${s}`)];
  const description = paragraphs(command.description, width);
  if (description.length) lines.push('', ...description);
  const options = formatOptions(command.options, width);
  if (options.length) lines.push('', ...options);
  const notes = paragraphs(command.notes, width);
  if (notes.length) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The declared options a mistyped `--name` most likely meant: near in spelling, or one a prefix of the other. */
export function similarOptions(name: string, options: CliOptionSpecs): string[] {
  return Object.keys(options).filter((o) => o.startsWith(name) || name.startsWith(o) || editDistance(o, name) <= Math.max(1, Math.floor(name.length / 4)));
}

/** The error for an option the command does not declare, naming it and what was probably meant. */
export function unknownOptionMessage(command: CliCommand, option: string): string {
  const name = option.replace(/^-+/, '').replace(/=.*$/, '');
  const similar = similarOptions(name, command.options).map((o) => `--${o}`);
  const hint = similar.length ? ` (did you mean ${similar.join(' or ')}?)` : '';
  return `unknown option "${option}"${hint}; "trajectory-studio ${command.name} --help" lists its options`;
}
