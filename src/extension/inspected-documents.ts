// The extension's handle on core's per-document sessions: one DocumentSession per open document
// (caching, in-flight runs, cancellation live there) and the inspection each editor shows, with
// its token ranges. Adds what only VS Code has: progress with Cancel, and change events.
import * as vscode from 'vscode';
import type { Probe } from './probe';
import { DocumentSession } from '../core/engine/document-session';
import type { ResumePoint } from '../core/engine/runner';
import type { Inspection } from '../core/inspection-types';
import { incrementalNote } from '../core/reading/analysis';
import type { ModelRunner } from '../core/engine/runner';
import { SiblingRuns } from '../core/engine/sibling-runs';
import type { Mode } from '../shared/vocabulary';
import { MODE_LABELS } from '../shared/vocabulary';
import { partnerOf } from '../shared/compare';
import type { Config } from './config';
import type { ModelLoader } from './model-loader';

/** The inspection an editor shows for one version of its document. */
export interface ShownInspection {
  uri: string;
  version: number;
  inspection: Inspection;
  /** [token]: editor range of each token, computed once per inspection. */
  ranges: vscode.Range[];
}

export type ProgressKind = 'notification' | 'window';

interface DocumentEntry {
  session: DocumentSession;
  shown?: ShownInspection;
}

export class InspectedDocuments implements vscode.Disposable {
  private readonly entries = new Map<string, DocumentEntry>();
  /** Of documents cleared by an edit: their last foreground run, which the next Inspect may resume from. */
  private readonly resumable = new Map<string, { runner: ModelRunner; points: ResumePoint[] }>();
  /** Inspections waiting for the model to load. */
  private loading = 0;
  private readonly changed = new vscode.EventEmitter<string>();
  private readonly busyChanged = new vscode.EventEmitter<boolean>();
  private readonly siblingsChanged = new vscode.EventEmitter<void>();
  /** The shown inspections' other modes, run in the background at idle priority. */
  readonly siblings: SiblingRuns;

  constructor(
    private readonly models: ModelLoader,
    private readonly config: Config,
    private readonly view: { readonly mode: Mode },
    private readonly log: vscode.LogOutputChannel,
    private readonly probe: Probe,
  ) {
    this.siblings = new SiblingRuns(
      () => this.busy,
      (line) => this.log.warn(line),
      () => this.siblingsChanged.fire(),
    );
    // A foreground run takes the worker from a sibling run; the siblings go on once it is idle.
    this.busyChanged.event((busy) => (busy ? this.siblings.pause() : this.siblings.pump()));
  }

  /** Fires with a document uri when its shown inspection was replaced or cleared. */
  get onDidChange(): vscode.Event<string> {
    return this.changed.event;
  }

  get onDidChangeBusy(): vscode.Event<boolean> {
    return this.busyChanged.event;
  }

  /** Fires when a sibling run is planned, starts, yields, settles or is cancelled. */
  get onDidChangeSiblings(): vscode.Event<void> {
    return this.siblingsChanged.event;
  }

  /** The modes of a shown inspection still computing in the background. */
  computingIn(doc: ShownInspection): Mode[] {
    return (this.entries.get(doc.uri)?.session.runner.modes ?? []).filter((m) => {
      const state = this.siblings.status(doc.uri, doc.inspection, m)?.state;
      return state === 'queued' || state === 'running';
    });
  }

  get busy(): boolean {
    return this.loading > 0 || [...this.entries.values()].some((e) => e.session.busy);
  }

  get(uri: vscode.Uri | string): ShownInspection | undefined {
    return this.entries.get(uri.toString())?.shown;
  }

  all(): ShownInspection[] {
    return [...this.entries.values()].flatMap((e) => (e.shown ? [e.shown] : []));
  }

  /** The shown inspection with this id, if it is still shown. */
  byId(id: number): ShownInspection | undefined {
    return this.all().find((d) => d.inspection.id === id);
  }

  /**
   * Inspects the document in the current mode. Resolves to undefined when the run was cancelled
   * or went stale (the document changed meanwhile); throws on real errors.
   */
  async inspect(doc: vscode.TextDocument, centerOffset: number | undefined, progress: ProgressKind): Promise<ShownInspection | undefined> {
    const uri = doc.uri.toString();
    const mode = this.view.mode;
    const version = doc.version;
    const request = { text: doc.getText(), mode, centerOffset, maxTokens: this.config.maxTokens || undefined, cacheKey: `${uri}@${version}` };
    let partner: Mode | undefined;
    this.cancel(uri);
    this.loading++;
    this.busyChanged.fire(true);
    const started = performance.now();
    let entry: DocumentEntry | undefined;
    try {
      const inspection = await vscode.window.withProgress(
        {
          location: progress === 'notification' ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
          title: `Attention Lens: inspecting ${displayName(doc)} (${MODE_LABELS[mode]})`,
          cancellable: progress === 'notification',
        },
        async (report, token) => {
          // The first inspection loads the model: busy and cancellable meanwhile.
          const runner = await this.models.get();
          this.loading--;
          partner = this.partnerOf(runner, mode);
          entry = this.entryFor(uri, runner);
          if (token.isCancellationRequested) return undefined;
          const session = entry.session;
          const sub = token.onCancellationRequested(() => session.cancel());
          let shown = 0;
          let reports = 0;
          this.probe.record({ progressReports: 0, lastProgress: 0 });
          const onProgress = (done: number): void => {
            this.probe.record({ progressReports: ++reports, lastProgress: done });
            const percent = Math.floor(done * 100);
            if (percent <= shown) return;
            report.report({ increment: percent - shown, message: `${percent}%` });
            shown = percent;
          };
          try {
            // The worker keeps the partner's run beside this one (where the budget allows), so both resume after an edit.
            return await session.runForeground({ ...request, keptRuns: partner ? 2 : 1 }, onProgress);
          } finally {
            sub.dispose();
          }
        },
      );
      if (!inspection || !entry || doc.version !== version || this.entries.get(uri) !== entry) {
        this.log.info(`inspection of ${displayName(doc)} discarded: the document changed or the run was cancelled`);
        return undefined;
      }
      const t = inspection.timings;
      this.log.info(
        `inspected ${displayName(doc)} (${mode}): ${inspection.tokens.length} tokens${inspection.windowed ? ` (window of ${inspection.documentTokensEstimated ? 'about ' : ''}${inspection.documentTokens})` : ''}, ` +
          `${incrementalNote(inspection) ?? 'full run'}, ` +
          `tokenize ${t.tokenizeMs.toFixed(0)} ms, model ${t.inferenceMs.toFixed(0)} ms, total ${(performance.now() - started).toFixed(0)} ms`,
      );
      entry.shown = { uri, version, inspection, ranges: tokenRanges(doc, inspection) };
      if (partner) this.siblings.schedule(uri, entry.session, inspection, [partner], true);
      this.changed.fire(uri);
      return entry.shown;
    } finally {
      if (!entry) this.loading--;
      this.busyChanged.fire(this.busy);
    }
  }

  /** The document's session on this runner: a new model means new sessions. */
  private entryFor(uri: string, runner: ModelRunner): DocumentEntry {
    let entry = this.entries.get(uri);
    if (!entry || entry.session.runner !== runner) {
      entry?.session.dispose();
      // One window in every mode: the shown one and its sibling runs (which the hover and Compare
      // read). Fewer would evict the shown mode or Compare's pair as the siblings land. Sessions
      // live as long as their document, so a small cache each keeps the whole bounded.
      const kept = this.resumable.get(uri);
      this.resumable.delete(uri);
      entry = { session: new DocumentSession(runner, { cacheSize: Math.max(4, runner.modes.length), resumeFrom: kept?.runner === runner ? kept.points : undefined }) };
      this.entries.set(uri, entry);
    }
    return entry;
  }

  /** The same window of a shown document in another mode, if cached (synchronous, for hovers). */
  cachedIn(doc: ShownInspection, mode: Mode): Inspection | undefined {
    return this.entries.get(doc.uri)?.session.cachedSibling(doc.inspection, mode);
  }

  /** The mode computed beside the shown one in the background; undefined when background runs are off or the model has one mode. */
  private partnerOf(runner: ModelRunner, mode: Mode): Mode | undefined {
    return this.config.backgroundRuns ? partnerOf(runner.modes, mode) : undefined;
  }

  /** Runs these modes of a shown inspection in the background where missing and not under way (a hover asks; e.g. one left the cache). */
  ensureSiblings(doc: ShownInspection, modes: readonly Mode[]): void {
    const entry = this.entries.get(doc.uri);
    if (!entry || entry.shown !== doc) return;
    const again = modes.filter((m) => {
      const state = this.siblings.status(doc.uri, doc.inspection, m)?.state;
      return !entry.session.cachedSibling(doc.inspection, m) && (state === undefined || state === 'done');
    });
    const partner = this.partnerOf(entry.session.runner, doc.inspection.mode);
    for (const m of again) this.siblings.schedule(doc.uri, entry.session, doc.inspection, [m], m === partner);
  }

  /** Computes another mode of the same window in the background; quiet on failure (logged). */
  async ensureIn(doc: ShownInspection, mode: Mode): Promise<Inspection | undefined> {
    try {
      return await this.entries.get(doc.uri)?.session.sibling(doc.inspection, mode);
    } catch (err) {
      this.log.warn(`background inspection (${mode}) failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** Aborts the running inspection of a document and its sibling runs, if any. */
  cancel(uri: string): void {
    this.siblings.cancel(uri);
    const session = this.entries.get(uri)?.session;
    if (!session?.busy) return;
    session.cancel();
    this.busyChanged.fire(this.busy);
  }

  /** Forgets one document's inspections, or every document's; after an edit (`edited`), the next Inspect may still resume from its last run. */
  clear(uri?: string, edited = false): void {
    const uris = uri === undefined ? [...this.entries.keys()] : [uri];
    for (const u of uris) {
      this.resumable.delete(u);
      const entry = this.entries.get(u);
      if (!entry) continue;
      const points = entry.session.resumable;
      if (edited && points.length > 0) this.resumable.set(u, { runner: entry.session.runner, points });
      this.siblings.cancel(u);
      entry.session.dispose();
      this.entries.delete(u);
      if (entry.shown) this.changed.fire(u);
    }
    this.busyChanged.fire(this.busy);
  }

  dispose(): void {
    this.siblings.dispose();
    for (const entry of this.entries.values()) entry.session.dispose();
    this.entries.clear();
    this.resumable.clear();
    this.changed.dispose();
    this.busyChanged.dispose();
    this.siblingsChanged.dispose();
  }
}

function tokenRanges(doc: vscode.TextDocument, insp: Inspection): vscode.Range[] {
  return insp.tokens.map((t) => new vscode.Range(doc.positionAt(t.start), doc.positionAt(t.end)));
}

/** The document as messages name it: its path in the workspace (an untitled one's own name). */
export function displayName(doc: vscode.TextDocument): string {
  return doc.isUntitled ? doc.uri.path : vscode.workspace.asRelativePath(doc.uri);
}

/** The last segment of a document's path: the panel's title, an export's file and title. */
export function fileName(uri: vscode.Uri): string {
  return uri.path.split('/').pop() ?? '';
}
