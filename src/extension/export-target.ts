// The Export command's VS Code side: where the file goes. What goes in it is core's one export
// function, the same as the CLI's.
import * as vscode from 'vscode';
import type { ExportFormat } from '../core/export/formats';
import { exportFileName } from '../core/export/formats';
import type { Inspection } from '../core/inspection-types';
import type { HeadSelection } from '../shared/vocabulary';
import { fileName } from './inspected-documents';

/** Suggested file next to the document (or in the first workspace folder for untitled ones). */
export function defaultExportUri(doc: vscode.Uri, insp: Inspection, sel: HeadSelection, format: ExportFormat): vscode.Uri {
  const name = exportFileName(fileName(doc), insp, sel, format);
  if (doc.scheme === 'file') return vscode.Uri.joinPath(doc, '..', name);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, name) : vscode.Uri.file(name);
}
