// The SVG figure: parses as XML (Python's xml.dom.minidom, a strict parser), holds the map, the
// difference map, the curves and the needle, one line per mode, and keeps token text as escaped text.
// Beside screening: both maps as aggregates, relevance on its absolute scale, no difference map.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { DocumentSession } from '../../src/core/engine/document-session';
import { escapeXml, renderSvgFigure } from '../../src/core/export/svg';
import type { Inspection } from '../../src/core/inspection-types';
import { ModelRunner, exactNeedle } from '../../src/core/engine/runner';
import { tokenSpan } from '../../src/core/reading/needle';
import { PAGE_RGB, relevanceColor } from '../../src/shared/color-scale';
import { headLabel } from '../../src/shared/vocabulary';
import { MODEL_DIR } from '../common/fixtures';
import { RELEVANCE_MAP, synthetic, syntheticRelevanceMap } from '../common/synthetic-inspection';

interface Parsed {
  root: string;
  groups: string[];
  rects: Record<string, number>;
  polylines: { group: string; cls: string; points: number }[];
  texts: string[];
}

/** Parses the SVG with a strict XML parser and lists what it holds. */
function parse(svg: string): Parsed {
  const script = `
import sys, json, xml.dom.minidom as m
d = m.parseString(sys.stdin.buffer.read())
root = d.documentElement
def group_of(e):
    while e is not None and e.nodeType == e.ELEMENT_NODE:
        if e.tagName == 'g' and e.getAttribute('id'):
            return e.getAttribute('id')
        e = e.parentNode
    return ''
rects = {}
for r in d.getElementsByTagName('rect'):
    rects[group_of(r)] = rects.get(group_of(r), 0) + 1
print(json.dumps({
  'root': root.tagName,
  'groups': [g.getAttribute('id') for g in d.getElementsByTagName('g') if g.getAttribute('id')],
  'rects': rects,
  'polylines': [{'group': group_of(p), 'cls': p.getAttribute('class'), 'points': len(p.getAttribute('points').split())} for p in d.getElementsByTagName('polyline')],
  'texts': [''.join(c.data for c in t.childNodes if c.nodeType == c.TEXT_NODE) for t in d.getElementsByTagName('text')],
}))`;
  const r = spawnSync('python3', ['-c', script], { input: svg, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`not well-formed XML: ${r.stderr}`);
  return JSON.parse(r.stdout) as Parsed;
}

describe('SVG export (export-svg.ts)', function () {
  this.timeout(60_000);
  let runner: ModelRunner;
  let a: Inspection;
  let b: Inspection;
  const text = 'const a = "</script><script>alert(1)</script>";\nif (a < b && c > d) { x = \'&amp;\'; }\n'.repeat(6);
  before(async () => {
    runner = await ModelRunner.open(MODEL_DIR);
    const session = new DocumentSession(runner);
    a = await session.inspect({ text, mode: 'softmax' });
    b = await session.inspect({ text, mode: 'ssmax' });
  });
  after(() => runner.dispose());

  it('escapes the five XML characters', () => {
    assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('one mode: the map (lower triangle in cells, masked above) and the focus curve; no difference, no needle', () => {
    const p = parse(renderSvgFigure({ title: 'x.js', selection: { kind: 'head', layer: 1, head: 2 }, inspections: [a] }));
    assert.equal(p.root, 'svg');
    assert.deepEqual(p.groups, ['map', 'focus']);
    const n = Math.min(a.pooled.bins, 64);
    assert.equal(p.rects.map, n * n, 'every cell of the map');
    assert.deepEqual(p.polylines.map((l) => [l.group, l.cls]), [['focus', 'series softmax']]);
    assert.ok(p.texts.some((t) => t.includes(`Softmax: ${headLabel(1, 2)}`)), 'the map names mode and head');
  });

  it('two modes and a needle: difference map, a curve per mode in focus and needle, the best head named, token text kept as text', async () => {
    const start = text.indexOf('</script><script>');
    const span = tokenSpan(a, start, start + '</script><script>'.length)!;
    const curves = [await exactNeedle(runner, a, span, { text }), await exactNeedle(runner, b, span, { text })];
    const svg = renderSvgFigure({ title: 'a<b>&"c".js', selection: { kind: 'aggregate', how: 'mean' }, inspections: [a, b], needle: { span, curves } });
    assert.ok(!svg.includes('<script'), 'no raw markup from the document');
    const p = parse(svg);
    assert.deepEqual(p.groups, ['map', 'difference', 'focus', 'needle']);
    assert.equal(p.rects.difference, p.rects.map);
    assert.deepEqual(p.polylines.map((l) => [l.group, l.cls]), [
      ['focus', 'series softmax'],
      ['focus', 'series ssmax'],
      ['needle', 'series softmax'],
      ['needle', 'series ssmax'],
    ]);
    const spanText = a.tokens.slice(span.start, span.end).map((t) => t.text).join('');
    assert.ok(p.texts.some((t) => t.includes(`"${spanText}"`)), `the needle heading holds ${spanText} as text`);
    assert.ok(p.texts.some((t) => t.startsWith('a<b>&"c".js')), 'the title as text');
    assert.ok(p.texts.some((t) => /^Softmax, best head L\d+ H\d+$/.test(t)), 'the best head is named');
    assert.ok(p.texts.includes('SSMax − Softmax'));
  });

  it('refuses two inspections of different windows', async () => {
    const c = await new DocumentSession(runner).inspect({ text: text.slice(0, 100), mode: 'ssmax' });
    assert.throws(() => renderSvgFigure({ title: 'x', selection: { kind: 'aggregate', how: 'mean' }, inspections: [a, c] }), /same window/);
  });
});

describe('SVG export beside screening (relevance)', () => {
  const rgb = (c: readonly number[]): string => `fill="rgb(${c.join(',')})"`;

  it('--compare with screening: both maps as the mean over heads and tiles, no difference map, a legend that names the two quantities', () => {
    const attention = { ...synthetic(2, 3, RELEVANCE_MAP.length, 9), mode: 'ssmax' as const };
    const screening = syntheticRelevanceMap(3, 4);
    // A head was selected: heads and tiles do not pair, so the figure shows the mean.
    const svg = renderSvgFigure({ title: 'x.py', selection: { kind: 'head', layer: 1, head: 2 }, inspections: [attention, screening] });
    const p = parse(svg);
    assert.deepEqual(p.groups, ['legend', 'map', 'map-2', 'focus']);
    assert.ok(p.texts.includes('SSMax: attention weight, each row sums to 1 · Screening: relevance per key, absolute, 0 = rejected'), p.texts.join('\n'));
    assert.ok(p.texts.includes("SSMax's 2 x 3 heads and Screening's 3 x 4 tiles do not pair: each map is the mean over all of them; no difference map."));
    assert.ok(p.texts.includes('SSMax attention weight: all heads: mean'));
    assert.ok(p.texts.includes('Screening relevance: all heads: mean'));
    assert.ok(p.texts.includes('SSMax (largest weight)') && p.texts.includes('Screening (largest relevance)'));
    assert.deepEqual(p.polylines.map((l) => l.cls), ['series ssmax', 'series screening']);
    // The relevance map: absolute (0.3 stays 0.3, the largest 0.9 is not drawn as 1), 0 as the white page.
    const map = svg.slice(svg.indexOf('<g id="map-2">'), svg.indexOf('<g id="focus">'));
    assert.ok(map.includes(rgb(relevanceColor(0.3, PAGE_RGB))) && map.includes(rgb(relevanceColor(0.9, PAGE_RGB))));
    assert.ok(!map.includes(rgb(relevanceColor(1, PAGE_RGB))), 'not rescaled to the largest value');
    assert.ok(map.includes(rgb(PAGE_RGB)), 'rejected keys are empty');
  });

  it('screening alone: a tile\'s relevance map, named so, with the relevance key', () => {
    const p = parse(renderSvgFigure({ title: 'x.py', selection: { kind: 'head', layer: 2, head: 3 }, inspections: [syntheticRelevanceMap(3, 4)] }));
    assert.deepEqual(p.groups, ['legend', 'map', 'focus']);
    assert.ok(p.texts.includes('Screening: relevance per key, absolute, 0 = rejected'));
    assert.ok(p.texts.includes('Screening relevance: L3 H4'));
    assert.ok(p.texts.includes('relevance 0 (rejected)'));
  });
});
