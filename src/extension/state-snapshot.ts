// The plain snapshot returned by the test-only command `attentionLens._state`, so that
// integration tests can assert on decorations, status and errors without reaching into internals.
import * as vscode from 'vscode';
import type { Mode } from '../shared/vocabulary';
import type { Ctx, Metrics } from './ctx';

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
  customModelIgnored: boolean;
  /** The "custom model ignored" warning was shown. */
  customModelNoticeShown: boolean;
  panelReady: boolean;
  metrics: Metrics;
  ranges?: { buckets: [number, number][][]; query: [number, number][] };
}

/** With { ranges: true }: every decorated range of the last updated editor, as [start, end) document offsets per bucket. */
export function stateSnapshot(ctx: Ctx, arg: unknown): StateSnapshot {
  const sel = ctx.selection;
  const editor = vscode.window.activeTextEditor;
  const doc = editor ? ctx.inspector.get(editor.document.uri) : undefined;
  const counts = ctx.overlay.counts;
  const wantRanges = typeof arg === 'object' && arg !== null && (arg as { ranges?: unknown }).ranges === true;
  return {
    ranges: wantRanges ? ctx.overlay.lastRanges() : undefined,
    mode: ctx.config.mode,
    layer: sel.kind === 'head' ? sel.layer + 1 : null,
    head: sel.kind === 'head' ? sel.head + 1 : sel.how,
    followCursor: ctx.config.followCursor,
    liveMode: ctx.config.liveMode,
    busy: ctx.inspector.busy,
    statusText: ctx.status.text,
    statusTooltip: ctx.status.tooltipText,
    decorations: counts ? { uri: counts.uri, buckets: [...counts.buckets], query: counts.query } : null,
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
    inspectedUris: ctx.inspector.all().map((d) => d.uri),
    lastError: ctx.lastError ?? null,
    modelDir: ctx.models.modelDir,
    modelId: ctx.models.current?.model.id ?? null,
    customModelIgnored: ctx.models.customModelIgnored,
    customModelNoticeShown: ctx.models.ignoredNoticeShown,
    panelReady: ctx.panel.isReady,
    metrics: { ...ctx.metrics, hoverMs: ctx.hover.hoverMs },
  };
}
