import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

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

/** JSON that is safe inside a <script> element: no `</script>`, no HTML comment or CDATA openers. */
function jsonForScriptTag(value: unknown): string {
  return JSON.stringify(value ?? null)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The HTML shell of a studio webview: a strict CSP with a fresh CSPRNG nonce (no inline script or style
 * without it, no remote resources), codicons, the view's bundle, and its initial state as inert JSON.
 */
export function renderWebviewHtml(options: WebviewHtmlOptions): string {
  const { webview, extensionUri, bundle, title, initialState } = options;
  const nonce = randomBytes(18).toString('base64');
  const asset = (...parts: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', ...parts)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${asset('codicons', 'codicon.css')}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${asset('katex', 'katex.min.css')}">
<link rel="stylesheet" href="${asset(`${bundle}.css`)}">
</head>
<body>
<div id="app" data-nonce="${nonce}"></div>
<script type="application/json" id="initial-state" nonce="${nonce}">${jsonForScriptTag(initialState)}</script>
<script type="module" nonce="${nonce}" src="${asset(`${bundle}.js`)}"></script>
</body>
</html>`;
}
