// The Get Started walkthrough (package.json contributes.walkthroughs): its palette command and
// the commands its steps' buttons run. Each step command brings the sample to the front and runs
// the real command (Inspect, Compare, Needle), doing the earlier steps first when they were
// skipped, so that no step asks the user to go back and retry. The sample is the extension's own
// samples/inventory.py (bundled in the .vsix), copied to the extension's storage so that edits
// never touch the installed extension.
import * as vscode from 'vscode';
import type { ExtensionRoot } from './extension-root';

/** What the walkthrough uses of the extension. */
type WalkthroughServices = Pick<ExtensionRoot, 'extension' | 'documents' | 'reportError'>;

export const WALKTHROUGH_ID = 'attention-lens.attention-lens#attentionLens.firstSteps';
export const SAMPLE_FILE = 'inventory.py';
/** A name defined near the sample's top and used again far below. */
export const NEEDLE_NAME = 'REORDER_MARGIN';

/** The commands the walkthrough's buttons run (hidden from the palette). */
export const WALKTHROUGH_COMMANDS = {
  openSample: 'attentionLens.walkthrough.openSample',
  inspect: 'attentionLens.walkthrough.inspect',
  compare: 'attentionLens.walkthrough.compare',
  needle: 'attentionLens.walkthrough.needle',
} as const;

/** Get Started and the step commands; each reports its own errors. */
export function registerWalkthrough(ctx: WalkthroughServices): vscode.Disposable[] {
  const walkthrough = new Walkthrough(ctx);
  const command = (id: string, what: string, run: () => Promise<unknown>): vscode.Disposable =>
    vscode.commands.registerCommand(id, async () => {
      try {
        await run();
      } catch (err) {
        ctx.reportError(what, err);
      }
    });
  return [
    command('attentionLens.getStarted', 'opening the walkthrough', () => walkthrough.open()),
    command(WALKTHROUGH_COMMANDS.openSample, 'opening the sample', () => walkthrough.openSample()),
    command(WALKTHROUGH_COMMANDS.inspect, 'inspecting the sample', () => walkthrough.inspect()),
    command(WALKTHROUGH_COMMANDS.compare, 'comparing modes on the sample', () => walkthrough.compare()),
    command(WALKTHROUGH_COMMANDS.needle, 'the needle on the sample', () => walkthrough.needle()),
  ];
}

class Walkthrough {
  constructor(private readonly ctx: WalkthroughServices) {}

  /** Attention Lens: Get Started. */
  async open(): Promise<void> {
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
  }

  /** The sample's copy in the extension's storage, written from the bundled file unless it is open now. */
  async sampleUri(): Promise<vscode.Uri> {
    const storage = this.ctx.extension.globalStorageUri;
    const copy = vscode.Uri.joinPath(storage, 'sample', SAMPLE_FILE);
    const open = vscode.workspace.textDocuments.some((d) => d.uri.toString() === copy.toString());
    if (!open) {
      const bundled = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'samples', SAMPLE_FILE);
      await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(storage, 'sample'));
      await vscode.workspace.fs.writeFile(copy, await vscode.workspace.fs.readFile(bundled));
    }
    return copy;
  }

  /** Step 1: the sample in a text editor, beside the walkthrough when that is in front. */
  async openSample(): Promise<vscode.TextEditor> {
    const uri = await this.sampleUri();
    const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const doc = shown?.document ?? (await vscode.workspace.openTextDocument(uri));
    const column = shown?.viewColumn ?? (vscode.window.activeTextEditor ? vscode.ViewColumn.Active : vscode.ViewColumn.Beside);
    return vscode.window.showTextDocument(doc, { viewColumn: column, preview: false, preserveFocus: false });
  }

  /** Step 2: Inspect, on the sample. */
  async inspect(): Promise<vscode.TextEditor> {
    const editor = await this.openSample();
    if (!this.inspected(editor)) await vscode.commands.executeCommand('attentionLens.inspect');
    return editor;
  }

  /** Step 3: Compare Softmax | SSMax in an editor tab. */
  async compare(): Promise<void> {
    const editor = await this.inspect();
    if (!this.inspected(editor)) return; // the inspection failed or was cancelled: its own message says so
    await vscode.commands.executeCommand('attentionLens.compare');
  }

  /** Step 4: the needle of a name defined near the top, from a bare cursor on it. */
  async needle(): Promise<void> {
    const editor = await this.inspect();
    if (!this.inspected(editor)) return;
    const text = editor.document.getText();
    const at = definitionOffset(text);
    const pos = editor.document.positionAt(at);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    await vscode.commands.executeCommand('attentionLens.needle');
  }

  private inspected(editor: vscode.TextEditor): boolean {
    const shown = this.ctx.documents.get(editor.document.uri);
    return shown !== undefined && shown.version === editor.document.version;
  }
}

/** Where NEEDLE_NAME is defined (`NAME =` at a line start); else the first top-level constant; else 0. */
function definitionOffset(text: string): number {
  const named = new RegExp(`^${NEEDLE_NAME}\\s*=`, 'm').exec(text);
  if (named) return named.index;
  const constant = /^[A-Z][A-Z0-9_]*\s*=/m.exec(text);
  return constant ? constant.index : 0;
}
