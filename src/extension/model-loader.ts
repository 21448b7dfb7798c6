// Owns the model scope: which model folder is used (the shipped one, or a custom one only in a
// trusted workspace), the model runner opened lazily on first use, and its disposal when the model
// setting or the workspace trust changes.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ModelRunner } from '../core/engine/runner';
import { readManifest } from '../core/model/manifest';
import type { Config } from './config';

export class ModelLoader implements vscode.Disposable {
  private opening: Promise<ModelRunner> | undefined;
  private runner: ModelRunner | undefined;
  private noticeShown = false;
  private shipped: number | undefined;

  /** True once the user was told that the custom model is ignored (once per model scope). */
  get ignoredNoticeShown(): boolean {
    return this.noticeShown;
  }
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the model scope was reset: every cached inspection belongs to the old model. */
  readonly onDidReset = this.changed.event;

  constructor(
    private readonly extensionPath: string,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** True when a custom model is configured but ignored because the workspace is not trusted. */
  get customModelIgnored(): boolean {
    return this.config.modelPath !== '' && !vscode.workspace.isTrusted;
  }

  /** True when the custom model of attentionLens.modelPath is in use. */
  get custom(): boolean {
    return this.config.modelPath !== '' && vscode.workspace.isTrusted;
  }

  get modelDir(): string {
    return this.custom ? this.config.modelPath : this.shippedDir;
  }

  /** The shipped model, and the attention graphs every converted model copies. */
  get shippedDir(): string {
    return path.join(this.extensionPath, 'models');
  }

  /** The shipped model's parameters (its models.json), the yardstick of the large-model warning; read once. */
  get shippedParameters(): number {
    this.shipped ??= readManifest(this.shippedDir).info.parameters;
    return this.shipped;
  }

  /** The runner when already open (hovers must not start a model load). */
  get current(): ModelRunner | undefined {
    return this.runner;
  }

  get(): Promise<ModelRunner> {
    if (!this.opening) {
      if (this.customModelIgnored) this.showIgnoredNotice();
      const dir = this.modelDir;
      const started = performance.now();
      this.log.info(`loading model from ${dir}`);
      const opening = ModelRunner.open(dir, (line) => this.log.debug(line), { memoryBudgetBytes: this.config.memoryBudgetBytes }).then((runner) => {
        if (this.opening !== opening) {
          void runner.dispose();
          throw new Error('the model setting changed while the model was loading');
        }
        this.runner = runner;
        this.log.info(`model ${runner.model.id} ready in ${(performance.now() - started).toFixed(0)} ms (modes: ${runner.modes.join(', ')})`);
        return runner;
      });
      // A failed load is retried on next use (the user may fix the files).
      opening.catch(() => {
        if (this.opening === opening) this.opening = undefined;
      });
      this.opening = opening;
    }
    return this.opening;
  }

  /** Drops the runner; the next use opens the model again from the (possibly new) folder. */
  async reset(reason: string): Promise<void> {
    this.log.info(`model scope reset: ${reason}`);
    const runner = this.runner;
    this.runner = undefined;
    this.opening = undefined;
    this.noticeShown = false;
    this.changed.fire();
    await runner?.dispose();
  }

  private showIgnoredNotice(): void {
    if (this.noticeShown) return;
    this.noticeShown = true;
    const msg = `Attention Lens: the custom model in "attentionLens.modelPath" is ignored because this workspace is not trusted; using the shipped model.`;
    this.log.warn(msg);
    showTrustWarning(msg);
  }

  dispose(): void {
    void this.runner?.dispose();
    this.runner = undefined;
    this.opening = undefined;
    this.changed.dispose();
  }
}

/** A warning about workspace trust, with the button that manages it. */
export function showTrustWarning(message: string): void {
  void vscode.window.showWarningMessage(message, 'Manage Workspace Trust').then((pick) => {
    if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
  });
}
