// JSON (the CLI contract), HTML (self-contained, escaped) and PNG (valid file, right pixels) exports;
// a screening inspection's HTML and PNG say relevance and keep it on its absolute scale.
import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { headFocus, headPooled } from '../../src/core/reading/analysis';
import { escapeHtml, renderHtmlReport } from '../../src/core/export/html';
import { toInspectJson } from '../../src/core/export/json';
import { headFading } from '../../src/core/reading/fading-metrics';
import { inspectionHeadRoles } from '../../src/core/reading/head-roles';
import { renderHeatmapPng } from '../../src/core/export/png';
import { pooledOf } from '../../src/core/reading/selection';
import { MASKED_RGB, PAGE_RGB, relevanceColor, weightColor } from '../../src/shared/color-scale';
import { DocumentSession } from '../../src/core/engine/document-session';
import { ModelRunner } from '../../src/core/engine/runner';
import type { Inspection } from '../../src/core/inspection-types';
import { MODEL_DIR, close } from '../common/fixtures';
import { RELEVANCE_MAP, syntheticRelevanceMap } from '../common/synthetic-inspection';

interface Png {
  width: number;
  height: number;
  pixel(x: number, y: number): number[];
}

/** Checks every chunk's CRC and decodes an 8-bit RGB, unfiltered PNG. */
function decodePng(buf: Buffer): Png {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (at < buf.length) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('ascii', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    assert.equal(buf.readUInt32BE(at + 8 + len), zlib.crc32(buf.subarray(at + 4, at + 8 + len)), `${type} CRC`);
    types.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([...data.subarray(8)], [8, 2, 0, 0, 0], '8-bit RGB, no interlace');
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  assert.deepEqual(types, ['IHDR', 'IDAT', 'IEND']);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (1 + width * 3));
  return {
    width,
    height,
    pixel: (x, y) => {
      const o = y * (1 + width * 3);
      assert.equal(raw[o], 0, 'filter none');
      return [...raw.subarray(o + 1 + x * 3, o + 4 + x * 3)];
    },
  };
}

describe('exports', function () {
  this.timeout(30_000);
  let engine: ModelRunner;
  let insp: Inspection;
  const text = 'const a = "</script><script>alert(1)</script>";\nif (a < b && c > d) { x = \'&amp;\'; }\n';
  before(async () => {
    engine = await ModelRunner.open(MODEL_DIR);
    insp = await new DocumentSession(engine).inspect({ text, mode: 'ssmax', queryOffsets: [0, text.indexOf('alert')] });
  });
  after(() => engine.dispose());

  describe('JSON (attention-lens/inspect@1)', () => {
    it('has exactly the contract fields, nested [layer][head][token]', () => {
      const json = JSON.parse(JSON.stringify(toInspectJson(insp))) as Record<string, unknown> & ReturnType<typeof toInspectJson>;
      const { layers, heads, trainContext, id } = engine.model;
      const T = insp.tokens.length;
      assert.equal(json.schema, 'attention-lens/inspect@1');
      assert.deepEqual({ id: json.model.id, layers: json.model.layers, heads: json.model.heads, trainContext: json.model.trainContext }, { id, layers, heads, trainContext });
      assert.equal(json.mode, 'ssmax');
      assert.deepEqual(json.range, { start: 0, end: text.length });
      assert.deepEqual(json.tokens[0], { text: insp.tokens[0].text, start: 0, end: insp.tokens[0].end });
      assert.equal(json.tokens.map((t) => t.text).join(''), text);
      const shape = (a: number[][][]): number[] => [a.length, a[0].length, a[0][0].length];
      assert.deepEqual(shape(json.focus), [layers, heads, T]);
      close(json.focus[2][3][5], headFocus(insp, 2, 3)[5], 1e-6, 'focus value');
      assert.equal(json.queries.length, 2);
      assert.deepEqual(Object.keys(json.queries[1]), ['offset', 'token', 'rows']);
      assert.equal(json.queries[1].offset, text.indexOf('alert'));
      assert.equal(json.queries[1].token, insp.queries[1].token);
      assert.deepEqual(shape(json.queries[1].rows), [layers, heads, T]);
      for (const k of ['tokenizeMs', 'inferenceMs', 'totalMs'] as const) assert.equal(typeof json.timings[k], 'number');
      for (const k of ['schema', 'model', 'mode', 'range', 'tokens', 'focus', 'queries', 'timings']) assert.ok(k in json, k);
    });

    it('gives each heads[] entry the role and score of head-roles.ts', () => {
      const json = JSON.parse(JSON.stringify(toInspectJson(insp))) as ReturnType<typeof toInspectJson>;
      const roles = inspectionHeadRoles(insp);
      assert.equal(json.heads.length, roles.length);
      for (const h of json.heads) {
        const r = roles[h.layer * engine.model.heads + h.head];
        assert.equal(h.role, r.role, `layer ${h.layer} head ${h.head}`);
        close(h.roleScore, r.score, 1e-6, `layer ${h.layer} head ${h.head} roleScore`);
      }
    });
  });

  describe('HTML report', () => {
    it('escapes every token: a </script> in the document stays text', () => {
      const html = renderHtmlReport(insp, { title: '<b>x.js</b>' });
      assert.ok(!html.includes('</script>'), 'no closing script tag from the document');
      assert.ok(!/<script/i.test(html), 'no script element at all');
      assert.ok(html.includes('&lt;/script&gt;') || html.includes('&lt;/'), 'the token text is escaped');
      assert.ok(html.includes('&lt;b&gt;x.js&lt;/b&gt;'), 'the title is escaped');
      assert.ok(!html.includes('<b>x.js'));
      assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    });

    it('is self-contained: no network, a strict CSP, the heatmap inline, every token present', () => {
      const html = renderHtmlReport(insp, { selection: { kind: 'head', layer: 1, head: 2 } });
      assert.ok(!/(src|href)="(https?:)?\/\//i.test(html), 'no remote resource');
      assert.ok(html.includes(`content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"`));
      assert.ok(html.includes('src="data:image/png;base64,'));
      assert.equal((html.match(/<span /g) ?? []).length, insp.tokens.length);
      assert.equal((html.match(/<tr/g) ?? []).length, 1 + engine.model.layers * engine.model.heads);
      assert.ok(html.includes('Attention map, L2 H3'), 'heads counted from 1, as in the editor');
    });

    it("gives each head its fading metrics, the values of fading-metrics.ts, and says which are exact", () => {
      const html = renderHtmlReport(insp);
      assert.ok(html.includes('<th>entropy / ln n</th><th>sink mass</th><th>keys for 90 %</th><th>share within 7 tokens</th>'));
      const f = headFading(insp)[0];
      const near = f.distanceMass['0'] + f.distanceMass['1-7'];
      const row = /<tr><td>L1 H1<\/td>(.*?)<\/tr>/.exec(html)?.[1] ?? '';
      const cells = [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]);
      assert.equal(cells.length, 9, row);
      close(Number(cells[5]), f.entropyRatio, 5e-4, 'entropy / ln n');
      close(Number(cells[6].replace(' (sink head)', '')), f.sinkMass, 5e-4, 'sink mass');
      assert.equal(cells[7], String(f.supportSize));
      close(Number(cells[8]), near, 5e-4, 'share within 7 tokens');
      assert.match(html, /sink mass .*, keys for 90 % and the share within 7 tokens back are exact, from each token's full row\. Keys for 90 % is the median over every token;/);
    });
  });

  describe('PNG heatmap', () => {
    it('draws the head\'s pooled map: masked cells above the diagonal, weight colours on and below', () => {
      const size = 100;
      const png = decodePng(renderHeatmapPng(insp, { kind: 'head', layer: 3, head: 1 }, size));
      assert.deepEqual([png.width, png.height], [size, size]);
      const bins = insp.pooled.bins;
      const map = headPooled(insp, 3, 1);
      const binOf = (p: number): number => Math.floor((p * bins) / size);
      for (const [x, y] of [[0, 0], [size - 1, size - 1], [size - 1, 0], [0, size - 1], [40, 60], [60, 40]]) {
        const a = binOf(y);
        const b = binOf(x);
        assert.deepEqual(png.pixel(x, y), b > a ? MASKED_RGB : weightColor(map[a * bins + b]), `pixel ${x},${y}`);
      }
      assert.throws(() => renderHeatmapPng(insp, { kind: 'head', layer: 0, head: 0 }, 0), /image size 0/);
      assert.throws(() => renderHeatmapPng(insp, { kind: 'head', layer: 9, head: 0 }, 10), /layer 9 is out of range/);
    });

    it('draws an aggregate: the mean over every head, cell by cell', () => {
      const size = 64;
      const png = decodePng(renderHeatmapPng(insp, { kind: 'aggregate', how: 'mean' }, size));
      const bins = insp.pooled.bins;
      const map = pooledOf(insp, { kind: 'aggregate', how: 'mean' });
      const n = engine.model.layers * engine.model.heads;
      const binOf = (p: number): number => Math.floor((p * bins) / size);
      for (const [x, y] of [[0, 0], [10, 50], [size - 1, size - 1]]) {
        const a = binOf(y);
        const b = binOf(x);
        let mean = 0;
        for (let l = 0; l < engine.model.layers; l++) for (let h = 0; h < engine.model.heads; h++) mean += headPooled(insp, l, h)[a * bins + b] / n;
        close(map[a * bins + b], mean, 1e-6, `mean cell ${a},${b}`);
        assert.deepEqual(png.pixel(x, y), weightColor(map[a * bins + b]), `pixel ${x},${y}`);
      }
    });

    it('colours run from dark (weight 0) to bright (weight 1)', () => {
      const lum = (c: number[]): number => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
      let prev = -1;
      for (let w = 0; w <= 1; w += 0.05) {
        const l = lum(weightColor(w));
        assert.ok(l >= prev - 1, `luminance rises at ${w}`);
        prev = l;
      }
    });
  });
});

describe('exports of a screening inspection (relevance)', () => {
  const insp = syntheticRelevanceMap(2, 3);

  it('PNG: relevance on its absolute scale, 0 (rejected) as the white page, never rescaled to the map\'s largest value', () => {
    const png = decodePng(renderHeatmapPng(insp, { kind: 'head', layer: 1, head: 2 }, 4));
    RELEVANCE_MAP.forEach((row, q) =>
      row.forEach((v, k) => assert.deepEqual(png.pixel(k, q), k > q ? MASKED_RGB : relevanceColor(v, PAGE_RGB), `query ${q}, key ${k}: relevance ${v}`)),
    );
    assert.deepEqual(png.pixel(1, 1), PAGE_RGB, 'a rejected key is empty, not a faint colour');
    assert.notDeepEqual(png.pixel(2, 2), relevanceColor(1, PAGE_RGB), 'the largest relevance, 0.9, is not drawn as 1');
    assert.notDeepEqual(png.pixel(0, 1), weightColor(0.3), 'not the weight scale');
  });

  it('HTML: says relevance, lists each tile\'s pass fraction and mean total relevance, and leaves rejected tokens uncoloured', () => {
    const html = renderHtmlReport(insp, { selection: { kind: 'head', layer: 0, head: 1 } });
    assert.match(html, /the numbers are relevance per key, not attention weights/);
    assert.match(html, /<h2>Relevance map, L1 H2<\/h2>/);
    assert.match(html, /white = 0 \(rejected\)/);
    assert.match(html, /<th>tile<\/th><th>mean largest relevance<\/th><th>pass fraction<\/th><th>mean total relevance<\/th>/);
    assert.doesNotMatch(html, /mean entropy|keys for 90 %|attention map/i);
    // Pass counts 0, 1, 3, 2 of 1 + 2 + 3 + 4 causal pairs; row sums 0, 0.3, 1.6, 0.6 over 4 queries.
    const row = /<tr class="sel"><td>L1 H2<\/td>(.*?)<\/tr>/.exec(html)?.[1] ?? '';
    const cells = [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]);
    assert.deepEqual(cells.slice(1, 3), ['0.6000', '0.625'], row);
    // Query 0 finds nothing (largest relevance 0): no highlight; the others show.
    const alphas = [...html.matchAll(/rgba\(253,231,37,([\d.]+)\)/g)].map((m) => Number(m[1]));
    assert.deepEqual(alphas.map((a) => a > 0), [false, true, true, true]);
  });
});
