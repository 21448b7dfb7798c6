// Typed view of the `attentionLens.*` settings. Mode, layer and head are the defaults of the view
// (ViewState); the rest apply as they change, and every part of the extension reacts to the event.
import * as vscode from 'vscode';
import type { Mode } from '../shared/vocabulary';
import { modeOfSetting } from '../shared/vocabulary';
import type { ColorScale } from '../shared/color-scale';
import { DEFAULT_COLOR_SCALE, isColorScale } from '../shared/color-scale';
import type { HeadSelection } from '../shared/vocabulary';

export const SECTION = 'attentionLens';

/** Settings that change which model is loaded: the model scope must be rebuilt. */
const MODEL_KEYS = ['modelPath', 'memoryBudgetMB'];

export class Config {
  private get raw(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  /** An old mode name (llama4-scaling) reads as its successor, so old settings keep working. */
  get mode(): Mode {
    return modeOfSetting(this.raw.get<unknown>('mode')) ?? 'softmax';
  }

  /** 0-based; clamping to the model's shape happens where the model is known. */
  get selection(): HeadSelection {
    const head = this.raw.get<unknown>('head');
    if (head === 'mean' || head === 'max') return { kind: 'aggregate', how: head };
    const layer = this.raw.get<unknown>('layer');
    return { kind: 'head', layer: positive(layer) - 1, head: positive(head) - 1 };
  }

  get followCursor(): boolean {
    return this.raw.get<boolean>('followCursor') === true;
  }

  /** Compute the shown mode's partner in the background as soon as an inspection lands. */
  get backgroundRuns(): boolean {
    return this.raw.get<boolean>('backgroundRuns') !== false;
  }

  get liveMode(): boolean {
    return this.raw.get<boolean>('liveMode') === true;
  }

  get liveDebounceMs(): number {
    const v = this.raw.get<unknown>('liveDebounceMs');
    return typeof v === 'number' && Number.isFinite(v) ? Math.min(Math.max(v, 50), 10000) : 600;
  }

  /** 0 means the runner's default (16 x the model's training context, at least 32,768 tokens). */
  get maxTokens(): number {
    const v = this.raw.get<unknown>('maxTokens');
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0;
  }

  /** Bytes one inspection may take; undefined: the runner's default (half the free memory, at most 4 GB). */
  get memoryBudgetBytes(): number | undefined {
    const v = this.raw.get<unknown>('memoryBudgetMB');
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v * 1024 * 1024 : undefined;
  }

  get colorScale(): ColorScale {
    const v = this.raw.get<unknown>('colorScale');
    return isColorScale(v) ? v : DEFAULT_COLOR_SCALE;
  }

  /** The configured custom model folder, trusted or not; see ModelLoader for the trust rule. */
  get modelPath(): string {
    const v = this.raw.get<unknown>('modelPath');
    return typeof v === 'string' ? v.trim() : '';
  }

  /** Which of the view's defaults (mode; layer and head) an event changed. */
  viewDefaultsChanged(e: vscode.ConfigurationChangeEvent): { mode: boolean; selection: boolean } {
    const affects = (k: string): boolean => e.affectsConfiguration(`${SECTION}.${k}`);
    return { mode: affects('mode'), selection: affects('layer') || affects('head') };
  }

  affectsModel(e: vscode.ConfigurationChangeEvent): boolean {
    return MODEL_KEYS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
  }

  async setMode(mode: Mode): Promise<void> {
    await this.write('mode', mode);
  }

  async setSelection(sel: HeadSelection): Promise<void> {
    if (sel.kind === 'aggregate') {
      await this.write('head', sel.how);
      return;
    }
    await this.write('layer', sel.layer + 1);
    await this.write('head', sel.head + 1);
  }

  /** attentionLens.modelPath is a machine setting: written to the user settings; undefined removes it (the shipped model). */
  async setModelPath(folder: string | undefined): Promise<void> {
    await this.raw.update('modelPath', folder, vscode.ConfigurationTarget.Global);
  }

  async setFlag(key: 'followCursor' | 'liveMode', value: boolean): Promise<void> {
    await this.write(key, value);
  }

  /** Writes where the value is currently defined, so that a workspace value is not silently shadowing the change. */
  private async write(key: string, value: unknown): Promise<void> {
    const info = this.raw.inspect(key);
    const target =
      info?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : info?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
    await this.raw.update(key, value, target);
  }
}

function positive(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1;
}
