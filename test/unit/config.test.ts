// Settings as Config reads them (the stand-in's settings in place of VS Code's): a mode renamed
// since a user saved it still reads as its successor.
import * as assert from 'node:assert/strict';
import { Config } from '../../src/extension/config';
import { MODES, modeOfSetting } from '../../src/shared/vocabulary';
import { settings } from '../common/vscode-stand-in';

describe('Config (settings)', () => {
  afterEach(() => settings.clear());

  it('reads attentionLens.mode, the old llama4-scaling as ministral3-scaling, anything else as softmax', () => {
    const config = new Config();
    for (const mode of MODES) {
      settings.set('attentionLens.mode', mode);
      assert.equal(config.mode, mode);
    }
    settings.set('attentionLens.mode', 'llama4-scaling');
    assert.equal(config.mode, 'ministral3-scaling');
    for (const bad of ['sparsemax', 'Llama4-scaling', 'toString', 3, undefined]) {
      settings.set('attentionLens.mode', bad);
      assert.equal(config.mode, 'softmax', String(bad));
    }
  });

  it('modeOfSetting maps only the renamed mode; a keybinding argument goes through it too', () => {
    assert.equal(modeOfSetting('llama4-scaling'), 'ministral3-scaling');
    assert.equal(modeOfSetting('ssmax'), 'ssmax');
    assert.equal(modeOfSetting('constructor'), undefined);
    assert.equal(modeOfSetting(['llama4-scaling']), undefined);
  });
});
