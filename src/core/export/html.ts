// A self-contained HTML report: token overlay coloured by focus, the pooled heatmap (an inline
// PNG) and top keys under one head selection, the head table. No script and no network: the CSP
// allows inline styles and data: images only.
import { DEFAULT_COLOR_SCALE, colouredValues, stepScale } from '../../shared/color-scale';
import type { ColorScale } from '../../shared/color-scale';
import type { HeadSelection } from '../../shared/vocabulary';
import { headLabel, selectionLabel } from '../../shared/vocabulary';
import { renderHeatmapPng } from './png';
import type { Inspection } from '../inspection-types';
import { supportTokensText } from '../reading/fading-metrics';
import { focusOf, headFadingOf, keysOf, roleOf } from '../reading/selection';

export interface HtmlReportOptions {
  /** Shown as the page title, e.g. the file name. */
  title?: string;
  /** Whose focus colours the tokens and whose map is drawn; default: the mean over all heads. */
  selection?: HeadSelection;
  /** Token colouring; default: the setting's default. */
  scale?: ColorScale;
  heatmapPx?: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function fixed(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

export function renderHtmlReport(insp: Inspection, opts: HtmlReportOptions = {}): string {
  const sel: HeadSelection = opts.selection ?? { kind: 'aggregate', how: 'mean' };
  const focus = focusOf(insp, sel);
  const label = escapeHtml(selectionLabel(sel));
  const title = opts.title ?? 'Attention Lens report';
  const png = renderHeatmapPng(insp, sel, opts.heatmapPx ?? 512).toString('base64');
  const m = insp.model;

  const texts = insp.tokens.map((t) => t.text);
  const scale = stepScale(opts.scale ?? DEFAULT_COLOR_SCALE, colouredValues(focus, texts));
  const spans = insp.tokens.map((t, i) => {
    const alpha = fixed(0.1 + 0.75 * scale.intensity(focus[i]), 3);
    const tip = `token ${i + 1} · focus ${fixed(focus[i])} · surprisal ${fixed(insp.surprisal[i], 2)} nats`;
    return `<span style="background:rgba(253,231,37,${alpha})" title="${escapeHtml(tip)}">${escapeHtml(t.text)}</span>`;
  });
  const fading = headFadingOf(insp);
  const headRows = insp.heads.map((h) => {
    const role = roleOf(insp, h.layer, h.head);
    const f = fading[h.layer * m.heads + h.head];
    const near = (f.distanceMass['0'] ?? 0) + (f.distanceMass['1-7'] ?? 0);
    return (
      `<tr${sel.kind === 'head' && h.layer === sel.layer && h.head === sel.head ? ' class="sel"' : ''}><td>${headLabel(h.layer, h.head)}</td>` +
      `<td>${fixed(h.meanFocus)}</td><td>${fixed(h.meanEntropy)}</td><td>${fixed(h.meanDistance, 1)}</td>` +
      `<td>${escapeHtml(role.role)}</td><td>${fixed(role.score, 2)}</td>` +
      `<td>${fixed(f.entropyRatio)}</td><td>${fixed(f.sinkMass)}${f.sinkHead ? ' (sink head)' : ''}</td>` +
      `<td>${f.supportSize}</td><td>${fixed(near)}</td></tr>`
    );
  });
  const queryItems = insp.queries.map((q) => {
    const keys = keysOf(insp, sel, q.token, 5)
      .map((k) => `<code>${escapeHtml(JSON.stringify(insp.tokens[k.token].text))}</code> ${fixed(k.weight)}`)
      .join(', ');
    return `<li>offset ${q.offset} (token ${q.token + 1}, <code>${escapeHtml(JSON.stringify(insp.tokens[q.token].text))}</code>): ${keys}</li>`;
  });
  const windowNote = insp.windowed
    ? `<p class="note">The document has ${insp.documentTokensEstimated ? 'about ' : ''}${insp.documentTokens} tokens; only ${insp.tokens.length} (offsets ${insp.range.start}..${insp.range.end}) were inspected.</p>`
    : '';

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
pre.doc { font: 13px ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; border: 1px solid #ccc; padding: 12px; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #eee; }
tr.sel { font-weight: bold; } .note { color: #a05a00; } img { image-rendering: pixelated; border: 1px solid #ccc; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Model <code>${escapeHtml(m.id)}</code> (${m.layers} layers x ${m.heads} heads, trained on ${m.trainContext} tokens), mode <b>${escapeHtml(insp.mode)}</b>,
${insp.tokens.length} tokens, model run ${fixed(insp.timings.inferenceMs, 0)} ms.</p>
${windowNote}
<h2>Focus per token (${label})</h2>
<p>Highlight strength = the largest attention weight the token gives (1 = all on one key).</p>
<pre class="doc">${spans.join('')}</pre>
<h2>Attention map, ${label}</h2>
<p>Queries down, keys across, max over ${insp.pooled.binSize} x ${insp.pooled.binSize}-token cells; brighter = larger weight (square-root scale).</p>
<img alt="pooled attention heatmap, ${label}" width="512" height="512" src="data:image/png;base64,${png}">
${queryItems.length > 0 ? `<h2>Queries (top keys, ${label})</h2><ul>${queryItems.join('')}</ul>` : ''}
<h2>Heads</h2>
<table><tr><th>head</th><th>mean focus</th><th>mean entropy (nats)</th><th>mean distance (tokens)</th><th>role</th><th>role score</th><th>entropy / ln n</th><th>sink mass</th><th>keys for 90 %</th><th>share within 7 tokens</th></tr>
${headRows.join('\n')}
</table>
<p class="note">Entropy / ln(keys seen), the sink mass (weight on the first token; a sink head's mean is above 0.3), keys for 90 % and the share within 7 tokens back are exact, from each token's full row. Keys for 90 % is the median over ${fading[0] ? supportTokensText(fading[0], insp.pooled.binSize) : 'every token'}; the others are means over every token.</p>
</body>
</html>
`;
}
