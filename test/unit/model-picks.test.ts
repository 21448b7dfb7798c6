// What the model pickers show: the Hugging Face cache's snapshots (read from a hub layout in a temp
// folder: a tiny Llama fixture and an unsupported BERT), converted models, sizes and messages.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConvertedModel } from '../../src/core/convert/model-store';
import { hubCacheLocations, listHubSnapshots } from '../../src/core/convert/model-store';
import { convertedItems, noSnapshotsMessage, progressMessage, sizeOnDisk, snapshotItems } from '../../src/extension/model-picks';
import { ROOT } from '../common/fixtures';

const MB = 1024 * 1024;

describe('model pickers', () => {
  let dir: string;
  let hub: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-model-picks-'));
    hub = path.join(dir, 'hub');
    const snapshot = (repo: string, rev: string): string => path.join(hub, `models--${repo}`, 'snapshots', rev);
    fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'hf', 'llama'), snapshot('test-org--tiny-llama', 'aaaaaaaaaaaa'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'hf', 'llama'), snapshot('test-org--tiny-llama', 'bbbbbbbbbbbb'), { recursive: true });
    fs.mkdirSync(snapshot('test-org--tiny-bert', 'cccccccc'), { recursive: true });
    fs.writeFileSync(path.join(snapshot('test-org--tiny-bert', 'cccccccc'), 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'] }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sizes in MB below a GB, in GB above', () => {
    assert.equal(sizeOnDisk(2000), '< 0.1 MB');
    assert.equal(sizeOnDisk(0.2 * MB), '0.2 MB');
    assert.equal(sizeOnDisk(257 * MB), '257 MB');
    assert.equal(sizeOnDisk(1434 * MB), '1.4 GB');
  });

  it('a snapshot item: model id, architecture and size, supported or the reason, supported ones first; revisions named when a model has several', () => {
    const env = { HF_HUB_CACHE: hub, HF_HOME: path.join(dir, 'no-such-home') };
    const items = snapshotItems(listHubSnapshots(env).filter((s) => s.dir.startsWith(hub)));
    assert.deepEqual(items.map((i) => i.label), ['test-org/tiny-llama', 'test-org/tiny-llama', 'test-org/tiny-bert']);
    const [llama, other, bert] = items;
    assert.equal(llama.detail, 'supported');
    assert.match(llama.description, /^LlamaForCausalLM · 0\.2 MB · aaaaaaaa$/);
    assert.match(other.description, / · bbbbbbbb$/);
    assert.equal(llama.snapshot.unsupported, null);
    assert.match(bert.detail, /model_type "bert" is not supported/);
    assert.equal(bert.description, 'BertModel · < 0.1 MB');
  });

  it('no cache: the message names every place looked in, HF_HUB_CACHE first', () => {
    const env = { HF_HUB_CACHE: path.join(dir, 'a'), HF_HOME: path.join(dir, 'b') };
    const looked = hubCacheLocations(env);
    assert.deepEqual(looked.slice(0, 2), [path.join(dir, 'a'), path.join(dir, 'b', 'hub')]);
    assert.equal(looked[2], path.join(os.homedir(), '.cache', 'huggingface', 'hub'));
    const text = noSnapshotsMessage(looked);
    for (const where of looked) assert.ok(text.includes(where), `${where} is named`);
    assert.match(text, /HF_HUB_CACHE, HF_HOME\/hub, ~\/\.cache\/huggingface\/hub/);
  });

  it('a converted model item: id, model type, size, source; stale and in-use notes', () => {
    const model = (id: string, current: boolean): ConvertedModel => ({ dir: `/cache/${id}`, id, modelType: 'llama', source: `/hf/${id}`, bytes: 3 * MB, current });
    const items = convertedItems([model('a', true), model('b', false)], (d) => d === '/cache/a');
    assert.deepEqual(items.map((i) => [i.label, i.description, i.detail]), [
      ['a', 'llama · 3.0 MB (in use)', 'from /hf/a'],
      ['b', 'llama · 3.0 MB (stale: older converter)', 'from /hf/b'],
    ]);
  });

  it('progress: tensors and MB', () => {
    assert.equal(progressMessage({ tensors: 3, tensorsTotal: 21, bytes: 1.5 * MB, bytesTotal: 10 * MB }), '3 of 21 tensors, 1.5 of 10.0 MB');
  });
});
