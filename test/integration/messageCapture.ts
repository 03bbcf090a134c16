import * as vscode from 'vscode';

/**
 * Records the error notifications the extension shows (its commands report failures through
 * `window.showErrorMessage`), so a test can assert what the user would read. The extension and the tests share
 * the extension host's `vscode` API object, so replacing the function is seen by both; `restore()` puts it back.
 */
export function captureErrorMessages(): { messages: string[]; restore(): void } {
  const messages: string[] = [];
  const window = vscode.window as unknown as Record<string, unknown>;
  const original = window.showErrorMessage;
  window.showErrorMessage = (message: string) => {
    messages.push(message);
    return Promise.resolve(undefined);
  };
  return {
    messages,
    restore() {
      window.showErrorMessage = original;
    },
  };
}
