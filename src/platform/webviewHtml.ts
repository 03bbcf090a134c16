import * as vscode from 'vscode';
import { webviewShellHtml } from './webviewShell';

export interface WebviewHtmlOptions {
  webview: vscode.Webview;
  extensionUri: vscode.Uri;
  /** Name of the bundle under dist/webview/ (the folder name under webview/). */
  bundle: string;
  title: string;
  /** Serialisable state the page reads synchronously at start (see `readInitialState` in the webview). */
  initialState?: unknown;
}

/** Options every studio webview uses: scripts on, resources only from dist/ and media/. */
export function studioWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/**
 * The HTML shell of a studio webview (see {@link webviewShellHtml}), with a fresh nonce and this webview's
 * resource URIs.
 */
export function renderWebviewHtml(options: WebviewHtmlOptions): string {
  const { webview, extensionUri, bundle, title, initialState } = options;
  return webviewShellHtml({
    cspSource: webview.cspSource,
    asset: (...parts) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', ...parts)).toString(),
    bundle,
    title,
    initialState,
  });
}
