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
