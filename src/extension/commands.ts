// Every command of the extension: palette commands (category "Attention Lens") and the hover's
// reveal link. Each handler gets the services it uses, and reports its own errors once.
import * as vscode from 'vscode';
import type { ExportFormat } from '../core/export/formats';
import { EXPORT_FORMATS, exportInspection, isExportFormat } from '../core/export/formats';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { allSelections, isMode, isRelevance, modeOfSetting, sameSelection, selectionLabel } from '../shared/vocabulary';
import { roleOf } from '../core/reading/selection';
import { tileParamsText, tilePassShare } from '../core/reading/relevance';
import { modeItems } from './model-picks';
import type { ExtensionRoot } from './extension-root';
import type { Config } from './config';
import { clampSelection } from '../shared/vocabulary';
import type { InspectedDocuments } from './inspected-documents';
import type { ModelLoader } from './model-loader';
import type { ViewState } from './view-state';
import { defaultExportUri } from './export-target';
import { REVEAL_COMMAND } from './hover';
import { fileName } from './inspected-documents';
import { ModelFolders } from './model-folders';
import { needleCommand } from './needle-command';
import type { PanelController } from './panel-controller';
import { PANEL_VIEW_ID } from './panel';

const FORMAT_LABELS: Record<ExportFormat, { label: string; detail: string; filter: string }> = {
  json: { label: 'JSON', detail: 'every per-head array, the CLI schema attention-lens/inspect@1', filter: 'JSON' },
  html: { label: 'HTML report', detail: 'a self-contained page: token overlay, heatmap, head table', filter: 'HTML' },
  png: { label: 'PNG heatmap', detail: 'the pooled attention map of the selected head or aggregate', filter: 'PNG image' },
  svg: { label: 'SVG figure', detail: 'map, difference map under Compare, focus curves and the needle, as editable vector graphics', filter: 'SVG image' },
};

export function registerCommands(root: ExtensionRoot): vscode.Disposable[] {
  const { view, config, documents, models, panel } = root;
  const folders = new ModelFolders(root);
  const command = <A extends unknown[], R>(id: string, what: string, run: (...args: A) => Promise<R>): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: A): Promise<R | undefined> => {
      try {
        return await run(...args);
      } catch (err) {
        root.reportError(what, err);
        return undefined;
      }
    });

  return [
    command('attentionLens.inspect', 'inspection', async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) {
        void vscode.window.showInformationMessage('Attention Lens: open a file (or an untitled editor) to inspect it.');
        return;
      }
      await root.inspect(editor.document, 'notification', editor.document.offsetAt(editor.selection.active));
    }),

    command('attentionLens.switchAttention', 'switching attention', async (arg?: unknown) => {
      // A keybinding's argument is user configuration too: an old mode name still works.
      const mode = modeOfSetting(arg) ?? (await pickMode(view, models));
      if (mode) view.set({ mode });
    }),

    command('attentionLens.selectHead', 'selecting a head', async (arg?: unknown) => {
      const selection = selectionArg(arg) ?? (await pickHead(models, documents, view.mode, root.selection));
      if (selection) view.set({ selection });
    }),

    command('attentionLens.saveViewAsDefault', 'saving the view as default', async () => {
      await view.saveAsDefault();
    }),

    command('attentionLens.showPanel', 'opening the panel', async () => {
      await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`);
    }),

    command('attentionLens.openInEditor', 'opening the attention view', async () => panel.openInEditor()),

    command('attentionLens.compare', 'comparing modes', async (arg?: unknown) => {
      // Argument (scripts, tests): false turns Compare off, a pair of modes picks them.
      const modes = Array.isArray(arg) && arg.length === 2 && arg.every(isMode) ? (arg as [Mode, Mode]) : undefined;
      const on = arg !== false;
      panel.setCompare({ on, modes });
      if (on && !panel.isShownAnywhere) panel.openInEditor();
      return view.compare;
    }),

    command('attentionLens.needle', 'computing the needle', async () => needleCommand(root)),

    command('attentionLens.toggleFollowCursor', 'toggling Follow Cursor', async (arg?: unknown) => {
      await config.setFlag('followCursor', typeof arg === 'boolean' ? arg : !config.followCursor);
    }),

    command('attentionLens.toggleLiveMode', 'toggling Live Mode', async (arg?: unknown) => {
      await config.setFlag('liveMode', typeof arg === 'boolean' ? arg : !config.liveMode);
    }),

    command('attentionLens.clear', 'clearing', async () => root.clear()),

    // The notification's Cancel, from the palette or a key binding: the shown overlay stays.
    command('attentionLens.cancel', 'cancelling the inspection', async () => {
      const doc = vscode.window.activeTextEditor?.document;
      if (doc) documents.cancel(doc.uri.toString());
    }),

    command('attentionLens.openModelFolder', 'opening a model folder', async (arg?: unknown) => folders.openFolder(arg)),

    command('attentionLens.openModelFromHfCache', 'opening a model from the Hugging Face cache', async (arg?: unknown) => folders.openFromHfCache(arg)),

    command('attentionLens.manageConvertedModels', 'managing converted models', async (arg?: unknown) => folders.manage(arg)),

    command('attentionLens.export', 'export', async (arg?: unknown) => exportCommand(documents, panel, root.selection, config, root.log, arg)),

    command(REVEAL_COMMAND, 'revealing a token', async (uri?: unknown, offset?: unknown) => {
      if (typeof uri !== 'string' || typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) return;
      await root.revealOffset(vscode.Uri.parse(uri, true), offset);
    }),
  ];
}

async function pickMode(view: ViewState, models: ModelLoader): Promise<Mode | undefined> {
  const current = view.mode;
  // The model's own modes (a converted model has no trained SSMax): loaded first if it is not yet.
  const { modes } = await models.get();
  const items = modeItems(modes, current);
  const picked = await vscode.window.showQuickPick(items, { title: 'Attention Lens: Switch Attention', placeHolder: 'Attention to show' });
  return picked?.mode;
}

type HeadItem = vscode.QuickPickItem & { selection?: HeadSelection };

async function pickHead(models: ModelLoader, documents: InspectedDocuments, mode: Mode, current: HeadSelection): Promise<HeadSelection | undefined> {
  const runner = await models.get();
  // The shown mode's shape: a screening variant has its own layers and tiles.
  const { layers, heads } = runner.modelOf(mode);
  const relevance = isRelevance(mode);
  const editor = vscode.window.activeTextEditor;
  const found = editor && documents.get(editor.document.uri);
  const shown = found?.inspection.mode === mode ? found : undefined;
  const summaries = shown?.inspection.heads ?? [];
  const mark = (sel: HeadSelection): string | undefined => (sameSelection(sel, current) ? '(current)' : undefined);
  const items: HeadItem[] = [];
  for (const selection of allSelections(layers, heads)) {
    if (selection.kind === 'aggregate') {
      const detail = relevance ? `${selection.how} over all ${layers * heads} tiles of each token's largest relevance` : `${selection.how} focus over every layer and head`;
      items.push({ label: selectionLabel(selection), description: mark(selection), detail, selection });
      continue;
    }
    const { layer, head } = selection;
    if (head === 0) items.push({ label: `Layer ${layer + 1}`, kind: vscode.QuickPickItemKind.Separator });
    const s = summaries.find((h) => h.layer === layer && h.head === head);
    let detail: string;
    if (!s || !shown) detail = relevance ? 'inspect a document to see how many keys pass' : 'inspect a document to see its focus and entropy';
    else if (relevance) {
      // Relevance: no entropy (a relevance row is no distribution) and no roles (they read weights).
      const pass = tilePassShare(shown.inspection, layer, head);
      detail = `mean largest relevance ${s.meanFocus.toFixed(3)} · ${(100 * pass).toFixed(1)} % of keys pass · ${tileParamsText(shown.inspection, layer, head)}`;
    } else {
      const role = roleOf(shown.inspection, layer, head);
      detail = `${role ? `${role.role} ${role.score.toFixed(2)} · ` : ''}mean focus ${s.meanFocus.toFixed(3)} · entropy ${s.meanEntropy.toFixed(2)} nats · distance ${s.meanDistance.toFixed(1)} tokens`;
    }
    items.push({ label: selectionLabel(selection), description: mark(selection), detail, selection });
  }
  const picked = await vscode.window.showQuickPick(items, { title: 'Attention Lens: Select Layer and Head', matchOnDetail: true });
  return picked?.selection;
}

/** Command argument for scripts and tests: "mean", "max", or { layer, head } 1-based. */
function selectionArg(arg: unknown): HeadSelection | undefined {
  if (arg === 'mean' || arg === 'max') return { kind: 'aggregate', how: arg };
  if (typeof arg !== 'object' || arg === null) return undefined;
  const { layer, head } = arg as { layer?: unknown; head?: unknown };
  if (typeof layer !== 'number' || typeof head !== 'number' || !Number.isInteger(layer) || !Number.isInteger(head) || layer < 1 || head < 1) {
    return undefined;
  }
  return { kind: 'head', layer: layer - 1, head: head - 1 };
}

/** Export; with an argument { format, path } (scripts and tests) no dialog opens. Resolves to the written path. */
async function exportCommand(documents: InspectedDocuments, panel: PanelController, shownSel: HeadSelection, config: Config, log: vscode.LogOutputChannel, arg: unknown): Promise<string | undefined> {
  const editor = vscode.window.activeTextEditor;
  const doc = (editor && documents.get(editor.document.uri)) ?? documents.all().at(-1);
  if (!doc) {
    void vscode.window.showInformationMessage('Attention Lens: inspect a document first, then export it.');
    return undefined;
  }
  // A document not inspected again since the mode changed has the other mode's shape (6 x 4 heads, 11 x 11 tiles).
  const sel = clampSelection(shownSel, doc.inspection.model.layers, doc.inspection.model.heads);
  const given = typeof arg === 'object' && arg !== null ? (arg as { format?: unknown; path?: unknown }) : {};
  let format: ExportFormat | undefined = isExportFormat(given.format) ? given.format : undefined;
  if (!format) {
    const picked = await vscode.window.showQuickPick(
      EXPORT_FORMATS.map((f) => ({ label: FORMAT_LABELS[f].label, detail: FORMAT_LABELS[f].detail, format: f })),
      { title: 'Attention Lens: Export' },
    );
    format = picked?.format;
  }
  if (!format) return undefined;
  const docUri = vscode.Uri.parse(doc.uri);
  let target: vscode.Uri | undefined = typeof given.path === 'string' && given.path !== '' ? vscode.Uri.file(given.path) : undefined;
  target ??= await vscode.window.showSaveDialog({
    defaultUri: defaultExportUri(docUri, doc.inspection, sel, format),
    filters: { [FORMAT_LABELS[format].filter]: [format] },
    title: `Attention Lens: Export ${FORMAT_LABELS[format].label}`,
  });
  if (!target) return undefined;
  const title = fileName(docUri) || 'document';
  const started = performance.now();
  await vscode.workspace.fs.writeFile(target, exportInspection(doc.inspection, format, { selection: sel, title, scale: config.colorScale, svg: panel.figureFor(doc.inspection) }));
  log.info(`exported ${format} to ${target.fsPath} in ${(performance.now() - started).toFixed(0)} ms`);
  if (given.path === undefined) void vscode.window.showInformationMessage(`Attention Lens: exported to ${target.fsPath}`);
  return target.fsPath;
}
