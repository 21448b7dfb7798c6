// Entry point: builds the one context object and hands it every disposable (VS Code disposes
// them on deactivation). Activation errors are shown to the user: VS Code would only log them.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Ctx } from './ctx';

export function activate(context: vscode.ExtensionContext): void {
  try {
    const ctx = new Ctx(context);
    context.subscriptions.push(ctx);
    ctx.start();
    context.subscriptions.push(...registerCommands(ctx));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(`Attention Lens failed to start: ${reason}`);
    throw err;
  }
}
