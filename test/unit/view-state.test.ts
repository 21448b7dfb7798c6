// The view's one owner: a change of mode, head and Compare is one step with one event; settings
// are its defaults (followed when the user edits them, written only by Save View as Default).
import * as assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import type { Config } from '../../src/extension/config';
import type { ViewChange } from '../../src/extension/view-state';
import { ViewState } from '../../src/extension/view-state';
import type { HeadSelection, Mode } from '../../src/shared/vocabulary';

/** Settings as Config reads them; `writes` records each write, as VS Code would apply it one key at a time. */
class FakeSettings {
  mode: Mode = 'softmax';
  selection: HeadSelection = { kind: 'aggregate', how: 'mean' };
  writes: string[] = [];
  onWrite: (key: string) => void = () => undefined;

  async setMode(mode: Mode): Promise<void> {
    this.mode = mode;
    this.write('mode');
  }

  async setSelection(sel: HeadSelection): Promise<void> {
    // Two keys, two writes, two events: the reason the view does not live in settings.
    if (sel.kind === 'head') {
      this.selection = { kind: 'head', layer: sel.layer, head: this.selection.kind === 'head' ? this.selection.head : 0 };
      this.write('layer');
    }
    this.selection = sel;
    this.write('head');
  }

  viewDefaultsChanged(e: vscode.ConfigurationChangeEvent): { mode: boolean; selection: boolean } {
    const affects = (k: string): boolean => e.affectsConfiguration(`attentionLens.${k}`);
    return { mode: affects('mode'), selection: affects('layer') || affects('head') };
  }

  private write(key: string): void {
    this.writes.push(key);
    this.onWrite(key);
  }
}

const event = (...keys: string[]): vscode.ConfigurationChangeEvent => ({ affectsConfiguration: (s: string) => keys.some((k) => s === 'attentionLens' || s === `attentionLens.${k}`) });

function setup(): { settings: FakeSettings; view: ViewState; events: ViewChange[] } {
  const settings = new FakeSettings();
  const view = new ViewState(settings as unknown as Config);
  const events: ViewChange[] = [];
  view.onDidChange((c) => events.push(c));
  return { settings, view, events };
}

describe('view state', () => {
  it('starts from the settings', () => {
    const settings = new FakeSettings();
    settings.mode = 'ssmax';
    settings.selection = { kind: 'head', layer: 1, head: 2 };
    const view = new ViewState(settings as unknown as Config);
    assert.equal(view.mode, 'ssmax');
    assert.deepEqual(view.selection, { kind: 'head', layer: 1, head: 2 });
    assert.equal(view.compare, undefined);
  });

  it('a head pick is one step with one event, and writes no setting', () => {
    const { settings, view, events } = setup();
    view.set({ selection: { kind: 'head', layer: 2, head: 3 } });
    assert.deepEqual(events, [{ mode: false, selection: true, compare: false }]);
    assert.deepEqual(view.selection, { kind: 'head', layer: 2, head: 3 });
    assert.deepEqual(settings.writes, []);
  });

  it('Compare on with the mean is one event naming both parts; an unchanged set fires nothing', () => {
    const { view, events } = setup();
    view.set({ selection: { kind: 'head', layer: 0, head: 1 } });
    events.length = 0;
    const change = view.set({ compare: ['softmax', 'ssmax'], selection: { kind: 'aggregate', how: 'mean' } });
    assert.deepEqual(change, { mode: false, selection: true, compare: true });
    assert.equal(events.length, 1);
    assert.deepEqual(view.set({ compare: ['softmax', 'ssmax'], selection: { kind: 'aggregate', how: 'mean' }, mode: 'softmax' }), { mode: false, selection: false, compare: false });
    assert.equal(events.length, 1);
    view.set({ compare: undefined });
    assert.equal(view.compare, undefined);
    assert.equal(events.length, 2);
  });

  it('follows the settings the user edits, and only those', () => {
    const { settings, view, events } = setup();
    view.set({ selection: { kind: 'head', layer: 1, head: 1 } });
    events.length = 0;
    settings.mode = 'ssmax';
    view.onSettings(event('mode'));
    assert.equal(view.mode, 'ssmax');
    assert.deepEqual(view.selection, { kind: 'head', layer: 1, head: 1 }, 'the shown head stays');
    assert.deepEqual(events, [{ mode: true, selection: false, compare: false }]);
    view.onSettings(event('colorScale'));
    assert.equal(events.length, 1);
  });

  it('Save View as Default writes mode, layer and head; their echoes never show a mixed view', () => {
    const { settings, view, events } = setup();
    view.set({ mode: 'ssmax', selection: { kind: 'head', layer: 2, head: 3 } });
    events.length = 0;
    // VS Code reports each write as a settings event, the layer before the head.
    settings.onWrite = (key) => view.onSettings(event(key));
    return view.saveAsDefault().then(() => {
      assert.deepEqual(settings.writes, ['mode', 'layer', 'head']);
      assert.equal(settings.mode, 'ssmax');
      assert.deepEqual(settings.selection, { kind: 'head', layer: 2, head: 3 });
      assert.deepEqual(events, [], 'no event: the view already is what was written');
      assert.deepEqual(view.selection, { kind: 'head', layer: 2, head: 3 });
    });
  });
});
