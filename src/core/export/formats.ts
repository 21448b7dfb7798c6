// The one export: an inspection under a head selection as JSON (the CLI schema), a
// self-contained HTML report, a PNG heatmap or an SVG figure. The CLI and the extension's Export command both call it.
import type { HeadSelection } from '../../shared/vocabulary';
import type { ColorScale } from '../../shared/color-scale';
import { renderHtmlReport } from './html';
import type { JsonExtras } from './json';
import { toInspectJson } from './json';
import { renderHeatmapPng } from './png';
import type { SvgFigureInput } from './svg';
import { renderSvgFigure } from './svg';
import type { Inspection } from '../inspection-types';

export const EXPORT_FORMATS = ['json', 'html', 'png', 'svg'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(v: unknown): v is ExportFormat {
  return typeof v === 'string' && (EXPORT_FORMATS as readonly string[]).includes(v);
}

export interface ExportOptions {
  selection: HeadSelection;
  /** HTML page title, e.g. the file name. */
  title?: string;
  /** HTML token colouring. */
  scale?: ColorScale;
  /** PNG side in pixels. */
  pngPx?: number;
  /** JSON: the model's modes and a needle. */
  json?: JsonExtras;
  /** SVG: a second mode of the same window (difference map, second curves) and the needle's exact curves. */
  svg?: Pick<SvgFigureInput, 'needle'> & { other?: Inspection };
}

export function exportInspection(insp: Inspection, format: ExportFormat, opts: ExportOptions): Buffer {
  switch (format) {
    case 'json':
      return Buffer.from(JSON.stringify(toInspectJson(insp, opts.json)) + '\n');
    case 'html':
      return Buffer.from(renderHtmlReport(insp, { title: opts.title, selection: opts.selection, scale: opts.scale }), 'utf8');
    case 'png':
      return renderHeatmapPng(insp, opts.selection, opts.pngPx ?? 1024);
    case 'svg': {
      const inspections = opts.svg?.other ? [insp, opts.svg.other] : [insp];
      return Buffer.from(renderSvgFigure({ title: opts.title ?? 'document', selection: opts.selection, inspections, needle: opts.svg?.needle }), 'utf8');
    }
  }
}

/** "x.py.attention-ssmax-L2H3.png": the document's name, the mode and, for a map, the selection. */
export function exportFileName(documentName: string, insp: Inspection, sel: HeadSelection, format: ExportFormat): string {
  const which = sel.kind === 'head' ? `L${sel.layer + 1}H${sel.head + 1}` : sel.how;
  const suffix = format === 'json' ? '' : `-${which}`;
  return `${documentName || 'untitled'}.attention-${insp.mode}${suffix}.${format}`;
}
