import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

/**
 * The layering docs/ARCHITECTURE.md describes, checked on the real import graph of src/ (static `import … from`,
 * `export … from`, `import('…')` and `import('…')` types). ESLint's `no-restricted-imports` in eslint.config.mjs
 * stops the commonest mistakes while typing (a core file importing src/protocol/ or a `*.vscode.ts` file); this
 * test holds what a lint rule cannot see: cycles, dynamic imports, the order of the core's layers, what the
 * webview bundle compiles, and whether the architecture notes still name every file.
 *
 * Type-only imports count as edges everywhere: they vanish from the bundle, but a type-only cycle still ties two
 * modules together (neither can be read, moved or tested without the other), and a type imported upward is
 * the very "data flows up" this check exists to stop.
 */

const root = path.resolve(__dirname, '..', '..', '..');

/**
 * The core's layers, lowest first. A core file may import files of its own unit (the same entry) and of any
 * lower layer; never a higher layer, and never another unit of its own layer (features of one layer stay apart).
 * An entry is a folder (`src/llm/`) or, where a folder holds a lower-level piece, one file; the longest match wins.
 */
const layers: readonly { name: string; units: readonly string[] }[] = [
  {
    name: 'foundation: no imports from the rest of src/',
    units: ['src/environment/', 'src/platform/ids.ts', 'src/runs/durableFile.ts', 'src/retrieval/types.ts'],
  },
  { name: 'data model and trajectory formats', units: ['src/trajectory/'] },
  { name: 'versioned JSON files', units: ['src/runs/versionedJson.ts'] },
  { name: 'services: model servers, retrieval indexes', units: ['src/llm/', 'src/retrieval/'] },
  { name: 'execution and scoring', units: ['src/sandbox/', 'src/scoring/'] },
  { name: 'run machinery shared by teacher generation and evaluation', units: ['src/runs/'] },
  { name: 'the agent and triage', units: ['src/agent/', 'src/triage/'] },
  { name: 'runs that produce trajectories, and the training export', units: ['src/teacher/', 'src/eval/', 'src/trainingExport/'] },
  { name: 'features over produced trajectories', units: ['src/dataImport/', 'src/trajectoryEditor/', 'src/trajectoryFiles/', 'src/training/'] },
];

/** The front ends and the VS Code layer: they may import the core; the core may not import them. */
function isFront(file: string): boolean {
  return (
    file === 'src/extension.ts' ||
    file.endsWith('.vscode.ts') ||
    file.startsWith('src/cli/') ||
    file.startsWith('src/protocol/') ||
    (file.startsWith('src/platform/') && file !== 'src/platform/ids.ts')
  );
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
  dynamic: boolean;
}

interface ImportGraph {
  files: string[];
  edges: Edge[];
  /** Package (bare) imports per file, e.g. `zod`, `node:fs`. */
  packages: Map<string, string[]>;
  unresolved: string[];
}

function listTs(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listTs(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : []))
    .sort();
}

function buildImportGraph(): ImportGraph {
  const files = listTs('src');
  const known = new Set(files);
  const edges: Edge[] = [];
  const packages = new Map<string, string[]>();
  const unresolved: string[] = [];
  const resolve = (from: string, spec: string): string | undefined => {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
    return [base, `${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts')].find((c) => known.has(c));
  };
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const add = (spec: string, typeOnly: boolean, dynamic: boolean): void => {
      if (!spec.startsWith('.')) {
        packages.set(file, [...(packages.get(file) ?? []), spec]);
        return;
      }
      const to = resolve(file, spec);
      if (to) edges.push({ from: file, to, typeOnly, dynamic });
      else unresolved.push(`${file}: '${spec}'`);
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const clause = node.importClause;
        const bindings = clause?.namedBindings;
        const allInlineTypes = !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
        add(node.moduleSpecifier.text, !!clause && (clause.isTypeOnly || (!clause.name && allInlineTypes)), false);
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node.isTypeOnly, false);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [spec] = node.arguments;
        if (spec && ts.isStringLiteralLike(spec)) add(spec.text, false, true);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add(node.argument.literal.text, true, false);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { files, edges, packages, unresolved };
}

/** Strongly connected components with more than one file (or a file importing itself): the import cycles. */
function importCycles(graph: ImportGraph): string[][] {
  const next = new Map<string, string[]>(graph.files.map((f) => [f, []]));
  for (const e of graph.edges) next.get(e.from)?.push(e.to);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)?.includes(v)) cycles.push(component.sort());
    }
  };
  for (const f of graph.files) if (!index.has(f)) connect(f);
  return cycles;
}

/** The layer entry a core file belongs to (longest match), or undefined when none lists it. */
function unitOf(file: string): { unit: string; layer: number } | undefined {
  let best: { unit: string; layer: number } | undefined;
  layers.forEach((l, layer) => {
    for (const unit of l.units) {
      const matches = unit.endsWith('/') ? file.startsWith(unit) : file === unit;
      if (matches && (!best || unit.length > best.unit.length)) best = { unit, layer };
    }
  });
  return best;
}

function describeEdge(e: Edge): string {
  return `${e.from} → ${e.to}${e.typeOnly ? ' (type only)' : ''}${e.dynamic ? ' (dynamic import)' : ''}`;
}

const graph = buildImportGraph();

void describe('architecture: the import graph of src/', () => {
  void it('resolves every relative import (so the checks below see every edge)', () => {
    assert.deepEqual(graph.unresolved, []);
  });

  void it('has no import cycle (type-only imports included)', () => {
    const cycles = importCycles(graph);
    assert.deepEqual(cycles, [], `import cycles; move the piece both files need into a third module:\n${cycles.map((c) => `  ${c.join(' ⇄ ')}`).join('\n')}`);
  });

  void it('keeps the core free of src/protocol/, *.vscode.ts, src/platform/ (but ids.ts), src/cli/ and extension.ts', () => {
    const upward = graph.edges.filter((e) => !isFront(e.from) && isFront(e.to)).map(describeEdge);
    assert.deepEqual(
      upward,
      [],
      'core files import the VS Code layer, a front end or the wire format; move the shared types down into the core ' +
        '(the protocol then imports them from there):\n' +
        upward.map((u) => `  ${u}`).join('\n'),
    );
  });

  void it('places every core file in a layer of the table above', () => {
    const unplaced = graph.files.filter((f) => !isFront(f) && !unitOf(f));
    assert.deepEqual(unplaced, [], 'core files in no layer: add their folder to `layers` in this test and to docs/ARCHITECTURE.md');
  });

  void it('has the core import only downward: its own unit or a lower layer', () => {
    const wrong = graph.edges
      .filter((e) => !isFront(e.from) && !isFront(e.to))
      .flatMap((e) => {
        const from = unitOf(e.from);
        const to = unitOf(e.to);
        if (!from || !to || from.unit === to.unit || to.layer < from.layer) return [];
        const why = to.layer === from.layer ? `another unit of layer "${layers[from.layer].name}"` : `up to layer "${layers[to.layer].name}"`;
        return [`${describeEdge(e)}: ${why}`];
      });
    assert.deepEqual(wrong, [], `imports against the layering; move the shared piece down to the lowest unit that owns it:\n${wrong.map((w) => `  ${w}`).join('\n')}`);
  });

  void it('compiles into the webview bundle only what a browser can run: protocol files and the zod-only view shapes they import', () => {
    const reached = new Set(graph.files.filter((f) => f.startsWith('src/protocol/')));
    for (let grew = true; grew; ) {
      grew = false;
      for (const e of graph.edges) {
        if (reached.has(e.from) && !e.typeOnly && !reached.has(e.to)) {
          reached.add(e.to);
          grew = true;
        }
      }
    }
    const problems = [...reached].flatMap((f) => (graph.packages.get(f) ?? []).filter((p) => p !== 'zod').map((p) => `${f} imports ${p}`));
    assert.deepEqual(problems, [], `the webviews compile these through src/protocol/, where only zod is available:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  });
});

void describe('architecture: docs/ARCHITECTURE.md', () => {
  const doc = readFileSync(path.join(root, 'docs/ARCHITECTURE.md'), 'utf8');

  void it('names every source file by its path', () => {
    const missing = graph.files.filter((f) => !doc.includes(`\`${f}\``));
    assert.deepEqual(missing, [], 'add these to the file index of docs/ARCHITECTURE.md, with their role in one line');
  });

  void it('names no source file that does not exist', () => {
    const known = new Set(graph.files);
    const stale = [...new Set([...doc.matchAll(/`(src\/[\w./-]+\.ts)`/g)].map((m) => m[1]))].filter((f) => !known.has(f));
    assert.deepEqual(stale, []);
  });

  void it('lists the layers this test enforces', () => {
    const missing = layers.flatMap((l) => l.units).filter((u) => !doc.includes(`\`${u}\``));
    assert.deepEqual(missing, []);
  });
});
