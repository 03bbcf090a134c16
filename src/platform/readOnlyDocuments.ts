import * as vscode from 'vscode';

/** The URI scheme of the studio's generated, read-only documents (reports, passages). */
export const readOnlyDocumentScheme = 'trajectory-studio-view';

/**
 * Generated text the user reads but does not own (the Environment Report, a retrieved passage). An Untitled
 * document would ask to be saved when closed or on exit; a content provider's document is read-only and
 * never dirty, so it closes without a question. The text is kept until its document is closed.
 */
class ReadOnlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly disposables: vscode.Disposable[];
  private next = 1;

  constructor() {
    this.disposables = [
      vscode.workspace.registerTextDocumentContentProvider(readOnlyDocumentScheme, this),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.scheme === readOnlyDocumentScheme) this.texts.delete(doc.uri.toString());
      }),
    ];
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '(This document was closed; run the command again to see it.)';
  }

  /** A URI per call (the query keeps two reports apart), named `title` so the tab reads well and the language follows the extension. */
  async show(title: string, text: string, language?: string): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.from({ scheme: readOnlyDocumentScheme, path: `/${title.replace(/[\\/]/g, '-')}`, query: String(this.next++) });
    this.texts.set(uri.toString(), text);
    let doc = await vscode.workspace.openTextDocument(uri);
    if (language && doc.languageId !== language) doc = await vscode.languages.setTextDocumentLanguage(doc, language);
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.texts.clear();
  }
}

const byContext = new WeakMap<vscode.ExtensionContext, ReadOnlyDocuments>();

/**
 * Shows `text` in a read-only editor tab titled `title` (e.g. "Environment Report.md"). The provider is
 * registered on first use and disposed with the extension.
 */
export async function showReadOnlyDocument(context: vscode.ExtensionContext, title: string, text: string, language?: string): Promise<vscode.TextDocument> {
  let documents = byContext.get(context);
  if (!documents) {
    documents = new ReadOnlyDocuments();
    byContext.set(context, documents);
    context.subscriptions.push(documents);
  }
  return documents.show(title, text, language);
}
