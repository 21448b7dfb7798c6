// The plain snapshot the integration tests read through the extension's API (returned by
// activate() only when the probe is on), so that they assert on decorations, status and errors
// without reaching into internals.
import * as vscode from 'vscode';
import type { ShownMessage } from '../protocol';
import type { Mode } from '../shared/vocabulary';
import type { ExtensionRoot } from './extension-root';
import type { Metrics, RecordingProbe } from './probe';

export interface StateSnapshot {
  mode: Mode;
  /** 1-based, null for an aggregate. */
  layer: number | null;
  /** 1-based head, or the aggregate's name. */
  head: number | 'mean' | 'max';
  followCursor: boolean;
  liveMode: boolean;
  busy: boolean;
  statusText: string;
  statusTooltip: string;
  /** Ranges decorated per strength bucket (weakest first) in the editor updated last; null before any update. */
  decorations: { uri: string; buckets: number[]; query: number } | null;
  /** The active editor's inspection, else null. */
  inspection: { uri: string; version: number; mode: Mode; tokens: number; documentTokens: number; windowed: boolean; range: { start: number; end: number } } | null;
  inspectedUris: string[];
  lastError: string | null;
  modelDir: string;
  modelId: string | null;
  /** The modes the mode switch offers. */
  modes: string[];
  customModelIgnored: boolean;
  /** The "custom model ignored" warning was shown. */
  customModelNoticeShown: boolean;
  panelReady: boolean;
  /** The editor-tab page said ready. */
  editorPanelReady: boolean;
  /** What each page (bottom panel, editor tab) last reported it draws. */
  shown: { panel: ShownMessage | null; editor: ShownMessage | null };
  /** Compare's pair of modes while on. */
  compare: Mode[] | null;
  metrics: Metrics;
  ranges?: { buckets: [number, number][][]; query: [number, number][] };
}

/** What activate() returns when the probe is on. */
export interface TestApi {
  /** With ranges: every decorated range of the last updated editor, as [start, end) document offsets per bucket. */
  state(ranges: boolean): StateSnapshot;
}

export function stateSnapshot(ctx: ExtensionRoot, probe: RecordingProbe, wantRanges: boolean): StateSnapshot {
  const sel = ctx.selection;
  const editor = vscode.window.activeTextEditor;
  const doc = editor ? ctx.documents.get(editor.document.uri) : undefined;
  const last = probe.lastDecorations;
  return {
    ranges: wantRanges && last ? { buckets: last.buckets, query: last.query } : undefined,
    mode: ctx.view.mode,
    layer: sel.kind === 'head' ? sel.layer + 1 : null,
    head: sel.kind === 'head' ? sel.head + 1 : sel.how,
    followCursor: ctx.config.followCursor,
    liveMode: ctx.config.liveMode,
    busy: ctx.documents.busy,
    statusText: ctx.status.text,
    statusTooltip: ctx.status.tooltipText,
    decorations: last ? { uri: last.uri, buckets: last.buckets.map((b) => b.length), query: last.query.length } : null,
    inspection: doc
      ? {
          uri: doc.uri,
          version: doc.version,
          mode: doc.inspection.mode,
          tokens: doc.inspection.tokens.length,
          documentTokens: doc.inspection.documentTokens,
          windowed: doc.inspection.windowed,
          range: { ...doc.inspection.range },
        }
      : null,
    inspectedUris: ctx.documents.all().map((d) => d.uri),
    lastError: ctx.lastError ?? null,
    modelDir: ctx.models.modelDir,
    modelId: ctx.models.current?.model.id ?? null,
    modes: [...ctx.modes],
    customModelIgnored: ctx.models.customModelIgnored,
    customModelNoticeShown: ctx.models.ignoredNoticeShown,
    panelReady: ctx.panel.ready('panel'),
    editorPanelReady: ctx.panel.ready('editor'),
    shown: { panel: ctx.panel.shownBy.get('panel') ?? null, editor: ctx.panel.shownBy.get('editor') ?? null },
    compare: ctx.view.compare ?? null,
    metrics: { ...probe.metrics },
  };
}
