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
  // Layers: shared imports nothing; core never imports vscode or the extension, webview, protocol
  // or CLI; the webview imports only the shared vocabulary and the protocol.
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['vscode', '../*', '!../shared/*'], message: 'src/shared imports nothing outside src/shared.' }] }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/core runs headless (CLI, tests): it never imports vscode.' }],
          patterns: [{ group: ['../extension/*', '../webview/*', '../protocol', '../cli'], message: 'src/core imports only src/core and src/shared.' }],
        },
      ],
    },
  },
  {
    files: ['src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'The webview is a browser page: it talks to the host through src/protocol.ts.' }],
          patterns: [{ group: ['../core/*', '../extension/*', '../cli', 'node:*'], message: 'The webview imports only src/shared and src/protocol.ts.' }],
        },
      ],
    },
  },
  {
    files: ['src/protocol.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['vscode', './core/*', './extension/*', './webview/*'], message: 'The protocol imports only src/shared (it is bundled into the webview).' }] }],
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
