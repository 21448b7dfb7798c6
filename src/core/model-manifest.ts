// Reads and validates a model folder's models.json (models/README.md, "I/O contract") and maps
// each mode onto a graph file and the ssmax_s values it is fed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mode } from '../shared/vocabulary';
import type { ModelInfo } from './inspection-types';

export interface ModelManifest {
  dir: string;
  info: ModelInfo;
  tokenizerPath: string;
  softmaxPath: string;
  /** s of post-hoc SSMax: models.json "posthocS" (written by training/export.py), default 1 / ln(trainContext). */
  posthocS: number;
  /** Absent when the folder has no SSMax-trained graph. */
  ssmax?: { path: string; s: Float32Array };
}

/** What one mode runs: a graph file and its ssmax_s input, [L, H] row-major. */
export interface ModePlan {
  graphPath: string;
  s: Float32Array;
}

type Json = Record<string, unknown>;

function fail(dir: string, what: string): never {
  throw new Error(`model folder ${dir}: ${what}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(dir: string, json: Json, key: string): number {
  const v = json[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(dir, `models.json "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** A file named by models.json: must stay inside the folder and exist. */
function fileIn(dir: string, name: unknown, key: string): string {
  if (typeof name !== 'string' || name.length === 0) fail(dir, `models.json "${key}" must be a file name`);
  const full = path.resolve(dir, name);
  if (path.relative(dir, full).startsWith('..') || path.isAbsolute(path.relative(dir, full))) {
    fail(dir, `models.json "${key}" (${name}) points outside the folder`);
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(full);
  } catch {
    fail(dir, `${name} (models.json "${key}") is missing`);
  }
  if (!stat.isFile() || stat.size === 0) fail(dir, `${name} (models.json "${key}") is empty or not a file`);
  return full;
}

function readS(dir: string, value: unknown, layers: number, heads: number): Float32Array {
  const shape = `${layers} x ${heads}`;
  if (!Array.isArray(value) || value.length !== layers) fail(dir, `models.json variants.ssmax.s must be ${shape} numbers`);
  const s = new Float32Array(layers * heads);
  value.forEach((row: unknown, l) => {
    if (!Array.isArray(row) || row.length !== heads) fail(dir, `models.json variants.ssmax.s must be ${shape} numbers`);
    row.forEach((v: unknown, h) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(dir, `models.json variants.ssmax.s[${l}][${h}] must be a number >= 0`);
      s[l * heads + h] = v;
    });
  });
  return s;
}

function readPosthocS(dir: string, value: unknown, trainContext: number): number {
  // 1 / ln(trainContext): the SSMax factor is exactly 1 at the training length.
  if (value === undefined) return 1 / Math.log(trainContext);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(dir, `models.json "posthocS" must be a number > 0, got ${JSON.stringify(value)}`);
  return value;
}

export function readManifest(modelDir: string): ModelManifest {
  const dir = path.resolve(modelDir);
  const manifestPath = path.join(dir, 'models.json');
  let text: string;
  try {
    text = fs.readFileSync(manifestPath, 'utf8');
  } catch {
    fail(dir, 'models.json is missing or unreadable');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(dir, `models.json is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) fail(dir, 'models.json must hold an object');
  if (typeof json.id !== 'string' || json.id.length === 0) fail(dir, 'models.json "id" must be a non-empty string');
  const info: ModelInfo = {
    id: json.id,
    layers: positiveInt(dir, json, 'layers'),
    heads: positiveInt(dir, json, 'heads'),
    trainContext: positiveInt(dir, json, 'trainContext'),
    vocabSize: positiveInt(dir, json, 'vocabSize'),
    topK: positiveInt(dir, json, 'topK'),
    pooledSize: positiveInt(dir, json, 'pooledSize'),
  };
  if (info.trainContext < 2) fail(dir, 'models.json "trainContext" must be at least 2');
  const variants = json.variants;
  if (!isObject(variants) || !isObject(variants.softmax)) fail(dir, 'models.json "variants.softmax" is required');
  const manifest: ModelManifest = {
    dir,
    info,
    tokenizerPath: fileIn(dir, json.tokenizer, 'tokenizer'),
    softmaxPath: fileIn(dir, variants.softmax.file, 'variants.softmax.file'),
    posthocS: readPosthocS(dir, json.posthocS, info.trainContext),
  };
  if (variants.ssmax !== undefined) {
    if (!isObject(variants.ssmax)) fail(dir, 'models.json "variants.ssmax" must be an object');
    manifest.ssmax = {
      path: fileIn(dir, variants.ssmax.file, 'variants.ssmax.file'),
      s: readS(dir, variants.ssmax.s, info.layers, info.heads),
    };
  }
  return manifest;
}

export function modesOf(manifest: ModelManifest): Mode[] {
  return manifest.ssmax ? ['softmax', 'ssmax', 'ssmax-posthoc'] : ['softmax', 'ssmax-posthoc'];
}

export function planMode(manifest: ModelManifest, mode: Mode): ModePlan {
  const { layers, heads } = manifest.info;
  switch (mode) {
    case 'softmax':
      return { graphPath: manifest.softmaxPath, s: new Float32Array(layers * heads) };
    case 'ssmax-posthoc':
      return { graphPath: manifest.softmaxPath, s: new Float32Array(layers * heads).fill(manifest.posthocS) };
    case 'ssmax':
      if (!manifest.ssmax) throw new Error(`model ${manifest.info.id} has no SSMax-trained graph; modes available: ${modesOf(manifest).join(', ')}`);
      return { graphPath: manifest.ssmax.path, s: manifest.ssmax.s };
  }
}
