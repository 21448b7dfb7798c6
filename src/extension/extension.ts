// Entry point: builds the one context object and hands it every disposable (VS Code disposes
// them on deactivation). Activation errors are shown to the user: VS Code would only log them.
// With the probe on (ATTENTION_LENS_PROBE=1, set by the integration test harness) activate()
// returns the state snapshot API the tests read; otherwise nothing.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { ExtensionRoot } from './extension-root';
import { RecordingProbe, probeFromEnvironment } from './probe';
import type { TestApi } from './state-snapshot';
import { stateSnapshot } from './state-snapshot';

export function activate(context: vscode.ExtensionContext): TestApi | undefined {
  try {
    const probe = probeFromEnvironment();
    const ctx = new ExtensionRoot(context, probe);
    context.subscriptions.push(ctx);
    ctx.start();
    context.subscriptions.push(...registerCommands(ctx));
    return probe instanceof RecordingProbe ? { state: (ranges) => stateSnapshot(ctx, probe, ranges) } : undefined;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(`Attention Lens failed to start: ${reason}`);
    throw err;
  }
}
