// One document's inspections: the one owner of caching, in-flight runs and cancellation. The
// extension keeps one session per open document, the CLI one for its file. A request is served
// from the cache, joins an identical run in flight, or starts a run; a request whose signal
// aborts is abandoned (and skipped if its run has not started and nobody else waits for it).
import * as crypto from 'node:crypto';
import type { Mode } from '../../shared/vocabulary';
import type { Inspection } from '../inspection-types';
import { abortError, isAbortError } from './abort';
import { inspectionBytes } from './memory-plan';
import type { InspectRequest, InspectionCache, ModelRunner, ProgressListener, ResumePoint, TokenWindow } from './runner';
import { tokenIndex, windowStart } from '../model/tokenizer';
import type { DocumentTokens } from './token-window';
import { holdsWindow } from './token-window';

/** Characters hashed at once (2 MB of UTF-16). */
const HASH_SLICE = 1 << 20;

export interface SessionOptions {
  /** Inspections kept (each is O(L * H * T * topK)); default 8: every mode of two windows, with room. */
  cacheSize?: number;
  /** The kept runs of an earlier session of this document (its `resumable`): the first runs here may resume from them. */
  resumeFrom?: readonly ResumePoint[];
}

interface CacheEntry {
  req: InspectRequest;
  base: string;
  /** Text, model and limit: entries sharing it may share a window whatever their mode and queries. */
  windowKey: string;
  inspection: Inspection;
  /** inspectionBytes of the inspection, and when the entry was last used (performance.now()). */
  bytes: number;
  usedAt: number;
}

interface InFlight {
  promise: Promise<CacheEntry>;
  waiters: number;
  /** Aborts the run when its last waiter leaves. */
  controller: AbortController;
}

export class DocumentSession implements InspectionCache {
  /** Least recently used first. */
  private readonly cache = new Map<string, CacheEntry>();
  private cacheBytes = 0;
  private readonly inFlight = new Map<string, InFlight>();
  /** The last text tokenized (all of it, or the stretch of a long one around the last window): a session sees one document. */
  private encoding: { key: string; text: string; enc: DocumentTokens } | undefined;
  private readonly cacheSize: number;
  /** The run the user waits for (Inspect, Live Mode); a new one supersedes it. */
  private foreground: AbortController | undefined;
  /** The last kept run per mode: the next one in that mode and window resumes from it (the worker checks the tokens). */
  private readonly previous = new Map<Mode, ResumePoint>();

  constructor(
    readonly runner: ModelRunner,
    options: SessionOptions = {},
  ) {
    this.cacheSize = Math.max(1, options.cacheSize ?? 8);
    for (const point of options.resumeFrom ?? []) this.previous.set(point.mode, point);
    runner.addCache(this);
  }

  get cachedBytes(): number {
    return this.cacheBytes;
  }

  oldestUse(): number | undefined {
    return this.cache.values().next().value?.usedAt;
  }

  dropOldest(): number {
    const key = this.cache.keys().next().value;
    return key === undefined ? 0 : this.drop(key);
  }

  /** What a later session of this document may resume from. */
  get resumable(): ResumePoint[] {
    return [...this.previous.values()];
  }

  /** True while a foreground run is under way. */
  get busy(): boolean {
    return this.foreground !== undefined;
  }

  /** Synchronous cache lookup (hovers): an inspection of this text and mode whose range holds the center. */
  cached(req: InspectRequest): Inspection | undefined {
    const base = this.baseKey(req, this.docKey(req));
    const center = req.centerOffset ?? req.queryOffsets?.[0] ?? 0;
    for (const [key, entry] of this.cache) {
      if (entry.base !== base) continue;
      const r = entry.inspection.range;
      if (!entry.inspection.windowed || (center >= r.start && center <= r.end)) {
        this.touch(key, entry);
        return entry.inspection;
      }
    }
    return undefined;
  }

  /** The same text and window as `insp` in another mode, if cached (synchronous, for hovers). */
  cachedSibling(insp: Inspection, mode: Mode): Inspection | undefined {
    if (insp.mode === mode) return insp;
    const req = this.requestOf(insp);
    return req && this.cached({ ...req, mode });
  }

  /**
   * The same text and window as `insp` in another mode: cached, joined or run in the background.
   * Undefined when the model has no such mode or `insp` left the cache. `signal` and `onProgress`
   * as for inspect(). With `keep`, the worker keeps its keys beside the shown run's, so that its
   * next run after an edit resumes from them.
   */
  async sibling(insp: Inspection, mode: Mode, signal?: AbortSignal, onProgress?: ProgressListener, keep = false): Promise<Inspection | undefined> {
    const req = this.requestOf(insp);
    if (!req || !this.runner.modes.includes(mode)) return undefined;
    return this.inspect({ ...req, mode, keepKeys: keep, keptRuns: 2 }, signal, onProgress);
  }

  /**
   * Cached, joined or run; rejects with an AbortError when the signal aborts first. A run that
   * starts here reports its progress to onProgress; one that is joined does not. A run that keeps
   * its keys recomputes only from the first token that differs from the last kept run's of its mode, when that
   * was of the same mode and window.
   */
  async inspect(req: InspectRequest, signal?: AbortSignal, onProgress?: ProgressListener): Promise<Inspection> {
    if (signal?.aborted) throw abortError();
    const docKey = this.docKey(req);
    const base = this.baseKey(req, docKey);
    let windowKey = '';
    const plan = await this.runner.plan(req, {
      tokens: (maxTokens, center) => this.encode(docKey, req.text, center, maxTokens),
      window: (enc, center, maxTokens) => {
        windowKey = JSON.stringify([docKey, this.runner.model.id, maxTokens]);
        return this.chooseWindow(windowKey, enc, req.text.length, center, maxTokens);
      },
      previous: this.previous.get(req.mode),
    });
    if (signal?.aborted) throw abortError(); // aborted while the tokenizer ran
    const { enc, window } = plan;
    const key = `${base}|${enc.starts[window.first]}:${enc.ends[window.end - 1]}`; // document offsets: a stretch's indices are its own
    const hit = this.cache.get(key);
    if (hit) {
      this.touch(key, hit);
      return hit.inspection;
    }
    let flight = this.inFlight.get(key);
    // A run its last waiter gave up on is stopping: start afresh rather than join it (a mode switch
    // cancels the background run of that very mode just before asking for it).
    if (!flight || flight.controller.signal.aborted) {
      const controller = new AbortController();
      const promise = this.runner
        .run(plan, controller.signal, onProgress)
        .then((inspection): CacheEntry => {
          const entry = { req, base, windowKey, inspection, bytes: inspectionBytes(inspection), usedAt: 0 };
          this.touch(key, entry);
          if (inspection.runId !== undefined) this.previous.set(req.mode, { runId: inspection.runId, mode: req.mode, modelId: inspection.model.id, start: inspection.range.start });
          return entry;
        })
        .finally(() => {
          if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
        });
      flight = { promise, waiters: 0, controller };
      this.inFlight.set(key, flight);
    }
    const entry = await wait(flight, signal);
    this.touch(key, entry);
    return entry.inspection;
  }

  /**
   * The run the user waits for: aborts the previous foreground run, and resolves to undefined
   * when this one is cancelled or superseded; throws on real errors.
   */
  async runForeground(req: InspectRequest, onProgress?: ProgressListener): Promise<Inspection | undefined> {
    this.cancel();
    const controller = new AbortController();
    this.foreground = controller;
    try {
      return await this.inspect(req, controller.signal, onProgress);
    } catch (err) {
      if (isAbortError(err)) return undefined;
      throw err;
    } finally {
      if (this.foreground === controller) this.foreground = undefined;
    }
  }

  /** Aborts the foreground run, if any. */
  cancel(): void {
    this.foreground?.abort();
    this.foreground = undefined;
  }

  dispose(): void {
    this.cancel();
    this.cache.clear();
    this.cacheBytes = 0;
    this.encoding = undefined;
    this.runner.removeCache(this);
  }

  private requestOf(insp: Inspection): InspectRequest | undefined {
    for (const entry of this.cache.values()) {
      if (entry.inspection !== insp) continue;
      // Its center picked (or kept) this window: the sibling lands in the same one.
      const req = entry.req;
      return { ...req, centerOffset: req.centerOffset ?? req.queryOffsets?.[0], queryOffsets: undefined };
    }
    return undefined;
  }

  private docKey(req: InspectRequest): string {
    if (req.cacheKey !== undefined) return req.cacheKey;
    // In slices: the text of a huge file as one buffer would take twice its length again.
    const hash = crypto.createHash('sha1');
    for (let i = 0; i < req.text.length; i += HASH_SLICE) hash.update(req.text.slice(i, i + HASH_SLICE), 'utf16le');
    return `sha1:${hash.digest('base64')}`;
  }

  private baseKey(req: InspectRequest, docKey: string): string {
    const maxTokens = req.maxTokens ?? this.runner.defaultMaxTokens;
    return JSON.stringify([docKey, req.mode, this.runner.model.id, maxTokens, req.queryOffsets ?? []]);
  }

  /** The document's tokens, or (a long document) a stretch holding the window around the center: the cached stretch while it holds one. */
  private async encode(key: string, text: string, center: number, maxTokens: number): Promise<DocumentTokens> {
    const cached = this.encoding?.key === key && this.encoding.text === text ? this.encoding.enc : undefined;
    if (cached && (!cached.estimated || holdsWindow(cached, text.length, center, maxTokens))) return cached;
    const enc = await this.runner.documentTokens(text, center, maxTokens);
    this.encoding = { key, text, enc };
    return enc;
  }

  /**
   * The whole document when it fits; else maxTokens tokens centred on the center token. A cached
   * window (of any mode or query set) is reused while the center stays in its middle half (or near
   * the document edge it touches) and the tokens at hand hold it: switching modes keeps the same
   * tokens in view, and moving the cursor does not move the window at every step. Windows are
   * compared by document offsets: a long document's tokens are a stretch that may move.
   */
  private chooseWindow(windowKey: string, enc: DocumentTokens, textLength: number, center: number, maxTokens: number): TokenWindow {
    const n = enc.ids.length;
    if (!enc.estimated && n <= maxTokens) return { first: 0, end: n };
    const margin = Math.floor(maxTokens / 4);
    for (const entry of this.cache.values()) {
      if (entry.windowKey !== windowKey) continue;
      const { tokens, range } = entry.inspection;
      const T = tokens.length;
      const first = windowStart(enc, range.start, range.end, T);
      if (first < 0) continue;
      const lo = first === 0 && enc.starts[0] === 0 ? -Infinity : enc.starts[first + margin];
      const end = first + T - margin;
      const hi = first + T === n && enc.ends[n - 1] === textLength ? Infinity : end < n ? enc.starts[end] : enc.ends[n - 1];
      if (center >= lo && center < hi) return { first, end: first + T };
    }
    const first = Math.max(0, Math.min(tokenIndex(enc, center) - Math.floor(maxTokens / 2), n - maxTokens));
    return { first, end: Math.min(n, first + maxTokens) };
  }

  /** Inserts or refreshes a cache entry as most recently used, evicting the oldest. */
  private touch(key: string, entry: CacheEntry): void {
    if (this.cache.has(key)) this.drop(key);
    entry.usedAt = performance.now();
    this.cache.set(key, entry);
    this.cacheBytes += entry.bytes;
    while (this.cache.size > this.cacheSize) this.dropOldest();
  }

  private drop(key: string): number {
    const bytes = this.cache.get(key)?.bytes ?? 0;
    this.cache.delete(key);
    this.cacheBytes -= bytes;
    return bytes;
  }
}

/** Waits for a shared run; an abort rejects this waiter only, and a run nobody waits for is skipped. */
function wait(flight: InFlight, signal?: AbortSignal): Promise<CacheEntry> {
  flight.waiters++;
  return new Promise<CacheEntry>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void): void => {
      signal?.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      flight.waiters--;
      done();
    };
    const onAbort = (): void =>
      settle(() => {
        if (flight.waiters === 0) flight.controller.abort(); // nobody waits: stop the run between graph calls
        reject(abortError());
      });
    signal?.addEventListener('abort', onAbort, { once: true });
    flight.promise.then(
      (entry) => settle(() => resolve(entry)),
      (err: unknown) => settle(() => reject(err)),
    );
  });
}
