// A model folder with a screening variant for tests: the shipped pair's files (linked) and a small
// random Multiscreen (training/screening_fixture.py: Psi = 4, training length 64) added by
// training/export.py --screening. Needs /usr/bin/python3 with torch and onnx, as the reference tests do.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './fixtures';

export const PYTHON = '/usr/bin/python3';

export function runPython(args: string[]): void {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${PYTHON} ${args.join(' ')}: ${r.stderr}`);
}

/** Writes the checkpoint to dir/screening.pt and the folder to dir/model; returns both paths. */
export function screeningModel(dir: string): { ckpt: string; model: string } {
  const ckpt = path.join(dir, 'screening.pt');
  runPython([path.join(ROOT, 'training', 'screening_fixture.py'), ckpt]);
  const model = path.join(dir, 'model');
  fs.mkdirSync(model);
  for (const f of fs.readdirSync(path.join(ROOT, 'models'))) {
    // The shipped screening twin's files stay behind: export.py writes this one's in their place.
    if (f.startsWith('screening')) continue;
    if (f === 'models.json') fs.copyFileSync(path.join(ROOT, 'models', f), path.join(model, f));
    else fs.symlinkSync(path.join(ROOT, 'models', f), path.join(model, f));
  }
  runPython([path.join(ROOT, 'training', 'export.py'), '--screening', ckpt, '--out', model]);
  return { ckpt, model };
}
