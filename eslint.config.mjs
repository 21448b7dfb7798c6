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

/** Files matching `files` may not import what `forbidden` names (gitignore-style patterns). */
function layer(files, message, forbidden) {
  return { files: [files], rules: { 'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message }] }] } };
}

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
  // Layers (README "Architecture"): shared imports nothing; core never imports vscode or the
  // extension, webview, protocol or CLI; the webview and the protocol import only shared (and the
  // webview the protocol).
  layer('src/shared/**/*.ts', 'src/shared imports nothing outside src/shared.', ['vscode', '../*', '!../shared/*']),
  layer('src/core/**/*.ts', 'src/core runs headless (CLI, tests): it imports only src/core and src/shared, never vscode.', [
    'vscode',
    '../extension/*',
    '../webview/*',
    '../protocol',
    '../cli',
  ]),
  layer('src/webview/**/*.ts', 'The webview is a browser page: it imports only src/shared and src/protocol.ts.', ['vscode', '../core/*', '../extension/*', '../cli', 'node:*']),
  layer('src/protocol.ts', 'The protocol is bundled into the webview: it imports only src/shared.', ['vscode', './core/*', './extension/*', './webview/*']),
  {
    files: ['**/*.ts'],
    ignores: ['src/core/tokenizer.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'tokenizers', message: 'Only src/core/tokenizer.ts imports the tokenizer library.' }] }],
    },
  },
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
