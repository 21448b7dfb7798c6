// The needle on the shipped model: a selection's tokens, exact from the kept q and k (equal to the full rows), the top-k lower bound below it.
import * as assert from 'node:assert/strict';
import { DocumentSession } from '../../src/core/engine/document-session';
import type { Inspection } from '../../src/core/inspection-types';
import { ModelRunner, exactNeedle } from '../../src/core/engine/runner';
import { needleFromTopK, tokenSpan } from '../../src/core/reading/needle';
import { inspectionTopK } from '../../src/core/reading/top-k-attention';
import { MODEL_DIR, SHORT_CODE, allStarts, close } from '../common/fixtures';

describe('needle on the shipped model', function () {
  this.timeout(60_000);
  let engine: ModelRunner;
  let withRows: Inspection;
  let plain: Inspection;
  before(async () => {
    engine = await ModelRunner.open(MODEL_DIR);
    const session = new DocumentSession(engine);
    plain = await session.inspect({ text: SHORT_CODE, mode: 'ssmax' });
    withRows = await session.inspect({ text: SHORT_CODE, mode: 'ssmax', queryOffsets: allStarts(plain.tokens) });
  });
  after(() => engine.dispose());

  it('tokenSpan maps a selection to the tokens it overlaps; an empty selection to the token there', () => {
    const at = SHORT_CODE.indexOf('capacity');
    const span = tokenSpan(plain, at, at + 'capacity'.length);
    assert.ok(span);
    assert.equal(plain.tokens.slice(span.start, span.end).map((t) => t.text).join('').trim(), 'capacity');
    const one = tokenSpan(plain, at + 1, at + 1);
    assert.ok(one);
    assert.equal(one.end, one.start + 1);
    assert.ok(plain.tokens[one.start].start <= at + 1 && at + 1 < plain.tokens[one.start].end);
    assert.equal(tokenSpan(plain, SHORT_CODE.length + 5, SHORT_CODE.length + 9), undefined);
  });

  it('exact from kept q and k, equal to the full rows; the top-k lower bound below it', async () => {
    const at = SHORT_CODE.indexOf('capacity');
    const span = tokenSpan(plain, at, at + 'capacity'.length);
    assert.ok(span);
    const exact = await exactNeedle(engine, withRows, span, { text: SHORT_CODE });
    const lower = needleFromTopK(inspectionTopK(plain), span);
    assert.equal(exact.exact, true);
    assert.equal(lower.exact, false);
    const T = plain.tokens.length;
    assert.equal(exact.mean.length, T - span.end);
    const q = span.end + 10;
    const rows = withRows.queries[q].rows;
    let sum = 0;
    for (let j = span.start; j < span.end; j++) sum += rows[5 * T + j]; // layer 1 head 1
    close(exact.perHead[5][10], sum, 1e-6, 'layer 1 head 1, ten queries after the span');
    for (let p = 0; p < exact.mean.length; p++) {
      assert.ok(lower.mean[p] <= exact.mean[p] + 1e-5, `point ${p}`);
      assert.ok(exact.max[p] <= 1 + 1e-4);
    }
  });

  it('of another mode with other heads: the screening twin\'s tiles from an SSMax window', async () => {
    const at = SHORT_CODE.indexOf('capacity');
    const span = tokenSpan(plain, at, at + 'capacity'.length);
    assert.ok(span);
    const curve = await exactNeedle(engine, plain, span, { text: SHORT_CODE }, 'screening');
    const { layers, heads } = engine.modelOf('screening');
    assert.equal(curve.perHead.length, layers * heads);
    assert.equal(curve.mean.length, plain.tokens.length - span.end);
  });
});
