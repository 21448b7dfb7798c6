// A self-contained HTML report: token overlay coloured by focus, the pooled heatmap (an inline
// PNG) and top keys under one head selection, the head table. No script and no network: the CSP
// allows inline styles and data: images only. A screening inspection's report says relevance
// throughout, keeps it on its absolute scale (0, rejected, uncoloured) and lists each tile's share
// of keys passing and mean total relevance instead of the weight-only metrics.
import { DEFAULT_COLOR_SCALE, MAP_SCALE, colouredValues, intensity, stepScale } from '../../shared/color-scale';
import type { ColorScale } from '../../shared/color-scale';
import type { HeadSelection } from '../../shared/vocabulary';
import { headLabel, selectionLabel } from '../../shared/vocabulary';
import { relevanceSummaries } from './json';
import { renderHeatmapPng } from './png';
import type { Inspection } from '../inspection-types';
import { supportTokensText } from '../reading/fading-metrics';
import { checkSelection, focusOf, headFadingOf, keysOf, roleOf } from '../reading/selection';

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

const RELEVANCE_NOTE = '<p><b>Screening: the numbers are relevance per key, not attention weights:</b> each in [0, 1] on its own, absolute; 0 = rejected; a row may sum to anything, 0 included.</p>';
const WEIGHT_TABLE =
  '<table><tr><th>head</th><th>mean focus</th><th>mean entropy (nats)</th><th>mean distance (tokens)</th><th>role</th><th>role score</th><th>entropy / ln n</th><th>sink mass</th><th>keys for 90 %</th><th>share within 7 tokens</th></tr>';
const RELEVANCE_TABLE =
  '<table><tr><th>tile</th><th>mean largest relevance</th><th>pass fraction</th><th>mean total relevance</th><th>mean distance (tokens)</th><th>role</th><th>role score</th><th>sink relevance</th><th>relevance within 7 tokens</th></tr>';

export function renderHtmlReport(insp: Inspection, opts: HtmlReportOptions = {}): string {
  const sel: HeadSelection = opts.selection ?? { kind: 'aggregate', how: 'mean' };
  checkSelection(insp, sel);
  const focus = focusOf(insp, sel);
  const label = escapeHtml(selectionLabel(sel));
  const title = opts.title ?? 'Attention Lens report';
  const png = renderHeatmapPng(insp, sel, opts.heatmapPx ?? 512).toString('base64');
  const m = insp.model;

  const texts = insp.tokens.map((t) => t.text);
  const relevance = relevanceSummaries(insp);
  // Relevance is absolute: its own curve, not a rank within the document, and 0 stays uncoloured.
  const scale = stepScale(opts.scale ?? DEFAULT_COLOR_SCALE, colouredValues(focus, texts));
  const strength = (v: number): number => (relevance ? (v > 0 ? 0.75 * intensity(v, MAP_SCALE) : 0) : 0.1 + 0.75 * scale.intensity(v));
  const spans = insp.tokens.map((t, i) => {
    const alpha = fixed(strength(focus[i]), 3);
    const tip = `token ${i + 1} · ${relevance ? 'largest relevance' : 'focus'} ${fixed(focus[i])} · surprisal ${fixed(insp.surprisal[i], 2)} nats`;
    return `<span style="background:rgba(253,231,37,${alpha})" title="${escapeHtml(tip)}">${escapeHtml(t.text)}</span>`;
  });
  const fading = headFadingOf(insp);
  const headRows = insp.heads.map((h, lh) => {
    const role = roleOf(insp, h.layer, h.head);
    const f = fading[h.layer * m.heads + h.head];
    const near = (f.distanceMass['0'] ?? 0) + (f.distanceMass['1-7'] ?? 0);
    const cells = relevance
      ? [fixed(h.meanFocus), fixed(relevance[lh].passFraction, 4), fixed(relevance[lh].meanTotalRelevance), fixed(h.meanDistance, 1), escapeHtml(role.role), fixed(role.score, 2), fixed(f.sinkMass), fixed(near)]
      : [fixed(h.meanFocus), fixed(h.meanEntropy), fixed(h.meanDistance, 1), escapeHtml(role.role), fixed(role.score, 2), fixed(f.entropyRatio), `${fixed(f.sinkMass)}${f.sinkHead ? ' (sink head)' : ''}`, String(f.supportSize), fixed(near)];
    return `<tr${sel.kind === 'head' && h.layer === sel.layer && h.head === sel.head ? ' class="sel"' : ''}><td>${headLabel(h.layer, h.head)}</td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
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
<p>Model <code>${escapeHtml(m.id)}</code> (${m.layers} layers x ${m.heads} ${relevance ? 'tiles' : 'heads'}, trained on ${m.trainContext} tokens), mode <b>${escapeHtml(insp.mode)}</b>,
${insp.tokens.length} tokens, model run ${fixed(insp.timings.inferenceMs, 0)} ms.</p>
${windowNote}
${relevance ? RELEVANCE_NOTE : ''}
<h2>${relevance ? 'Largest relevance' : 'Focus'} per token (${label})</h2>
<p>${relevance ? 'Highlight strength = the largest relevance the token gives a key, absolute (no highlight: every key rejected).' : 'Highlight strength = the largest attention weight the token gives (1 = all on one key).'}</p>
<pre class="doc">${spans.join('')}</pre>
<h2>${relevance ? 'Relevance' : 'Attention'} map, ${label}</h2>
<p>Queries down, keys across, max over ${insp.pooled.binSize} x ${insp.pooled.binSize}-token cells; ${relevance ? 'relevance on its absolute scale: white = 0 (rejected), full orange = 1 (square-root scale)' : 'brighter = larger weight (square-root scale)'}.</p>
<img alt="pooled ${relevance ? 'relevance' : 'attention'} heatmap, ${label}" width="512" height="512" src="data:image/png;base64,${png}">
${queryItems.length > 0 ? `<h2>Queries (top keys${relevance ? ' by relevance' : ''}, ${label})</h2><ul>${queryItems.join('')}</ul>` : ''}
<h2>${relevance ? 'Tiles' : 'Heads'}</h2>
${relevance ? RELEVANCE_TABLE : WEIGHT_TABLE}
${headRows.join('\n')}
</table>
<p class="note">${
    relevance
      ? 'Pass fraction: the share of causal query-key pairs whose relevance is above 0. Mean total relevance: the mean over queries of the row\'s sum (unnormalised, 0 where every key is rejected). Sink relevance and relevance within 7 tokens back are means over every token, from each token\'s full row.'
      : `Entropy / ln(keys seen), the sink mass (weight on the first token; a sink head's mean is above 0.3), keys for 90 % and the share within 7 tokens back are exact, from each token's full row. Keys for 90 % is the median over ${fading[0] ? supportTokensText(fading[0], insp.pooled.binSize) : 'every token'}; the others are means over every token.`
  }</p>
</body>
</html>
`;
}
