// Where converted models live and where Hugging Face checkpoints are found: the converted-model
// cache (one folder per checkpoint, keyed by its files and the converter's version, so opening the
// same checkpoint again is instant and an update never reuses a stale folder) and the snapshots of
// the local Hugging Face hub cache.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONVERTER_VERSION, type ConvertOptions, type ConvertResult, convertHfFolder } from './convert-model';
import { modelTypeOf, readConfigJson, unsupportedReason } from './hf-config';

/** A folder to convert rather than open: config.json and no models.json. */
export function isHfFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'config.json')) && !fs.existsSync(path.join(dir, 'models.json'));
}

/** The CLI's cache: $XDG_CACHE_HOME/attention-lens or ~/.cache/attention-lens. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'attention-lens');
}

/** The files that decide a conversion: names, sizes and modification times, and the converter's version. */
export function cacheKey(hfDir: string): string {
  const hash = createHash('sha256').update(`converter ${CONVERTER_VERSION}\n`);
  for (const name of fs.readdirSync(hfDir).sort()) {
    if (!/\.(safetensors|json)$/.test(name)) continue;
    const stat = fs.statSync(path.join(hfDir, name)); // follows the hub cache's symlinks to their blobs
    hash.update(`${name} ${stat.size} ${Math.round(stat.mtimeMs)}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

function folderName(hfDir: string): string {
  return path.basename(path.resolve(hfDir)).replace(/[^A-Za-z0-9._-]+/g, '_') || 'model';
}

/** Where hfDir's converted folder is (or would be) in cacheRoot: callers can tell whether opening it needs a conversion. */
export function convertedDir(hfDir: string, cacheRoot: string): string {
  return path.join(cacheRoot, `${folderName(hfDir)}-${cacheKey(hfDir)}`);
}

/** The converted folder for hfDir in cacheRoot, converting it first (with `convert`: here or in a worker thread) when it is not there yet. */
export async function convertedModel(
  hfDir: string,
  cacheRoot: string,
  options: ConvertOptions,
  convert: typeof convertHfFolder = convertHfFolder,
): Promise<{ dir: string; converted?: ConvertResult }> {
  const dir = convertedDir(hfDir, cacheRoot);
  if (fs.existsSync(path.join(dir, 'models.json'))) return { dir };
  const converted = await convert(hfDir, dir, { ...options, source: path.resolve(hfDir) });
  return { dir, converted };
}

export interface ConvertedModel {
  dir: string;
  id: string;
  modelType: string;
  source: string;
  bytes: number;
  /** False for a folder an older converter wrote: its key no longer matches, so it is never reused. */
  current: boolean;
}

/** The converted models in cacheRoot, largest first. */
export function listConverted(cacheRoot: string): ConvertedModel[] {
  if (!fs.existsSync(cacheRoot)) return [];
  const found: ConvertedModel[] = [];
  for (const name of fs.readdirSync(cacheRoot)) {
    const dir = path.join(cacheRoot, name);
    let json: { id?: unknown; converter?: { version?: unknown; modelType?: unknown; source?: unknown } };
    try {
      json = JSON.parse(fs.readFileSync(path.join(dir, 'models.json'), 'utf8'));
    } catch {
      continue; // not a model folder
    }
    found.push({
      dir,
      id: String(json.id ?? name),
      modelType: String(json.converter?.modelType ?? 'unknown'),
      source: String(json.converter?.source ?? ''),
      bytes: folderBytes(dir),
      current: json.converter?.version === CONVERTER_VERSION,
    });
  }
  return found.sort((a, b) => b.bytes - a.bytes);
}

/** Deletes a converted model; refuses anything outside cacheRoot. */
export function deleteConverted(cacheRoot: string, dir: string): void {
  const rel = path.relative(path.resolve(cacheRoot), path.resolve(dir));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) || rel.includes(path.sep)) throw new Error(`${dir} is not a converted model in ${cacheRoot}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

export function folderBytes(dir: string): number {
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) bytes += folderBytes(full);
    else bytes += fs.statSync(full).size; // symlinks: the blob's size
  }
  return bytes;
}

/** Where hub caches may be: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub (those set, in that order). */
export function hubCacheLocations(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = [env.HF_HUB_CACHE, env.HF_HOME && path.join(env.HF_HOME, 'hub'), path.join(env.HOME || os.homedir(), '.cache', 'huggingface', 'hub')];
  return [...new Set(roots.filter((r): r is string => !!r).map((r) => path.resolve(r)))];
}

/** The hub caches to look in: the existing ones of hubCacheLocations. */
function hubCacheRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  return hubCacheLocations(env).filter((r) => fs.existsSync(r));
}

export interface HubSnapshot {
  /** "org/name" from the cache's models--org--name folder. */
  modelId: string;
  revision: string;
  dir: string;
  modelType: string;
  architecture: string;
  bytes: number;
  /** Why it cannot be converted, or null. */
  unsupported: string | null;
}

/** Every model snapshot with a config.json in the hub caches. */
export function listHubSnapshots(env: NodeJS.ProcessEnv = process.env): HubSnapshot[] {
  const found: HubSnapshot[] = [];
  for (const root of hubCacheRoots(env)) {
    for (const repo of fs.readdirSync(root)) {
      if (!repo.startsWith('models--')) continue;
      const snapshots = path.join(root, repo, 'snapshots');
      if (!fs.existsSync(snapshots)) continue;
      for (const revision of fs.readdirSync(snapshots)) {
        const dir = path.join(snapshots, revision);
        if (!fs.existsSync(path.join(dir, 'config.json'))) continue;
        let modelType = 'unknown';
        let architecture = 'unknown';
        let bytes = 0;
        let unsupported: string | null;
        try {
          bytes = folderBytes(dir); // a dangling blob link throws: that snapshot is unusable, not the list
          const cfg = readConfigJson(dir);
          modelType = modelTypeOf(cfg);
          architecture = Array.isArray(cfg.architectures) ? String(cfg.architectures[0]) : modelType;
          unsupported = unsupportedReason(cfg);
          if (!unsupported && !fs.existsSync(path.join(dir, 'model.safetensors')) && !fs.existsSync(path.join(dir, 'model.safetensors.index.json'))) {
            unsupported = 'no safetensors weights in this snapshot';
          } else if (!unsupported && !fs.existsSync(path.join(dir, 'tokenizer.json'))) {
            unsupported = 'no tokenizer.json in this snapshot';
          }
        } catch (err) {
          unsupported = (err as Error).message;
        }
        found.push({ modelId: repo.slice('models--'.length).replace(/--/g, '/'), revision, dir, modelType, architecture, bytes, unsupported });
      }
    }
  }
  return found.sort((a, b) => a.modelId.localeCompare(b.modelId));
}
