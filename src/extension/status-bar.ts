// Status bar entry: "SSMax · L2 H3", with the model's id when it is a custom one; a spinner while inspecting; an error state with the reason
// in the tooltip; the tooltip says when the shown run was incremental. A click opens the mode switch.
import * as vscode from 'vscode';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { MODE_SHORT, selectionLabel } from '../shared/vocabulary';

export interface StatusView {
  mode: Mode;
  selection: HeadSelection;
  busy: boolean;
  error: string | undefined;
  followCursor: boolean;
  liveMode: boolean;
  windowNote: string | undefined;
  /** "incremental: … tokens reused" when the shown run resumed from the previous one. */
  runNote: string | undefined;
  /** Modes of the active inspection still running in the background (for hovers, Compare, the needle). */
  background: string[];
  /** What the overlay's colours mean for the active document (color-legend.ts); empty without one. */
  legend: string[];
  /** Under screening, which keys are outlined as passing for the cursor token (passing-keys.ts). */
  passingKeys: string | undefined;
  /** The loaded model; a custom one is named in the text, any in the tooltip. */
  model: { id: string; custom: boolean } | undefined;
}

export class StatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('attentionLens.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'Attention Lens';
    this.item.command = 'attentionLens.switchAttention';
  }

  render(view: StatusView): void {
    const label = `${MODE_SHORT[view.mode]} · ${selectionLabel(view.selection)}${view.model?.custom ? ` · ${view.model.id}` : ''}`;
    const flags = [view.followCursor ? 'following the cursor' : '', view.liveMode ? 'live mode' : ''].filter((f) => f !== '');
    if (view.busy) {
      this.item.text = `$(sync~spin) ${label}`;
      this.item.tooltip = 'Attention Lens: inspecting…';
      this.item.backgroundColor = undefined;
    } else if (view.error !== undefined) {
      this.item.text = `$(error) ${label}`;
      this.item.tooltip = `Attention Lens failed: ${view.error}`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else {
      this.item.text = `$(eye) ${label}`;
      const lines = [`Attention Lens: ${label}`, ...(view.model ? [`model ${view.model.id}`] : []), ...(flags.length ? [flags.join(', ')] : []), ...(view.windowNote ? [view.windowNote] : []), ...(view.runNote ? [view.runNote] : []), ...(view.background.length ? [`${view.background.join(', ')}: computing in the background`] : []), ...view.legend, ...(view.passingKeys ? [`Cursor token: ${view.passingKeys}`] : []), 'Click to switch attention'];
      this.item.tooltip = lines.join('\n');
      this.item.backgroundColor = undefined;
    }
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
