import { randomBytes } from 'node:crypto';

export interface WebviewShellOptions {
  /** `webview.cspSource`: the origin the page's own files are served from. */
  cspSource: string;
  /** The webview URI of a file under dist/webview/. */
  asset: (...parts: string[]) => string;
  bundle: string;
  title: string;
  initialState?: unknown;
  /** A fresh CSPRNG value per page (the default makes one). */
  nonce?: string;
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
 * The HTML of a studio webview page, without VS Code (so it is tested on its own): a strict CSP with the
 * given nonce (no inline script or style without it, no remote resources, no frames, forms or connections),
 * codicons and KaTeX styles, the view's bundle, and its initial state as inert JSON.
 */
export function webviewShellHtml(options: WebviewShellOptions): string {
  const { cspSource, asset, bundle, title, initialState } = options;
  const nonce = options.nonce ?? randomBytes(18).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
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
