// The ESLint rule that keeps each room of src/ to its imports (README "Architecture"). It resolves
// every module a file names (import, export ... from, import(), require(), `import('x').T` types)
// against the file's own folder, so depth and `..` detours do not matter, and it names each native
// library's one importer. Rule: `rooms/imports`.
import { builtinModules } from 'node:module';
import * as path from 'node:path';

/**
 * A file's room is the first whose `path` its repository path starts with. `rooms`: the rooms it
 * may import from (its own included); `packages`: the npm packages it may import ('node': Node's
 * built-in modules).
 */
export const ROOMS = [
  { name: 'shared', path: 'src/shared/', rooms: ['shared'], packages: [], message: 'src/shared imports nothing outside src/shared.' },
  {
    name: 'core',
    path: 'src/core/',
    rooms: ['core', 'shared'],
    packages: ['node', 'pngjs', 'onnxruntime-node', 'tokenizers'],
    message: 'src/core runs headless (CLI, tests): it imports only src/core and src/shared, never vscode.',
  },
  {
    name: 'extension',
    path: 'src/extension/',
    rooms: ['extension', 'core', 'shared', 'protocol'],
    packages: ['node', 'vscode'],
    message: 'src/extension imports src/core, src/shared and src/protocol.ts; never the webview or the CLI.',
  },
  {
    name: 'webview',
    path: 'src/webview/',
    rooms: ['webview', 'shared', 'protocol'],
    packages: ['@vscode/webview-ui-toolkit'],
    message: 'The webview is a browser page: it imports only src/shared and src/protocol.ts.',
  },
  { name: 'protocol', path: 'src/protocol.ts', rooms: ['protocol', 'shared'], packages: [], message: 'The protocol is bundled into the webview: it imports only src/shared.' },
  { name: 'cli', path: 'src/cli.ts', rooms: ['cli', 'core', 'shared'], packages: ['node'], message: 'The CLI runs without VS Code: it imports only src/core and src/shared.' },
];

/** Each native library has one importer in the whole repository. */
export const NATIVE = {
  'onnxruntime-node': 'src/core/engine/ort-worker.ts',
  tokenizers: 'src/core/model/tokenizer.ts',
};

/** Development tools outside the shipped code that may import a native library too: the bench's profiler times session.run itself. */
const NATIVE_TOOLS = { 'onnxruntime-node': ['bench/profile.ts'] };

const BUILTIN = new Set(builtinModules);

function roomOf(repoPath) {
  return ROOMS.find((r) => (r.path.endsWith('/') ? repoPath.startsWith(r.path) : repoPath === r.path));
}

/** The npm package a bare specifier names ('node' for a built-in), or undefined for a relative one. */
function packageOf(spec) {
  if (spec.startsWith('.') || spec.startsWith('/')) return undefined;
  if (spec.startsWith('node:') || BUILTIN.has(spec.split('/')[0])) return 'node';
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Where a relative specifier lands, as a repository path without extension. */
function targetOf(fileRepoPath, spec) {
  return path.posix.normalize(path.posix.join(path.posix.dirname(fileRepoPath), spec));
}

/** The room a resolved path is in (a path may omit `.ts`), or undefined outside src/. */
function roomOfTarget(target) {
  return roomOf(target) ?? roomOf(`${target}.ts`) ?? (target.startsWith('src/') || target === 'src' ? { name: 'src' } : undefined);
}

function check(context, node, spec) {
  if (typeof spec !== 'string') return;
  const root = context.cwd ?? process.cwd();
  const file = path.relative(root, context.filename).split(path.sep).join('/');
  const pkg = packageOf(spec);
  if (pkg && pkg in NATIVE && NATIVE[pkg] !== file && !(NATIVE_TOOLS[pkg] ?? []).includes(file)) {
    context.report({ node, message: `Only ${NATIVE[pkg]} imports ${pkg}.` });
    return;
  }
  const room = roomOf(file);
  if (!room) return;
  if (pkg) {
    if (!room.packages.includes(pkg)) context.report({ node, message: `${room.message} ('${spec}')` });
    return;
  }
  const target = roomOfTarget(targetOf(file, spec));
  if (!target || !room.rooms.includes(target.name)) context.report({ node, message: `${room.message} ('${spec}')` });
}

const importsRule = {
  meta: { type: 'problem', schema: [], docs: { description: 'Each room of src/ imports only what README "Architecture" allows.' } },
  create(context) {
    const literal = (n) => (n && n.type === 'Literal' ? n.value : undefined);
    return {
      ImportDeclaration: (node) => check(context, node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(context, node, node.source.value),
      ExportAllDeclaration: (node) => check(context, node, node.source.value),
      ImportExpression: (node) => check(context, node, literal(node.source)),
      'CallExpression[callee.type="Identifier"][callee.name="require"]': (node) => check(context, node, literal(node.arguments[0])),
      TSImportType: (node) => check(context, node, literal(node.argument?.literal ?? node.argument)),
      TSExternalModuleReference: (node) => check(context, node, literal(node.expression)),
    };
  },
};

export const roomsPlugin = { rules: { imports: importsRule } };
