// What the model pickers list: the model's modes (Switch Attention), Hugging Face cache snapshots and
// converted models as QuickPick items, and the messages around them. Pure (no vscode import), so the
// unit suite checks the wording.
import type { ConvertProgress } from '../core/convert/convert-model';
import type { ConvertedModel, HubSnapshot } from '../core/convert/model-store';
import type { Mode } from '../shared/vocabulary';
import { MODE_DETAILS, MODE_LABELS } from '../shared/vocabulary';

const MB = 1024 * 1024;
const GB = 1024 * MB;

export interface SnapshotItem {
  label: string;
  description: string;
  detail: string;
  snapshot: HubSnapshot;
}

export interface ConvertedItem {
  label: string;
  description: string;
  detail: string;
  model: ConvertedModel;
}

export interface ModeItem {
  label: string;
  description: string | undefined;
  detail: string;
  mode: Mode;
}

/** Switch Attention's items: each of the model's modes with what it runs (a screening twin: relevance, not weights). */
export function modeItems(modes: readonly Mode[], current: Mode): ModeItem[] {
  return modes.map((mode) => ({ label: MODE_LABELS[mode], description: mode === current ? '(current)' : undefined, detail: MODE_DETAILS[mode], mode }));
}

/** Size on disk: "< 0.1 MB", "0.2 MB", "257 MB", "1.4 GB". */
export function sizeOnDisk(bytes: number): string {
  if (bytes >= GB) return `${(bytes / GB).toFixed(1)} GB`;
  if (bytes < 0.05 * MB) return '< 0.1 MB';
  return `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;
}

/** One item per snapshot, the supported ones first (the highlighted item is one that opens); a model cached at several revisions names each revision. */
export function snapshotItems(snapshots: readonly HubSnapshot[]): SnapshotItem[] {
  const count = new Map<string, number>();
  for (const s of snapshots) count.set(s.modelId, (count.get(s.modelId) ?? 0) + 1);
  const supportedFirst = [...snapshots.filter((s) => s.unsupported === null), ...snapshots.filter((s) => s.unsupported !== null)];
  return supportedFirst.map((snapshot) => {
    const revision = (count.get(snapshot.modelId) ?? 0) > 1 ? ` · ${snapshot.revision.slice(0, 8)}` : '';
    return {
      label: snapshot.modelId,
      description: `${snapshot.architecture} · ${sizeOnDisk(snapshot.bytes)}${revision}`,
      // The reason's first clause fits the line; picking the item shows all of it.
      detail: snapshot.unsupported?.split('; ')[0] ?? 'supported',
      snapshot,
    };
  });
}

/** One item per converted model; `inUse` is the folder of attentionLens.modelPath. */
export function convertedItems(models: readonly ConvertedModel[], inUse: (dir: string) => boolean): ConvertedItem[] {
  return models.map((model) => {
    const notes = [model.current ? '' : ' (stale: older converter)', inUse(model.dir) ? ' (in use)' : ''].join('');
    return {
      label: model.id,
      description: `${model.modelType} · ${sizeOnDisk(model.bytes)}${notes}`,
      detail: model.source === '' ? model.dir : `from ${model.source}`,
      model,
    };
  });
}

/** The progress notification's line. */
export function progressMessage(p: ConvertProgress): string {
  return `${p.tensors} of ${p.tensorsTotal} tensors, ${(p.bytes / MB).toFixed(1)} of ${(p.bytesTotal / MB).toFixed(1)} MB`;
}

/** Said when no snapshot was found: where we looked. */
export function noSnapshotsMessage(locations: readonly string[]): string {
  return (
    `Attention Lens: no model in the Hugging Face cache; looked in ${locations.join(', ')} ` +
    '(HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub). Download a model with huggingface-cli, or open a folder.'
  );
}
