// Type-aware lint. Two architectural rules are enforced here rather than by convention:
//  - only src/extension.ts, src/platform/** and src/**/*.vscode.ts may import `vscode` (the core runs under
//    plain node and the CLI);
//  - webviews may import nothing from src/ except src/protocol/** (the compile-time boundary).
import tseslint from 'typescript-eslint';

const noVscode = {
  paths: [{ name: 'vscode', message: 'Only *.vscode.ts, src/platform/ and src/extension.ts may import vscode; keep the core free of it.' }],
};
const syncCalls = [
  'readFileSync', 'writeFileSync', 'existsSync', 'statSync', 'readdirSync', 'mkdirSync', 'rmSync', 'renameSync',
  'unlinkSync', 'openSync', 'closeSync', 'fsyncSync', 'copyFileSync', 'appendFileSync', 'spawnSync', 'execSync',
  'execFileSync', 'accessSync', 'lstatSync', 'realpathSync', 'readSync', 'writeSync', 'ftruncateSync', 'mkdtempSync',
];
const noSync = syncCalls.map((name) => ({
  selector: `CallExpression[callee.property.name='${name}'], CallExpression[callee.name='${name}']`,
  message: `${name}: no synchronous file or process calls in src/ (they block the extension host); use the promise API.`,
}));

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'e2e/**', 'scripts/**', '**/*.mjs', '**/*.js', 'media/**', 'examples/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: [] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': ['error', noVscode],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...noSync] },
  },
  {
    files: ['src/extension.ts', 'src/platform/**/*.ts', 'src/**/*.vscode.ts', 'test/integration/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // the core (and the CLI) never import the wire format or the VS Code glue: shared types live in the core and
    // src/protocol/ imports them from there. test/unit/tooling/architecture.test.ts checks the rest of the
    // layering (cycles, dynamic imports, the order of the core's layers).
    files: ['src/**/*.ts'],
    ignores: ['src/extension.ts', 'src/platform/**', 'src/protocol/**', 'src/**/*.vscode.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: noVscode.paths,
        patterns: [
          { regex: '(^|/)protocol/', message: 'The core does not import src/protocol/ (the wire format): define the shared shape in the core and let the protocol import it.' },
          { regex: '\\.vscode(\\.ts)?$', message: 'The core does not import *.vscode.ts glue (its own feature\'s or another\'s): move what both need into a core module.' },
        ],
      }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: noVscode.paths,
        patterns: [{ regex: '^\\.\\./\\.\\./src/(?!protocol/)', message: 'Webviews import only src/protocol/ (the typed host↔webview contract), never core or host code.' }],
      }],
    },
  },
  {
    // tests and benchmarks may use sync fs for fixtures, and need looser typing around assertions
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
