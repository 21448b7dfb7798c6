// The Get Started walkthrough as package.json declares it: every step's button runs a contributed
// command that completes that step, its Markdown exists, and the sample it opens ships in the .vsix.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../common/fixtures';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown: string };
  completionEvents: string[];
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: {
    commands: { command: string; title: string }[];
    walkthroughs: { id: string; steps: Step[] }[];
    menus: { commandPalette: { command: string; when: string }[] };
  };
};

describe('Get Started walkthrough (package.json)', () => {
  const [walkthrough] = manifest.contributes.walkthroughs;
  const contributed = new Set(manifest.contributes.commands.map((c) => c.command));

  it('is the one walkthrough, and Get Started names its id', () => {
    assert.equal(manifest.contributes.walkthroughs.length, 1);
    assert.ok(contributed.has('attentionLens.getStarted'));
    const source = fs.readFileSync(path.join(ROOT, 'src', 'extension', 'walkthrough.ts'), 'utf8');
    assert.ok(source.includes(`'attention-lens.attention-lens#${walkthrough.id}'`), 'walkthrough.ts opens this id');
  });

  it('each step has one button, a contributed command hidden from the palette, that completes the step', () => {
    const hidden = new Set(manifest.contributes.menus.commandPalette.filter((m) => m.when === 'false').map((m) => m.command));
    for (const step of walkthrough.steps) {
      const links = [...step.description.matchAll(/\]\(command:([\w.]+)\)/g)].map((m) => m[1]);
      assert.equal(links.length, 1, `${step.id}: one button`);
      assert.ok(contributed.has(links[0]), `${step.id}: ${links[0]} is contributed (a click activates the extension)`);
      assert.ok(hidden.has(links[0]), `${step.id}: ${links[0]} is hidden from the palette`);
      assert.deepEqual(step.completionEvents, [`onCommand:${links[0]}`], `${step.id}: its button completes it`);
    }
  });

  it('each step has its Markdown, which ships in the .vsix, and so does the sample', () => {
    const ignore = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8').split('\n');
    for (const step of walkthrough.steps) {
      assert.ok(fs.existsSync(path.join(ROOT, step.media.markdown)), step.media.markdown);
      assert.ok(step.media.markdown.startsWith('media/walkthrough/'), 'media/ ships; media/screenshots/ does not');
    }
    assert.ok(ignore.includes('!samples/inventory.py'), '.vscodeignore keeps the sample');
    assert.ok(fs.existsSync(path.join(ROOT, 'samples', 'inventory.py')));
  });
});
