// The model commands: Open Model Folder (a model folder as it is, or a Hugging Face folder converted
// first), Open Model from Hugging Face Cache and Manage Converted Models. Conversions go to the
// extension's global storage, one folder per checkpoint and converter version (model-store.ts), so
// opening the same checkpoint again is instant. A custom model is used only in a trusted workspace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { convertInWorker } from '../core/convert/convert-in-worker';
import type { ConvertedModel } from '../core/convert/model-store';
import { convertedDir, convertedModel, deleteConverted, hubCacheLocations, isHfFolder, listConverted, listHubSnapshots } from '../core/convert/model-store';
import { readManifest } from '../core/model/manifest';
import type { ExtensionRoot } from './extension-root';
import { showTrustWarning } from './model-loader';
import { convertedItems, noSnapshotsMessage, progressMessage, sizeOnDisk, snapshotItems } from './model-picks';

/** What the model commands use of the extension. */
type ModelServices = Pick<ExtensionRoot, 'extension' | 'config' | 'models' | 'log' | 'probe'>;

type ManageAction = 'open' | 'delete';

export class ModelFolders {
  /** Conversions run in this session (the probe's count, for the integration tests). */
  private conversions = 0;
  /** Conversions under way by their target folder: opening the same checkpoint again joins the one running. */
  private readonly inFlight = new Map<string, Promise<string | undefined>>();

  constructor(private readonly ctx: ModelServices) {}

  /** Where converted models are kept. */
  get cacheRoot(): string {
    return path.join(this.ctx.extension.globalStorageUri.fsPath, 'converted-models');
  }

  /** Open Model Folder: the argument (scripts and tests) or a folder picker. Resolves to the model folder now in use. */
  async openFolder(arg: unknown): Promise<string | undefined> {
    if (!this.trusted()) return undefined;
    const folder =
      typeof arg === 'string' && arg !== ''
        ? arg
        : (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Attention Lens: Open Model Folder', openLabel: 'Use Model' }))?.[0]?.fsPath;
    if (folder === undefined) return undefined;
    if (!isHfFolder(folder)) return this.use(folder, folder);
    const dir = await this.converted(folder, path.basename(folder));
    return dir && this.use(dir, folder);
  }

  /** Open Model from Hugging Face Cache: a picker of the cache's snapshots, or the model id given as the argument (scripts and tests). */
  async openFromHfCache(arg: unknown): Promise<string | undefined> {
    if (!this.trusted()) return undefined;
    const snapshots = listHubSnapshots(process.env);
    if (snapshots.length === 0) {
      // Not awaited: a notification with a button stays until dismissed.
      void vscode.window.showInformationMessage(noSnapshotsMessage(hubCacheLocations(process.env)), 'Open Model Folder...').then((pick) => {
        if (pick) void vscode.commands.executeCommand('attentionLens.openModelFolder');
      });
      return undefined;
    }
    let snapshot = snapshots.find((s) => s.modelId === arg);
    if (typeof arg === 'string' && !snapshot) throw new Error(`${arg} is not in the Hugging Face cache (${hubCacheLocations(process.env).join(', ')})`);
    snapshot ??= (
      await vscode.window.showQuickPick(snapshotItems(snapshots), {
        title: 'Attention Lens: Open Model from Hugging Face Cache',
        placeHolder: 'A model to convert (once) and open',
        matchOnDescription: true,
        matchOnDetail: true,
      })
    )?.snapshot;
    if (!snapshot) return undefined;
    if (snapshot.unsupported !== null) {
      void vscode.window.showErrorMessage(`Attention Lens: ${snapshot.modelId} cannot be opened: ${snapshot.unsupported}`);
      return undefined;
    }
    const name = snapshot.modelId.split('/').pop() ?? snapshot.modelId;
    const dir = await this.converted(snapshot.dir, snapshot.modelId, name);
    return dir && this.use(dir, `${snapshot.modelId} (Hugging Face cache)`);
  }

  /** Manage Converted Models: pick one, then Open or Delete; the argument { dir, action } (scripts and tests) skips both pickers and the confirmation. */
  async manage(arg: unknown): Promise<void> {
    const models = listConverted(this.cacheRoot);
    const given = typeof arg === 'object' && arg !== null ? (arg as { dir?: unknown; action?: unknown }) : undefined;
    let model: ConvertedModel | undefined;
    let action: ManageAction | undefined;
    if (given) {
      model = models.find((m) => typeof given.dir === 'string' && path.resolve(m.dir) === path.resolve(given.dir));
      if (!model) throw new Error(`${String(given.dir)} is not a converted model in ${this.cacheRoot}`);
      action = given.action === 'open' || given.action === 'delete' ? given.action : undefined;
    } else {
      if (models.length === 0) {
        void vscode.window.showInformationMessage(`Attention Lens: no converted models in ${this.cacheRoot} yet; Open Model Folder... or Open Model from Hugging Face Cache... converts one.`);
        return;
      }
      model = (
        await vscode.window.showQuickPick(convertedItems(models, (dir) => this.inUse(dir)), {
          title: 'Attention Lens: Manage Converted Models',
          matchOnDescription: true,
          matchOnDetail: true,
        })
      )?.model;
      if (!model) return;
      const actions: (vscode.QuickPickItem & { action: ManageAction })[] = [
        { label: 'Open', detail: 'use this model', action: 'open' },
        { label: 'Delete', detail: `remove its folder (${sizeOnDisk(model.bytes)})`, action: 'delete' },
      ];
      action = (await vscode.window.showQuickPick(actions, { title: `Attention Lens: ${model.id}` }))?.action;
      if (action === 'delete') {
        const sure = await vscode.window.showWarningMessage(
          `Delete the converted model ${model.id}?`,
          { modal: true, detail: `${model.dir} (${sizeOnDisk(model.bytes)}) is removed; opening ${model.source || 'its checkpoint'} again converts it again.` },
          'Delete',
        );
        if (sure !== 'Delete') return;
      }
    }
    if (action === 'open') {
      if (this.trusted()) await this.use(model.dir, model.source || model.dir);
    } else if (action === 'delete') {
      await this.delete(model);
    }
  }

  private async delete(model: ConvertedModel): Promise<void> {
    const wasInUse = this.inUse(model.dir);
    // Clearing the setting first drops the model scope, so no new run opens the folder being removed.
    if (wasInUse) await this.ctx.config.setModelPath(undefined);
    deleteConverted(this.cacheRoot, model.dir);
    this.ctx.log.info(`deleted the converted model ${model.dir}`);
    void vscode.window.showInformationMessage(
      wasInUse
        ? `Attention Lens: deleted ${model.id}, the model in use; back to the shipped model (attentionLens.modelPath cleared).`
        : `Attention Lens: deleted ${model.id} (${sizeOnDisk(model.bytes)}).`,
    );
  }

  /** The converted folder of a Hugging Face folder: converted now, with progress and Cancel, unless it already is. Undefined when cancelled. */
  private async converted(hfDir: string, label: string, id?: string): Promise<string | undefined> {
    const ready = convertedDir(hfDir, this.cacheRoot);
    if (fs.existsSync(path.join(ready, 'models.json'))) return ready;
    const running = this.inFlight.get(ready);
    if (running) return running;
    const conversion = this.convert(hfDir, label, id).finally(() => this.inFlight.delete(ready));
    this.inFlight.set(ready, conversion);
    return conversion;
  }

  private async convert(hfDir: string, label: string, id: string | undefined): Promise<string | undefined> {
    const options = { location: vscode.ProgressLocation.Notification, title: `Attention Lens: converting ${label}`, cancellable: true };
    return await vscode.window.withProgress(options, async (progress, token) => {
      const abort = new AbortController();
      const cancel = token.onCancellationRequested(() => abort.abort());
      let percent = 0;
      let reports = 0;
      this.ctx.probe.record({ conversions: ++this.conversions, conversionReports: 0 });
      try {
        // In a worker thread: the conversion's file work would otherwise hold the extension host.
        const { dir, converted } = await convertedModel(hfDir, this.cacheRoot, {
          attentionGraphs: this.ctx.models.shippedDir,
          id,
          signal: abort.signal,
          onProgress: (p) => {
            const now = (100 * p.bytes) / Math.max(1, p.bytesTotal);
            progress.report({ message: progressMessage(p), increment: now - percent });
            percent = now;
            this.ctx.probe.record({ conversionReports: ++reports });
          },
        }, convertInWorker);
        if (converted) this.ctx.log.info(`converted ${hfDir} (${converted.modelType}, ${converted.parameters.toLocaleString('en-US')} parameters) into ${dir} in ${converted.seconds.toFixed(1)} s`);
        return dir;
      } catch (err) {
        // The converter removes its partial folder itself; a cancel is the user's choice, not an error.
        if (!abort.signal.aborted) throw err;
        this.ctx.log.info(`conversion of ${hfDir} cancelled; nothing was kept`);
        return undefined;
      } finally {
        cancel.dispose();
      }
    });
  }

  /** Sets attentionLens.modelPath after reading the manifest, so that a broken folder is reported now, naming its file. */
  private async use(dir: string, from: string): Promise<string> {
    const { info } = readManifest(dir);
    await this.ctx.config.setModelPath(dir);
    void vscode.window.showInformationMessage(`Attention Lens: using model ${info.id} (${info.layers} layers x ${info.heads} heads) from ${from}.`);
    return dir;
  }

  private inUse(dir: string): boolean {
    const configured = this.ctx.config.modelPath;
    return configured !== '' && path.resolve(configured) === path.resolve(dir);
  }

  private trusted(): boolean {
    if (vscode.workspace.isTrusted) return true;
    showTrustWarning('Attention Lens: a custom model is used only in a trusted workspace (attentionLens.modelPath is ignored here). Trust the workspace first.');
    return false;
  }
}
