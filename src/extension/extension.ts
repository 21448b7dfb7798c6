// Entry point: builds the one context object and hands it every disposable (VS Code disposes
// them on deactivation). Activation errors are shown to the user: VS Code would only log them.
// With the probe on (ATTENTION_LENS_PROBE=1, set by the integration test harness) activate()
// returns the root and the probe, which the suites read (test/integration/state.ts); otherwise nothing.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { ExtensionRoot } from './extension-root';
import { RecordingProbe, probeFromEnvironment } from './probe';
import { registerWalkthrough } from './walkthrough';

/** What activate() returns with the probe on: the extension's root and what the probe recorded. */
export interface ProbeHandle {
  root: ExtensionRoot;
  probe: RecordingProbe;
}

export function activate(context: vscode.ExtensionContext): ProbeHandle | undefined {
  try {
    const probe = probeFromEnvironment();
    const root = new ExtensionRoot(context, probe);
    context.subscriptions.push(root);
    root.start();
    context.subscriptions.push(...registerCommands(root), ...registerWalkthrough(root));
    return probe instanceof RecordingProbe ? { root, probe } : undefined;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(`Attention Lens failed to start: ${reason}`);
    throw err;
  }
}
