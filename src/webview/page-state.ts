// The page's state and what each host message does to it, apart from drawing: main.ts keeps one
// PanelState, hands every message to `applyMessage`, and redraws the part it names. The texts the
// page writes (status line, head choices, needle caption) and what it keeps while hidden (zoom,
// selected token, scroll) are made and read here too. No DOM: unit-tested.
import type { PanelDocument, PanelNeedle, PanelRegion, PanelState } from '../protocol';
import type { Zoom } from './heatmap';
import {
  isCompareMessage,
  isCursorMessage,
  isDocumentMessage,
  isFadingMessage,
  isHeadMessage,
  isNeedleMessage,
  isRegionMessage,
  isStateMessage,
  isStatusMessage,
} from '../protocol';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { fadingModes } from '../shared/compare';
import { MODE_LABELS, allSelections, selectionLabel } from '../shared/vocabulary';

/** What a message changed, so what to redraw; 'invalid': the message was not one the page knows. */
export type Redraw =
  | { part: 'all' | 'document' | 'head' | 'fading' | 'compare' | 'needle' | 'status' | 'none' | 'invalid' }
  | { part: 'cursor'; token: number }
  | { part: 'region'; region: PanelRegion };

/**
 * Applies a host message to the state (in place; a full state replaces it). Messages about a
 * document other than the shown one change nothing; so does anything before the first full state.
 */
export function applyMessage(state: PanelState | undefined, m: unknown): { state: PanelState | undefined; redraw: Redraw } {
  if (isStateMessage(m)) return { state: m.state, redraw: { part: 'all' } };
  const none = { state, redraw: { part: 'none' } } as const;
  if (!state) return none;
  const shown = state.document?.id;
  if (isDocumentMessage(m)) {
    state.document = m.document;
    state.head = m.head;
    state.mode = m.mode;
    state.fading = [];
    if (state.needle && state.needle.documentId !== m.document?.id) state.needle = undefined;
    if (state.compare && state.compare.documentId !== m.document?.id) state.compare = { ...state.compare, heads: undefined };
    return { state, redraw: { part: 'document' } };
  }
  if (isHeadMessage(m)) {
    state.selection = m.selection;
    if (shown !== undefined && m.head.documentId === shown) state.head = m.head;
    return { state, redraw: { part: 'head' } };
  }
  if (isCursorMessage(m)) {
    if (m.documentId !== shown) return none;
    state.cursorToken = m.token;
    return { state, redraw: { part: 'cursor', token: m.token } };
  }
  if (isFadingMessage(m)) {
    if (m.documentId !== shown) return none;
    state.fading = m.fading;
    return { state, redraw: { part: 'fading' } };
  }
  if (isCompareMessage(m)) {
    if (m.compare && m.compare.documentId !== shown) return none;
    state.compare = m.compare;
    return { state, redraw: { part: 'compare' } };
  }
  if (isNeedleMessage(m)) {
    if (m.needle && m.needle.documentId !== shown) return none;
    state.needle = m.needle;
    return { state, redraw: { part: 'needle' } };
  }
  if (isRegionMessage(m)) return m.region.documentId === shown ? { state, redraw: { part: 'region', region: m.region } } : none;
  if (isStatusMessage(m)) {
    state.busy = m.busy;
    state.error = m.error;
    state.followCursor = m.followCursor;
    return { state, redraw: { part: 'status' } };
  }
  return { state, redraw: { part: 'invalid' } };
}

/** The line above the views: the document, its mode and size, and what is going on. */
export function statusText(state: PanelState): string {
  const doc = state.document;
  const parts = doc
    ? [`${doc.label} · ${MODE_LABELS[doc.mode]} · ${doc.texts.length} tokens${doc.windowed ? ` (window of ${doc.documentTokensEstimated ? 'about ' : ''}${doc.documentTokens})` : ''}`]
    : ['Run "Attention Lens: Inspect Current Document" to fill this panel.'];
  if (state.busy) parts.push('inspecting…');
  if (state.error) parts.push(`error: ${state.error}`);
  if (state.followCursor) parts.push('following the cursor');
  return parts.join(' · ');
}

/** The head dropdown's choices (each head with its role on this document; screening's tiles have none) and the selected one's value. */
export function headChoices(doc: PanelDocument | undefined, selection: HeadSelection): { choices: { value: string; label: string }[]; value: string } {
  const choices = allSelections(doc?.layers ?? 0, doc?.heads ?? 0).map((sel) => {
    const role = sel.kind === 'head' && doc?.roles.length ? ` · ${doc.roles[sel.layer * doc.heads + sel.head]}` : '';
    return { value: selectionValue(sel), label: `${selectionLabel(sel)}${role}` };
  });
  return { choices, value: selectionValue(selection) };
}

/** A selection as a dropdown value: keys in a fixed order, so that equal selections give equal values. */
export function selectionValue(sel: HeadSelection): string {
  return JSON.stringify(sel.kind === 'head' ? { kind: 'head', layer: sel.layer, head: sel.head } : { kind: 'aggregate', how: sel.how });
}

/** The needle's caption: what reaches which tokens, how exact, and which curves are shown (`shown`, e.g. "Shown: L1 H1"). */
export function needleCaption(needle: PanelNeedle, shown: string): string {
  const exact = needle.series.every((s) => s.exact);
  return (
    `Attention from every later token to ${JSON.stringify(needle.text)} (tokens ${needle.start + 1}–${needle.end}), ` +
    `${exact ? 'exact in every mode and head' : 'from each token’s top keys: a lower bound where marked'}. ${shown}.`
  );
}

/** Whether the fading chart lacks a mode it draws: the page then asks the host once per document. */
export function fadingMissing(state: PanelState, shownMode: Mode): boolean {
  const have = new Set(state.fading.map((f) => f.mode));
  return fadingModes(state.modes, shownMode).some((m) => !have.has(m));
}

/** What survives the page being discarded while hidden. */
export interface SavedState {
  zoom?: Zoom;
  activeToken?: number;
  scrollTop?: number;
}

/** The saved state as vscode.getState() returns it, keeping only well-formed parts. */
export function readSaved(raw: unknown): SavedState {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const z = r.zoom as Record<string, unknown> | undefined;
  const zoom =
    z && ['r0', 'r1', 'c0', 'c1'].every((k) => Number.isInteger(z[k]) && (z[k] as number) >= 0) && (z.r1 as number) > (z.r0 as number) && (z.c1 as number) > (z.c0 as number)
      ? { r0: z.r0 as number, r1: z.r1 as number, c0: z.c0 as number, c1: z.c1 as number }
      : undefined;
  return {
    zoom,
    activeToken: Number.isInteger(r.activeToken) ? (r.activeToken as number) : undefined,
    scrollTop: typeof r.scrollTop === 'number' ? r.scrollTop : undefined,
  };
}
