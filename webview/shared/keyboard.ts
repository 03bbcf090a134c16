/**
 * The one keyboard model of the studio's pages. Single-key shortcuts are decided in the page's own keydown
 * listener, at the moment the key arrives, from the event itself: where it was typed (its composed path,
 * which reaches into the shadow DOM of vscode-elements' text fields) and whether an input method is
 * composing. Nothing asynchronous sits between the key and that decision, so fast typing cannot race it.
 */

/** Elements a key typed into is text (or a choice), never a shortcut. */
const typingTags = new Set(['INPUT', 'TEXTAREA', 'SELECT', 'VSCODE-TEXTFIELD', 'VSCODE-TEXTAREA', 'VSCODE-SINGLE-SELECT', 'VSCODE-MULTI-SELECT']);

/**
 * True when the key belongs to a text field, a select, a contenteditable region, an open form (an element
 * with `data-keys="form"`, e.g. the reject form or a step being edited), or an IME composition.
 */
export function isTypingKey(event: KeyboardEvent): boolean {
  // keyCode 229 is what browsers report for keys an IME is still processing, before `isComposing` is set.
  if (event.isComposing || event.keyCode === 229) return true;
  for (const target of event.composedPath()) {
    if (!(target instanceof HTMLElement)) continue;
    if (typingTags.has(target.tagName) || target.isContentEditable || target.dataset.keys === 'form') return true;
  }
  return false;
}

/**
 * The key as a single-key shortcut sees it, or undefined when the event cannot be one: a modifier other
 * than Shift is held (those belong to VS Code and the browser), or it is typing (see `isTypingKey`).
 */
export function shortcutKey(event: KeyboardEvent): string | undefined {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return undefined;
  if (isTypingKey(event)) return undefined;
  return event.key;
}

/** Ctrl+Enter, or Cmd+Enter on macOS: submits a form. */
export function isSubmitKey(event: KeyboardEvent): boolean {
  return event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !event.altKey && !event.isComposing;
}
