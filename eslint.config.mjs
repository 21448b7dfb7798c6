// ESLint 9 flat config: typescript-eslint's recommended rules for the TypeScript sources, tests
// and benchmark; the rooms rule for every file; Node CommonJS rules for the plain-JavaScript scripts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { roomsPlugin } from './scripts/lint-rooms.mjs';

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
  // Rooms (README "Architecture"), at any depth, dynamic imports and require included, and each
  // native library's one importer: scripts/lint-rooms.mjs.
  { files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.cjs', '**/*.mjs'], plugins: { rooms: roomsPlugin }, rules: { 'rooms/imports': 'error' } },
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
