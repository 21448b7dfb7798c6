// Head roles on the shipped model: the top-k scores against the scores over full rows.
import * as assert from 'node:assert/strict';
import { HEAD_ROLES, classifyHeads, inspectionHeadRoles, textIdentities } from '../../src/core/reading/head-roles';
import { DocumentSession } from '../../src/core/engine/document-session';
import { ModelRunner } from '../../src/core/engine/runner';
import type { Inspection } from '../../src/core/inspection-types';
import type { RowOf } from '../common/attention-patterns';
import { construct } from '../common/attention-patterns';
import { MODEL_DIR, SHORT_CODE, allStarts } from '../common/fixtures';

describe('head roles on the shipped model', function () {
  this.timeout(60_000);
  let engine: ModelRunner;
  let insp: Inspection;
  before(async () => {
    engine = await ModelRunner.open(MODEL_DIR);
    const session = new DocumentSession(engine);
    const first = await session.inspect({ text: SHORT_CODE, mode: 'softmax' });
    insp = await session.inspect({ text: SHORT_CODE, mode: 'softmax', queryOffsets: allStarts(first.tokens) });
  });
  after(() => engine.dispose());

  it('top-16 scores are at most, and close to, the scores over full rows', () => {
    const T = insp.tokens.length;
    const LH = insp.model.layers * insp.model.heads;
    assert.equal(insp.queries.length, T);
    // Every row as a top-T list: the classifier then sums exact masses.
    const heads: RowOf[] = Array.from({ length: LH }, (_, h) => (i) => Array.from(insp.queries[i].rows.subarray(h * T, h * T + i + 1)));
    const full = construct(heads, T, T);
    const exact = classifyHeads({ ...full, entropy: insp.entropy, ids: textIdentities(insp.tokens) });
    const roles = inspectionHeadRoles(insp);
    assert.equal(roles.length, LH);
    roles.forEach((r, h) => {
      assert.ok(HEAD_ROLES.includes(r.role));
      for (const role of HEAD_ROLES) {
        assert.ok(r.scores[role] >= 0 && r.scores[role] <= 1, `head ${h} ${role} ${r.scores[role]}`);
        assert.ok(r.scores[role] <= exact[h].scores[role] + 1e-4, `head ${h} ${role}: top-k ${r.scores[role]} above full ${exact[h].scores[role]}`);
        assert.ok(exact[h].scores[role] - r.scores[role] < 0.05, `head ${h} ${role}: top-k ${r.scores[role]} far below full ${exact[h].scores[role]}`);
      }
    });
  });
});
