// What is shown now: the mode, the head selection and Compare's pair of modes. One owner; a change
// is one step with one event, so no part ever shows a new layer with an old head. Settings hold
// the defaults: the view starts from them and follows when the user edits them; commands and
// panel clicks change the view only, and Save View as Default writes it back on request.
import * as vscode from 'vscode';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { sameSelection } from '../shared/vocabulary';
import type { Config } from './config';

export interface View {
  mode: Mode;
  /** As chosen; clamped to the loaded model's shape where the model is known. */
  selection: HeadSelection;
  /** Compare's pair of modes while it is on. */
  compare: [Mode, Mode] | undefined;
}

/** Which parts of the view one change touched. */
export interface ViewChange {
  mode: boolean;
  selection: boolean;
  compare: boolean;
}

export class ViewState implements vscode.Disposable {
  private view: View;
  private readonly changed = new vscode.EventEmitter<ViewChange>();
  readonly onDidChange = this.changed.event;
  /** Settings events while Save View as Default writes are echoes of the view itself. */
  private saving = 0;

  constructor(private readonly config: Config) {
    this.view = { mode: config.mode, selection: config.selection, compare: undefined };
  }

  get mode(): Mode {
    return this.view.mode;
  }

  get selection(): HeadSelection {
    return this.view.selection;
  }

  get compare(): [Mode, Mode] | undefined {
    return this.view.compare;
  }

  /** Changes any parts of the view at once; one event when anything changed, which it returns. */
  set(next: Partial<View>): ViewChange {
    const change: ViewChange = {
      mode: next.mode !== undefined && next.mode !== this.view.mode,
      selection: next.selection !== undefined && !sameSelection(next.selection, this.view.selection),
      compare: 'compare' in next && !samePair(next.compare, this.view.compare),
    };
    if (!change.mode && !change.selection && !change.compare) return change;
    this.view = {
      mode: change.mode && next.mode ? next.mode : this.view.mode,
      selection: change.selection && next.selection ? next.selection : this.view.selection,
      compare: change.compare ? next.compare : this.view.compare,
    };
    this.changed.fire(change);
    return change;
  }

  /** The user edited settings: the view takes the defaults that changed. */
  onSettings(e: vscode.ConfigurationChangeEvent): void {
    if (this.saving > 0) return;
    const { mode, selection } = this.config.viewDefaultsChanged(e);
    if (mode || selection) this.set({ ...(mode ? { mode: this.config.mode } : {}), ...(selection ? { selection: this.config.selection } : {}) });
  }

  /** Writes the view's mode and selection as the settings' defaults. */
  async saveAsDefault(): Promise<void> {
    this.saving++;
    try {
      await this.config.setMode(this.view.mode);
      await this.config.setSelection(this.view.selection);
    } finally {
      this.saving--;
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function samePair(a: [Mode, Mode] | undefined, b: [Mode, Mode] | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a[0] === b[0] && a[1] === b[1]);
}
