// The converter in a worker thread (the extension host's way): the same folder as in this process,
// progress while it runs, Cancel at its next graph with nothing left behind, and errors that keep
// their one line.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConvertError } from '../../src/core/convert/convert-error';
import { convertInWorker } from '../../src/core/convert/convert-in-worker';
import type { ConvertProgress } from '../../src/core/convert/convert-model';
import { convertHfFolder } from '../../src/core/convert/convert-model';
import { ROOT } from '../common/fixtures';

describe('converter in a worker thread', function () {
  this.timeout(60_000);
  const hf = path.join(ROOT, 'test', 'fixtures', 'hf', 'gemma3');
  const attentionGraphs = path.join(ROOT, 'models');
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-convert-worker-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the folder this process writes, reporting progress up to every byte', async () => {
    const seen: ConvertProgress[] = [];
    const result = await convertInWorker(hf, path.join(dir, 'worker'), { attentionGraphs, id: 'g', onProgress: (p) => seen.push(p) });
    await convertHfFolder(hf, path.join(dir, 'here'), { attentionGraphs, id: 'g' });
    assert.equal(result.slidingLayers, 1);
    for (const file of ['softmax/weights.bin', 'softmax/layer0.qkv.onnx', 'softmax/head.onnx', 'attention-window.onnx']) {
      assert.ok(fs.readFileSync(path.join(dir, 'worker', file)).equals(fs.readFileSync(path.join(dir, 'here', file))), file);
    }
    assert.ok(seen.length > 5, `${seen.length} progress reports`);
    assert.ok(seen.every((p, i) => i === 0 || p.tensors > seen[i - 1].tensors), 'tensors counted up');
    assert.equal(seen[seen.length - 1].bytes, seen[seen.length - 1].bytesTotal);
  });

  it('Cancel stops at the next graph and leaves nothing', async () => {
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(convertInWorker(hf, path.join(dir, 'cancelled'), { attentionGraphs, signal: abort.signal }), (err: Error) => err instanceof ConvertError && /conversion cancelled/.test(err.message));
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('two conversions of one checkpoint at once: one folder, no partial left, both succeed', async () => {
    // Both pass their start before either renames its folder into place: they take turns at every graph.
    const target = path.join(dir, 'same');
    const results = await Promise.all([convertHfFolder(hf, target, { attentionGraphs }), convertHfFolder(hf, target, { attentionGraphs })]);
    assert.equal(results.length, 2);
    assert.deepEqual(fs.readdirSync(dir), ['same']);
    assert.ok(fs.existsSync(path.join(target, 'models.json')));
  });

  it('a conversion error arrives as the same one line', async () => {
    const bad = path.join(dir, 'bad');
    fs.cpSync(hf, bad, { recursive: true });
    fs.rmSync(path.join(bad, 'tokenizer.json'));
    await assert.rejects(convertInWorker(bad, path.join(dir, 'out'), { attentionGraphs }), (err: Error) => err instanceof ConvertError && /tokenizer\.json is missing/.test(err.message));
  });
});
