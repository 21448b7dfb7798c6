// Export of the current inspection: JSON (the CLI's schema), a self-contained HTML report, or a
// PNG heatmap of one head, written where the save dialog says.
import * as vscode from 'vscode';
import { toInspectJson } from '../core/export-json';
import { renderHtmlReport } from '../core/export-html';
import { renderHeatmapPng } from '../core/export-png';
import type { Inspection } from '../core/inspection-types';
import type { HeadSelection } from '../shared/vocabulary';

export const EXPORT_FORMATS = ['json', 'html', 'png'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(v: unknown): v is ExportFormat {
  return typeof v === 'string' && (EXPORT_FORMATS as readonly string[]).includes(v);
}

const PNG_PX = 1024;

/** The head a single-head export draws: the selected one, else the most focused head. */
export function exportHead(insp: Inspection, sel: HeadSelection): { layer: number; head: number } {
  if (sel.kind === 'head') return sel;
  const best = insp.heads.reduce((a, b) => (b.meanFocus > a.meanFocus ? b : a));
  return { layer: best.layer, head: best.head };
}

export function exportBytes(insp: Inspection, sel: HeadSelection, format: ExportFormat, title: string): Uint8Array {
  const { layer, head } = exportHead(insp, sel);
  switch (format) {
    case 'json':
      return Buffer.from(JSON.stringify(toInspectJson(insp)));
    case 'html':
      return Buffer.from(renderHtmlReport(insp, sel.kind === 'head' ? { title, layer, head } : { title }), 'utf8');
    case 'png':
      return renderHeatmapPng(insp, layer, head, PNG_PX);
  }
}

/** Suggested file name next to the document (or in the home folder for untitled ones). */
export function defaultExportUri(doc: vscode.Uri, insp: Inspection, sel: HeadSelection, format: ExportFormat): vscode.Uri {
  const base = doc.path.split('/').pop() || 'untitled';
  const { layer, head } = exportHead(insp, sel);
  const suffix = format === 'png' ? `-L${layer + 1}H${head + 1}` : '';
  const name = `${base}.attention-${insp.mode}${suffix}.${format}`;
  if (doc.scheme === 'file') return vscode.Uri.joinPath(doc, '..', name);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, name) : vscode.Uri.file(name);
}
