// Shared by the engine, analysis, export and CLI tests: paths and deterministic source texts.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Tests run from out/test/<suite>. */
export const ROOT = path.join(__dirname, '..', '..', '..');
export const MODEL_DIR = path.join(ROOT, 'models');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

/** Real source code, about 280 tokens. */
export const SHORT_CODE = fs.readFileSync(path.join(ROOT, 'samples', 'lru-cache.js'), 'utf8');

/** Real source code of at least `chars` characters (samples repeated). */
export function longCode(chars: number): string {
  const files = ['lru-cache.js', 'debounce.ts', 'ring_buffer.h', 'wordfreq.rs', 'hello.py'];
  let text = '';
  for (let i = 0; text.length < chars; i++) text += fs.readFileSync(path.join(ROOT, 'samples', files[i % files.length]), 'utf8');
  return text.slice(0, chars);
}

/** Every token's start offset: asking for all of them gives the full T x T attention. */
export function allStarts(tokens: { start: number; end: number }[]): number[] {
  return tokens.filter((t) => t.end > t.start).map((t) => t.start);
}

export function close(actual: number, expected: number, tol: number, what: string): void {
  if (!(Math.abs(actual - expected) <= tol)) throw new Error(`${what}: ${actual} differs from ${expected} by more than ${tol}`);
}
