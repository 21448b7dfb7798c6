// The plain snapshot the integration tests assert on (decorations, status, errors, what the pages
// show), read from the extension's own parts: activate() returns its root and probe when the
// harness turns the probe on.
import * as vscode from 'vscode';
import type { ShownMessage } from '../../src/protocol';
import type { Mode } from '../../src/shared/vocabulary';
import type { ExtensionRoot } from '../../src/extension/extension-root';
import type { Metrics, PassingKeysShown, RecordingProbe } from '../../src/extension/probe';

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
  inspection: {
    uri: string;
    version: number;
    mode: Mode;
    tokens: number;
    documentTokens: number;
    windowed: boolean;
    range: { start: number; end: number };
    /** Tokens the run took from the previous one (incremental); 0 for a full run. */
    reusedTokens: number;
  } | null;
  inspectedUris: string[];
  /** The active inspection's sibling runs (the other modes of its window, in the background). */
  siblings: { mode: Mode; state: string; done: number }[];
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
  /** Under screening: the keys outlined as passing for the cursor token in the editor updated last; null before any update. */
  passingKeys: PassingKeysShown | null;
}

/** With ranges: every decorated range of the last updated editor, as [start, end) document offsets per bucket. */
export function stateSnapshot(root: ExtensionRoot, probe: RecordingProbe, wantRanges: boolean): StateSnapshot {
  const sel = root.selection;
  const editor = vscode.window.activeTextEditor;
  const doc = editor ? root.documents.get(editor.document.uri) : undefined;
  const last = probe.lastDecorations;
  return {
    ranges: wantRanges && last ? { buckets: last.buckets, query: last.query } : undefined,
    mode: root.view.mode,
    layer: sel.kind === 'head' ? sel.layer + 1 : null,
    head: sel.kind === 'head' ? sel.head + 1 : sel.how,
    followCursor: root.config.followCursor,
    liveMode: root.config.liveMode,
    busy: root.documents.busy,
    statusText: root.status.item.text,
    statusTooltip: tooltipText(root.status.item.tooltip),
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
          reusedTokens: doc.inspection.reusedTokens,
        }
      : null,
    inspectedUris: root.documents.all().map((d) => d.uri),
    siblings: doc ? root.modes.flatMap((m) => root.documents.siblings.status(doc.uri, doc.inspection, m) ?? []).map(({ mode, state, done }) => ({ mode, state, done })) : [],
    lastError: root.lastError ?? null,
    modelDir: root.models.modelDir,
    modelId: root.models.current?.model.id ?? null,
    modes: [...root.modes],
    customModelIgnored: root.models.customModelIgnored,
    customModelNoticeShown: root.models.ignoredNoticeShown,
    panelReady: root.panel.ready('panel'),
    editorPanelReady: root.panel.ready('editor'),
    shown: { panel: root.panel.shownBy.get('panel') ?? null, editor: root.panel.shownBy.get('editor') ?? null },
    compare: root.view.compare ?? null,
    metrics: { ...probe.metrics },
    passingKeys: probe.lastPassingKeys ?? null,
  };
}

function tooltipText(t: string | vscode.MarkdownString | undefined): string {
  return typeof t === 'string' ? t : (t?.value ?? '');
}
