// A Trajectory Studio session for UI tests: the packaged VSIX installed into a fresh code-server, a copy of
// a workspace opened in headless Chromium, and helpers to run commands, find webviews and take screenshots
// (saved under test/ui/__screenshots__/, which git ignores).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, FrameLocator, Page } from 'playwright-core';
import {
  type CodeServerHandle,
  findWebview,
  installExtension,
  launchBrowser,
  makeRunDirs,
  repoRoot,
  runCommand,
  startCodeServer,
  workbenchSettings,
} from '../../../e2e/lib.mjs';

export type Theme = 'light' | 'dark' | 'high-contrast';
const themeNames: Record<Theme, string> = {
  light: 'Default Light Modern',
  dark: 'Default Dark Modern',
  'high-contrast': 'Default High Contrast',
};

export const screenshotDir = path.join(repoRoot, 'test/ui/__screenshots__');

export function packagedVsix(): string {
  if (process.env.TS_VSIX) return path.resolve(process.env.TS_VSIX);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const vsix = path.join(repoRoot, `trajectory-studio-${pkg.version}.vsix`);
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run "npm run package" first`);
  return vsix;
}

export interface StudioSessionOptions {
  /** Names the run folder and prefixes screenshots. */
  name: string;
  theme?: Theme;
  /** Folder copied into the run folder and opened (default: the repository's examples/). */
  workspace?: string;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /**
   * Machine settings in place before code-server starts (endpoint base URLs, hosts), so the first command
   * already sees them; `writeMachineSettings` changes them later, when VS Code notices the file.
   */
  machineSettings?: Record<string, unknown>;
  /** Extra environment for code-server and so the extension host (e.g. a fake model server URL). */
  env?: Record<string, string>;
}

export interface StudioSession {
  page: Page;
  context: BrowserContext;
  server: CodeServerHandle;
  /** The workspace copy the workbench has open. */
  workspace: string;
  runCommand(title: string): Promise<void>;
  findWebview(selector: string, options?: { hasText?: string; timeout?: number }): Promise<FrameLocator>;
  /** Opens a trajectory file of the workspace by name (Quick Open) and returns the editor's page once its list shows. */
  openTrajectoryFile(fileName: string): Promise<FrameLocator>;
  /**
   * Writes the server machine's settings. Machine-scoped settings (endpoint base URLs, hosts) are read from
   * there: code-server's extension host is remote. VS Code watches the file, so it may be written any time.
   */
  writeMachineSettings(settings: Record<string, unknown>): void;
  /**
   * Answers a file dialog (in this workbench a quick input holding a path) whose title contains `titleText`:
   * types `file`, or accepts the dialog's own suggestion once it ends with `suggestedEnd`. Returns the accepted path.
   */
  answerFileDialog(titleText: string, answer: { file: string } | { suggestedEnd: string }): Promise<string>;
  /**
   * Resolves once the webview's fonts have loaded and it has painted twice since: call it before a screenshot,
   * after waiting for what the screenshot must show, so the picture has what the page now holds.
   */
  painted(view: FrameLocator): Promise<void>;
  /** Saves a full-window screenshot as test/ui/__screenshots__/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openStudio(options: StudioSessionOptions): Promise<StudioSession> {
  const runsRoot = process.env.E2E_RUNS_DIR || os.tmpdir();
  fs.mkdirSync(runsRoot, { recursive: true });
  const root = fs.mkdtempSync(path.join(runsRoot, `ui-${options.name}-`));
  const theme = options.theme ?? 'dark';
  const dirs = makeRunDirs(root, workbenchSettings({ 'workbench.colorTheme': themeNames[theme], ...options.settings }));
  const source = options.workspace ?? path.join(repoRoot, 'examples');
  const workspace = path.join(root, path.basename(source));
  fs.cpSync(source, workspace, { recursive: true });
  const writeMachineSettings = (settings: Record<string, unknown>): void => {
    const folder = path.join(dirs.userDataDir, 'Machine');
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'settings.json'), JSON.stringify(settings, null, 2));
  };
  if (options.machineSettings) writeMachineSettings(options.machineSettings);
  await installExtension(dirs, packagedVsix());
  const server = await startCodeServer(dirs, { env: options.env });
  const { context, page } = await launchBrowser(dirs);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await context.close().catch(() => undefined);
    await server.stop();
    if (!process.env.E2E_KEEP) fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    await page.goto(`${server.url}?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
    // the studio's activity-bar entry appears once the extension is installed and the workbench restored
    await page.locator('.activitybar .action-item a[aria-label^="Trajectory Studio"]').waitFor({ timeout: 90000 });
  } catch (err) {
    await close();
    throw err;
  }
  fs.mkdirSync(screenshotDir, { recursive: true });
  return {
    page,
    context,
    server,
    workspace,
    runCommand: (title) => runCommand(page, title),
    findWebview: (selector, o) => findWebview(page, selector, o),
    async openTrajectoryFile(fileName) {
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible' });
      await input.fill(fileName);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: fileName }).first().waitFor({ timeout: 15000 });
      await page.keyboard.press('Enter');
      return findWebview(page, '.row', { timeout: 60000 });
    },
    async answerFileDialog(titleText, answer) {
      const widget = page.locator('.quick-input-widget', { hasText: titleText });
      await widget.waitFor({ timeout: 15000 });
      const input = widget.locator('input').first();
      if ('suggestedEnd' in answer) {
        // The dialog fills in its suggestion after it shows. (A string: the test files have no DOM types.) On a
        // timeout the caller's assertion on the returned path shows what the dialog held.
        await page
          .waitForFunction(`document.querySelector('.quick-input-widget input')?.value.endsWith(${JSON.stringify(answer.suggestedEnd)}) === true`, undefined, { timeout: 10000 })
          .catch(() => undefined);
      }
      const value = 'file' in answer ? answer.file : await input.inputValue();
      // The dialog reads a typed path asynchronously; an Enter that arrives while it is still listing the folder
      // navigates instead of accepting. So: type the path again and retry, three times at most.
      for (let attempt = 1; ; attempt++) {
        if ('file' in answer) {
          await input.fill(answer.file);
          await widget.locator('.quick-input-list .monaco-list-row', { hasText: path.basename(answer.file) }).first().waitFor({ timeout: 10000 });
        }
        await page.keyboard.press('Enter');
        try {
          await widget.waitFor({ state: 'hidden', timeout: 5000 });
          return value;
        } catch (err) {
          if (attempt === 3) {
            await page.screenshot({ path: path.join(screenshotDir, `${options.name}-file-dialog-stuck-${theme}.png`) });
            throw new Error(`the file dialog "${titleText}" stayed open after three tries; it holds ${JSON.stringify(await input.inputValue())}`, { cause: err });
          }
        }
      }
    },
    writeMachineSettings,
    async painted(view) {
      // a string: the test files have no DOM types
      await view.locator('body').evaluate('() => document.fonts.ready.then(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))');
    },
    async screenshot(name) {
      const file = path.join(screenshotDir, `${options.name}-${name}-${theme}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    close,
  };
}
