// Runs inspections of documents and keeps the latest one per document: one run per document at
// a time (a new run or an edit aborts the stale one), a progress notification with Cancel, and
// background runs of the other modes for hovers and the fading chart.
import * as vscode from 'vscode';
import type { InspectRequest } from '../core/inspection-engine';
import type { Mode } from '../shared/vocabulary';
import type { Inspection } from '../core/inspection-types';
import type { Config } from './config';
import { MODE_LABELS } from './config';
import type { ModelHost } from './model-host';

export interface DocInspection {
  uri: string;
  version: number;
  request: InspectRequest;
  inspection: Inspection;
  /** [token]: editor range of each token, computed once per inspection. */
  ranges: vscode.Range[];
}

export type ProgressKind = 'notification' | 'window';

interface Run {
  controller: AbortController;
  version: number;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

export class Inspector implements vscode.Disposable {
  private readonly results = new Map<string, DocInspection>();
  private readonly runs = new Map<string, Run>();
  private readonly background = new Map<string, Promise<Inspection | undefined>>();
  private readonly changed = new vscode.EventEmitter<string>();
  private readonly busyChanged = new vscode.EventEmitter<boolean>();
  /** Fires with a document uri when its inspection was replaced or cleared. */
  readonly onDidChange = this.changed.event;
  readonly onDidChangeBusy = this.busyChanged.event;

  constructor(
    private readonly models: ModelHost,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get busy(): boolean {
    return this.runs.size > 0;
  }

  get(uri: vscode.Uri | string): DocInspection | undefined {
    return this.results.get(uri.toString());
  }

  all(): DocInspection[] {
    return [...this.results.values()];
  }

  /**
   * Inspects the document in the current mode. Resolves to undefined when the run was cancelled
   * or went stale (the document changed meanwhile); throws on real errors.
   */
  async inspect(doc: vscode.TextDocument, focusOffset: number | undefined, progress: ProgressKind): Promise<DocInspection | undefined> {
    const uri = doc.uri.toString();
    this.cancel(uri);
    const text = doc.getText();
    const mode = this.config.mode;
    const version = doc.version;
    const request: InspectRequest = {
      text,
      mode,
      focusOffset,
      maxTokens: this.config.maxTokens || undefined,
      cacheKey: `${uri}@${version}`,
    };
    const run: Run = { controller: new AbortController(), version };
    this.runs.set(uri, run);
    this.busyChanged.fire(true);
    const started = performance.now();
    try {
      const title = `Attention Lens: inspecting ${displayName(doc)} (${MODE_LABELS[mode]})`;
      const inspection = await vscode.window.withProgress(
        {
          location: progress === 'notification' ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
          title,
          cancellable: progress === 'notification',
        },
        async (_p, token) => {
          const sub = token.onCancellationRequested(() => run.controller.abort());
          try {
            const engine = await this.models.get();
            return await engine.inspect(request, run.controller.signal);
          } finally {
            sub.dispose();
          }
        },
      );
      if (run.controller.signal.aborted || doc.version !== version) {
        this.log.info(`inspection of ${displayName(doc)} discarded: the document changed or the run was cancelled`);
        return undefined;
      }
      const t = inspection.timings;
      this.log.info(
        `inspected ${displayName(doc)} (${mode}): ${inspection.tokens.length} tokens${inspection.windowed ? ` (window of ${inspection.documentTokens})` : ''}, ` +
          `tokenize ${t.tokenizeMs.toFixed(0)} ms, model ${t.inferenceMs.toFixed(0)} ms, total ${(performance.now() - started).toFixed(0)} ms`,
      );
      const result: DocInspection = { uri, version, request, inspection, ranges: tokenRanges(doc, inspection) };
      this.results.set(uri, result);
      this.changed.fire(uri);
      return result;
    } catch (err) {
      if (isAbortError(err)) {
        this.log.info(`inspection of ${displayName(doc)} cancelled`);
        return undefined;
      }
      throw err;
    } finally {
      if (this.runs.get(uri) === run) this.runs.delete(uri);
      this.busyChanged.fire(this.busy);
    }
  }

  /** The same document inspected in another mode, if the engine has it cached (synchronous, for hovers). */
  cachedIn(doc: DocInspection, mode: Mode): Inspection | undefined {
    if (doc.inspection.mode === mode) return doc.inspection;
    return this.models.current?.cached({ ...doc.request, mode });
  }

  /** Computes another mode for the same text in the background, once; quiet on failure (logged). */
  ensureIn(doc: DocInspection, mode: Mode): Promise<Inspection | undefined> {
    const cached = this.cachedIn(doc, mode);
    if (cached) return Promise.resolve(cached);
    const key = `${doc.request.cacheKey}#${mode}`;
    let p = this.background.get(key);
    if (!p) {
      p = this.models
        .get()
        .then((engine) => (engine.modes.includes(mode) ? engine.inspect({ ...doc.request, mode }) : undefined))
        .catch((err: unknown) => {
          this.log.warn(`background inspection (${mode}) failed: ${err instanceof Error ? err.message : String(err)}`);
          return undefined;
        })
        .finally(() => this.background.delete(key));
      this.background.set(key, p);
    }
    return p;
  }

  /** Aborts the running inspection of a document, if any. */
  cancel(uri: string): void {
    const run = this.runs.get(uri);
    if (!run) return;
    run.controller.abort();
    this.runs.delete(uri);
    this.busyChanged.fire(this.busy);
  }

  /** Forgets one document's inspection, or all of them. */
  clear(uri?: string): void {
    const uris = uri === undefined ? [...new Set([...this.results.keys(), ...this.runs.keys()])] : [uri];
    for (const u of uris) {
      this.cancel(u);
      if (this.results.delete(u)) this.changed.fire(u);
    }
  }

  dispose(): void {
    for (const run of this.runs.values()) run.controller.abort();
    this.runs.clear();
    this.results.clear();
    this.changed.dispose();
    this.busyChanged.dispose();
  }
}

function tokenRanges(doc: vscode.TextDocument, insp: Inspection): vscode.Range[] {
  return insp.tokens.map((t) => new vscode.Range(doc.positionAt(t.start), doc.positionAt(t.end)));
}

export function displayName(doc: vscode.TextDocument): string {
  return doc.isUntitled ? doc.uri.path : vscode.workspace.asRelativePath(doc.uri);
}
