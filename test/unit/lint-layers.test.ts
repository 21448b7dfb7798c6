// The rooms of README "Architecture" are checked by lint (scripts/lint-rooms.mjs, switched on in
// eslint.config.mjs): one violating import per rule must fail it, and the allowed counterparts pass.
// A later config entry can silently switch a rule off, and a rule can miss a way of importing (a
// deeper folder, a `..` detour, import(), require(), an import type); this catches both.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import { ROOT } from '../common/fixtures';

const eslint = new ESLint({ cwd: ROOT });

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'rooms/imports').map((m) => m.message);
}

const use = (name: string): string => `\nexport const x = ${name};\n`;

describe('lint enforces the rooms', function () {
  this.timeout(60_000);
  const CORE = /src\/core runs headless .*never vscode/;
  const WEBVIEW = /webview is a browser page: it imports only src\/shared and src\/protocol/;
  const SHARED = /src\/shared imports nothing outside src\/shared/;
  const PROTOCOL = /protocol is bundled into the webview: it imports only src\/shared/;
  const EXTENSION = /src\/extension imports src\/core, src\/shared and src\/protocol\.ts; never the webview or the CLI/;
  const CLI = /CLI runs without VS Code/;
  const ORT = /Only src\/core\/engine\/ort-worker\.ts imports onnxruntime-node/;
  const TOKENIZERS = /Only src\/core\/model\/tokenizer\.ts imports tokenizers/;
  const COMPUTED = /named by an expression/;
  const ENGINE = /src\/core\/engine imports src\/core\/model, src\/core\/reading/;
  const EXPORT = /src\/core\/export imports src\/core\/reading/;
  const READING = /src\/core\/reading imports no other part of src\/core/;
  const MODEL = /src\/core\/model imports no other part of src\/core/;
  const TOP = /src\/core\/inspection-types\.ts .* imports no part of src\/core/;
  const NEW_PART = /src\/core\/cache is not a part README "Architecture" names/;
  const cases: [string, string, string, RegExp][] = [
    // core
    ['core imports vscode', 'src/core/x.ts', "import * as vscode from 'vscode';" + use('vscode'), CORE],
    ['core imports the extension', 'src/core/x.ts', "import { ExtensionRoot } from '../extension/extension-root';" + use('ExtensionRoot'), CORE],
    ['a core subfolder imports the extension', 'src/core/engine/x.ts', "import { ExtensionRoot } from '../../extension/extension-root';" + use('ExtensionRoot'), CORE],
    ['core imports vscode dynamically', 'src/core/x.ts', "export const x = import('vscode');\n", CORE],
    ['core requires vscode', 'src/core/x.ts', "export const x = require('vscode');\n", CORE],
    ['core names an extension type by import()', 'src/core/x.ts', "export type X = import('../extension/extension-root').ExtensionRoot;\n", CORE],
    ['core detours through ./..', 'src/core/x.ts', "import { ExtensionRoot } from './../extension/extension-root';" + use('ExtensionRoot'), CORE],
    ['core detours through ../core/..', 'src/core/x.ts', "import { ExtensionRoot } from '../core/../extension/extension-root';" + use('ExtensionRoot'), CORE],
    ['core re-exports the extension', 'src/core/x.ts', "export * from '../extension/extension-root';\n", CORE],
    ['core imports the protocol', 'src/core/reading/x.ts', "import { isShownMessage } from '../../protocol';" + use('isShownMessage'), CORE],
    ['core imports vscode by a template literal', 'src/core/x.ts', 'export const x = import(`vscode`);\n', CORE],
    ['core requires vscode by a template literal', 'src/core/x.ts', 'export const x = require(`vscode`);\n', CORE],
    ['a core subfolder imports the extension by a template literal', 'src/core/engine/x.ts', 'export const x = import(`../../extension/extension-root`);\n', CORE],
    ['core imports a module named by a variable', 'src/core/x.ts', "const name = 'vscode';\nexport const x = import(name);\n", COMPUTED],
    ['core requires a module named by a template with a placeholder', 'src/core/x.ts', "const name = 'code';\nexport const x = require(`vs${name}`);\n", COMPUTED],
    // the parts of core: engine -> model, reading; export -> reading
    ['the model imports the engine', 'src/core/model/x.ts', "import { ModelRunner } from '../engine/runner';" + use('ModelRunner'), MODEL],
    ['the model imports a reading', 'src/core/model/x.ts', "import { tokenAt } from '../reading/analysis';" + use('tokenAt'), MODEL],
    ['the model names an engine type by import()', 'src/core/model/x.ts', "export type X = import('../engine/runner').ModelRunner;\n", MODEL],
    ['the model imports the engine through a detour', 'src/core/model/x.ts', "import type { ModelRunner } from '../model/../engine/runner';\nexport type X = ModelRunner;\n", MODEL],
    ['a reading imports the engine', 'src/core/reading/x.ts', "import { ModelRunner } from '../engine/runner';" + use('ModelRunner'), READING],
    ['a reading imports the model', 'src/core/reading/x.ts', "import { readManifest } from '../model/manifest';" + use('readManifest'), READING],
    ['a reading imports an export', 'src/core/reading/x.ts', "import { exportInspection } from '../export/formats';" + use('exportInspection'), READING],
    ['an export imports the engine', 'src/core/export/x.ts', "import { ModelRunner } from '../engine/runner';" + use('ModelRunner'), EXPORT],
    ['an export imports the model dynamically', 'src/core/export/x.ts', "export const x = import('../model/manifest');\n", EXPORT],
    ['the engine imports an export', 'src/core/engine/x.ts', "import { exportInspection } from '../export/formats';" + use('exportInspection'), ENGINE],
    ['the inspection types import a reading', 'src/core/inspection-types.ts', "import type { KeyWeight } from './reading/analysis';\nexport type X = KeyWeight;\n", TOP],
    ['a new folder of core imports the engine', 'src/core/cache/x.ts', "import { ModelRunner } from '../engine/runner';" + use('ModelRunner'), NEW_PART],
    // extension
    ['the extension imports the webview', 'src/extension/x.ts', "import { Heatmap } from '../webview/heatmap';" + use('Heatmap'), EXTENSION],
    ['the extension imports the CLI', 'src/extension/x.ts', "import { main } from '../cli';" + use('main'), EXTENSION],
    // CLI
    ['the CLI imports vscode', 'src/cli.ts', "import * as vscode from 'vscode';" + use('vscode'), CLI],
    ['the CLI imports the extension', 'src/cli.ts', "import { ExtensionRoot } from './extension/extension-root';" + use('ExtensionRoot'), CLI],
    // webview
    ['the webview imports core', 'src/webview/x.ts', "import { tokenAt } from '../core/reading/analysis';" + use('tokenAt'), WEBVIEW],
    ['a webview subfolder imports core', 'src/webview/toolkit/x.ts', "import { tokenAt } from '../../core/reading/analysis';" + use('tokenAt'), WEBVIEW],
    ['the webview imports vscode', 'src/webview/x.ts', "import * as vscode from 'vscode';" + use('vscode'), WEBVIEW],
    ['the webview imports node:fs', 'src/webview/x.ts', "import * as fs from 'node:fs';" + use('fs'), WEBVIEW],
    // shared
    ['shared imports core', 'src/shared/x.ts', "import { tokenAt } from '../core/reading/analysis';" + use('tokenAt'), SHARED],
    ['shared imports node:fs', 'src/shared/x.ts', "import * as fs from 'node:fs';" + use('fs'), SHARED],
    ['shared imports fs without node:', 'src/shared/x.ts', "import * as fs from 'fs';" + use('fs'), SHARED],
    // protocol
    ['the protocol imports core', 'src/protocol.ts', "import { tokenAt } from './core/reading/analysis';" + use('tokenAt'), PROTOCOL],
    ['the protocol imports the webview', 'src/protocol.ts', "import { Heatmap } from './webview/heatmap';" + use('Heatmap'), PROTOCOL],
    ['the protocol imports node:fs', 'src/protocol.ts', "import * as fs from 'node:fs';" + use('fs'), PROTOCOL],
    // native libraries: one importer each, anywhere in the repository
    ['the extension imports the tokenizer library', 'src/extension/x.ts', "import { Tokenizer } from 'tokenizers';" + use('Tokenizer'), TOKENIZERS],
    ['core imports the tokenizer library', 'src/core/x.ts', "import { Tokenizer } from 'tokenizers';" + use('Tokenizer'), TOKENIZERS],
    ['the runner imports onnxruntime-node', 'src/core/engine/runner.ts', "import * as ort from 'onnxruntime-node';" + use('ort'), ORT],
    ['shared imports onnxruntime-node', 'src/shared/x.ts', "import * as ort from 'onnxruntime-node';" + use('ort'), ORT],
    ['the webview imports onnxruntime-node', 'src/webview/x.ts', "import * as ort from 'onnxruntime-node';" + use('ort'), ORT],
    ['the protocol imports onnxruntime-node', 'src/protocol.ts', "import * as ort from 'onnxruntime-node';" + use('ort'), ORT],
    ['a test requires onnxruntime-node', 'test/engine/x.test.ts', "export const ort = require('onnxruntime-node');\n", ORT],
  ];
  for (const [name, file, code, message] of cases) {
    it(`fails when ${name}`, async () => {
      const messages = await restricted(file, code);
      assert.equal(messages.length, 1, `one restricted import in ${file}: ${JSON.stringify(messages)}`);
      assert.match(messages[0], message);
    });
  }

  it('passes the allowed imports', async () => {
    const allowed: [string, string][] = [
      ['src/core/x.ts', "import { isMode } from '../shared/vocabulary';" + use('isMode')],
      ['src/core/engine/x.ts', "import { isMode } from '../../shared/vocabulary';\nimport { tokenAt } from '../reading/analysis';\nexport const x = [isMode, tokenAt];\n"],
      ['src/core/engine/x.ts', "import { readManifest } from '../model/manifest';\nimport type { Inspection } from '../inspection-types';\nexport const x = import(`./runner`);\nexport type X = [typeof readManifest, Inspection];\n"],
      ['src/core/export/x.ts', "import { headFading } from '../reading/fading-metrics';\nimport type { Inspection } from '../inspection-types';\nimport { weightColor } from '../../shared/color-scale';\nexport type X = [typeof headFading, Inspection, typeof weightColor];\n"],
      ['src/core/reading/x.ts', "import type { Inspection } from '../inspection-types';\nimport { tokenAt } from './analysis';\nexport type X = [Inspection, typeof tokenAt];\n"],
      ['src/core/model/x.ts', "import type { ModelInfo } from '../inspection-types';\nimport type { GraphSet } from './graphs';\nexport type X = [ModelInfo, GraphSet];\n"],
      ['test/unit/x.test.ts', "const name = 'node:fs';\nexport const x = import(name);\n"],
      ['src/core/x.ts', "import * as fs from 'node:fs';" + use('fs')],
      ['src/webview/x.ts', "import { isMode } from '../shared/vocabulary';\nimport { isReadyMessage } from '../protocol';\nexport const x = [isMode, isReadyMessage];\n"],
      ['src/webview/toolkit/x.ts', "import { vsCodeButton } from '@vscode/webview-ui-toolkit';" + use('vsCodeButton')],
      ['src/core/model/tokenizer.ts', "import { Tokenizer } from 'tokenizers';" + use('Tokenizer')],
      ['src/core/engine/ort-worker.ts', "import * as ort from 'onnxruntime-node';" + use('ort')],
      ['src/extension/x.ts', "import * as vscode from 'vscode';\nimport { isReadyMessage } from '../protocol';\nexport const x = [vscode, isReadyMessage];\n"],
      ['src/cli.ts', "import { ModelRunner } from './core/engine/runner';\nimport * as fs from 'node:fs';\nexport const x = [ModelRunner, fs];\n"],
      ['src/protocol.ts', "import { isMode } from './shared/vocabulary';" + use('isMode')],
      ['test/unit/x.test.ts', "import { ModelRunner } from '../../src/core/engine/runner';" + use('ModelRunner')],
    ];
    for (const [file, code] of allowed) assert.deepEqual(await restricted(file, code), [], file);
  });
});
