// ESLint 9 flat config: typescript-eslint's recommended rules for the TypeScript sources, tests
// and benchmark; Node CommonJS rules for the plain-JavaScript scripts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = {
  require: 'readonly',
  module: 'writable',
  exports: 'writable',
  __dirname: 'readonly',
  __filename: 'readonly',
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  URL: 'readonly',
};

const TOKENIZER_ONLY = { name: 'tokenizers', message: 'Only src/core/model/tokenizer.ts imports the tokenizer library.' };

/**
 * Files matching `files` may not import what `forbidden` names (gitignore-style patterns), nor the
 * tokenizer library. One rule entry per file: a later entry for the same rule replaces an earlier one.
 */
function layer(files, message, forbidden, ignores = []) {
  return { files: [files], ignores, rules: { 'no-restricted-imports': ['error', { paths: [TOKENIZER_ONLY], patterns: [{ group: forbidden, message }] }] } };
}

const CORE_MESSAGE = 'src/core runs headless (CLI, tests): it imports only src/core and src/shared, never vscode.';
const CORE_FORBIDDEN = ['vscode', '../extension/*', '../webview/*', '../protocol', '../cli'];

export default tseslint.config(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'test-results/**', 'training/**', 'models/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [TOKENIZER_ONLY] }] } },
  // Layers (README "Architecture"): shared imports nothing; core never imports vscode or the
  // extension, webview, protocol or CLI; the webview and the protocol import only shared (and the
  // webview the protocol).
  layer('src/shared/**/*.ts', 'src/shared imports nothing outside src/shared.', ['vscode', '../*', '!../shared/*']),
  layer('src/core/**/*.ts', CORE_MESSAGE, CORE_FORBIDDEN, ['src/core/model/tokenizer.ts']),
  { files: ['src/core/model/tokenizer.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ group: CORE_FORBIDDEN, message: CORE_MESSAGE }] }] } },
  layer('src/webview/**/*.ts', 'The webview is a browser page: it imports only src/shared and src/protocol.ts.', ['vscode', '../core/*', '../extension/*', '../cli', 'node:*']),
  layer('src/protocol.ts', 'The protocol is bundled into the webview: it imports only src/shared.', ['vscode', './core/*', './extension/*', './webview/*']),
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: nodeGlobals },
  },
);
