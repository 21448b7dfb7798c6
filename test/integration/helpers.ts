// Shared steps for the integration suites: activate the extension, open sample files, read the
// state snapshot (the API activate() returns with ATTENTION_LENS_PROBE=1, which the harness sets),
// wait for asynchronous effects, and restore settings afterwards.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ProbeHandle } from '../../src/extension/extension';
import type { StateSnapshot } from './state';
import { stateSnapshot } from './state';

export const EXTENSION_ID = 'attention-lens.attention-lens';

export async function activate(): Promise<ProbeHandle> {
  const ext = vscode.extensions.getExtension<ProbeHandle | undefined>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  const api = await ext.activate();
  assert.ok(api, 'the probe is on (ATTENTION_LENS_PROBE=1): activate() returns the root and the probe');
  return api;
}

export async function state(ranges = false): Promise<StateSnapshot> {
  const { root, probe } = await activate();
  return stateSnapshot(root, probe, ranges);
}

export function sampleUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace (a copy of samples/) is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

export async function openSample(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(sampleUri(name));
  return vscode.window.showTextDocument(doc, { preview: false });
}

/** Polls until `check` returns a value (not undefined/false) or the time runs out. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) { const st = await state(); throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify({ mode: st.mode, busy: st.busy, insp: st.inspection, siblings: st.siblings, err: st.lastError, status: st.statusText })}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `work` while a 10 ms timer watches the extension host's event loop; the longest gap it saw. */
export async function withStallWatch<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  try {
    const result = await work();
    return { result, stallMs: Math.max(stallMs, performance.now() - last) };
  } finally {
    clearInterval(ticker);
  }
}

/** Inspects the active editor and returns the snapshot; fails with the extension's error if any. */
export async function inspectActive(): Promise<StateSnapshot> {
  await vscode.commands.executeCommand('attentionLens.inspect');
  const s = await state();
  assert.equal(s.lastError, null, `inspection failed: ${s.lastError}`);
  assert.ok(s.inspection, 'the active document has an inspection');
  return s;
}

const KEYS = ['mode', 'layer', 'head', 'followCursor', 'liveMode', 'liveDebounceMs', 'maxTokens', 'colorScale', 'backgroundRuns'];

/** Puts every setting the suites touch back to its default (global target), and the view to those defaults. */
export async function resetSettings(): Promise<void> {
  const config = vscode.workspace.getConfiguration('attentionLens');
  for (const key of KEYS) {
    if (config.inspect(key)?.globalValue !== undefined) await config.update(key, undefined, vscode.ConfigurationTarget.Global);
  }
  // Commands change the view (mode, head, Compare) without touching settings.
  await vscode.commands.executeCommand('attentionLens.compare', false);
  await vscode.commands.executeCommand('attentionLens.switchAttention', 'softmax');
  await vscode.commands.executeCommand('attentionLens.selectHead', 'mean');
}

/** Closes every editor, reverting dirty ones first (closing a dirty editor would open a save prompt). */
export async function closeAllEditors(): Promise<void> {
  for (const doc of vscode.workspace.textDocuments.filter((d) => d.isDirty)) {
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** Offset of the first occurrence of `needle` in the document (fails when absent). */
export function offsetOf(doc: vscode.TextDocument, needle: string): number {
  const i = doc.getText().indexOf(needle);
  assert.ok(i >= 0, `"${needle}" occurs in ${doc.uri.path}`);
  return i;
}

/** Registers the per-suite start (activated, default settings) and the per-test cleanup
 *  (overlay cleared, default settings, no editors) shared by the feature suites. */
export function startCleanEachTest(): void {
  suiteSetup(async () => {
    await activate();
    await resetSettings();
  });
  teardown(async () => {
    await vscode.commands.executeCommand('attentionLens.clear');
    await resetSettings();
    await closeAllEditors();
  });
}
