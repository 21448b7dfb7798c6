// The layers of README "Architecture" are checked by lint (eslint.config.mjs): these imports must
// fail it, and their allowed counterparts pass. A later config entry for the same rule replaces an
// earlier one, so a new rule block can silently switch a layer off; this catches that.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import { ROOT } from '../common/fixtures';

const eslint = new ESLint({ cwd: ROOT });

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('lint enforces the layers', function () {
  this.timeout(60_000);
  const cases: [string, string, string, RegExp][] = [
    ['core imports vscode', 'src/core/x.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n", /never vscode/],
    ['core imports the extension', 'src/core/x.ts', "import { Ctx } from '../extension/ctx';\nexport const x = Ctx;\n", /never vscode/],
    ['the webview imports core', 'src/webview/x.ts', "import { tokenAt } from '../core/analysis';\nexport const x = tokenAt;\n", /only src\/shared and src\/protocol/],
    ['shared imports core', 'src/shared/x.ts', "import { tokenAt } from '../core/analysis';\nexport const x = tokenAt;\n", /nothing outside src\/shared/],
    ['the protocol imports core', 'src/protocol.ts', "import { tokenAt } from './core/analysis';\nexport const x = tokenAt;\n", /only src\/shared/],
    ['the extension imports the tokenizer library', 'src/extension/x.ts', "import { Tokenizer } from 'tokenizers';\nexport const x = Tokenizer;\n", /Only src\/core\/model\/tokenizer\.ts/],
    ['core imports the tokenizer library', 'src/core/x.ts', "import { Tokenizer } from 'tokenizers';\nexport const x = Tokenizer;\n", /Only src\/core\/model\/tokenizer\.ts/],
  ];
  for (const [name, file, code, message] of cases) {
    it(`fails when ${name}`, async () => {
      const messages = await restricted(file, code);
      assert.equal(messages.length, 1, `one restricted import in ${file}: ${JSON.stringify(messages)}`);
      assert.match(messages[0], message);
    });
  }

  it('passes the allowed imports', async () => {
    assert.deepEqual(await restricted('src/core/x.ts', "import { isMode } from '../shared/vocabulary';\nexport const x = isMode;\n"), []);
    assert.deepEqual(await restricted('src/webview/x.ts', "import { isMode } from '../shared/vocabulary';\nexport const x = isMode;\n"), []);
    assert.deepEqual(await restricted('src/core/model/tokenizer.ts', "import { Tokenizer } from 'tokenizers';\nexport const x = Tokenizer;\n"), []);
    assert.deepEqual(await restricted('src/extension/x.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n"), []);
  });
});
