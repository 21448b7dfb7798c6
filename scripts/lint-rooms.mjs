// The ESLint rule that keeps each room of src/ to its imports, and each part of src/core to its
// direction (README "Architecture"). It resolves every module a file names (import, export ... from,
// import(), require(), `import('x').T` types; a string or a template without placeholders) against
// the file's own folder, so depth and `..` detours do not matter, refuses in src/ a module named by
// an expression (it could not be checked), and names each native library's one importer.
// Rule: `rooms/imports`.
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
    packages: ['node', 'pngjs', 'onnxruntime-node', 'tokenizers', 'onnx-proto'],
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

const CORE = 'src/core/';

/**
 * The parts of src/core and the other parts each may import (README "Architecture": engine ->
 * model, reading; export -> reading; convert -> model, engine). `top` is the files directly in src/core (inspection-types.ts):
 * the data every part may import, and it imports no part. Any part may import itself.
 */
export const CORE_PARTS = {
  engine: { imports: ['model', 'reading', 'top'], message: 'src/core/engine imports src/core/model, src/core/reading and src/core/inspection-types.ts; never the exports.' },
  convert: { imports: ['model', 'engine', 'top'], message: 'src/core/convert imports src/core/model, src/core/engine (the memory plan) and src/core/inspection-types.ts.' },
  export: { imports: ['reading', 'top'], message: 'src/core/export imports src/core/reading and src/core/inspection-types.ts; never the engine or the model.' },
  reading: { imports: ['top'], message: 'src/core/reading imports no other part of src/core than inspection-types.ts: the engine and the exports build on it.' },
  model: { imports: ['top'], message: 'src/core/model imports no other part of src/core than inspection-types.ts: the engine builds on it.' },
  top: { imports: [], message: 'src/core/inspection-types.ts is the data every part shares: it imports no part of src/core.' },
};

/** The part of src/core a repository path (extension optional) is in: its folder, or `top`. */
function partOf(repoPath) {
  const rest = repoPath.slice(CORE.length);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : 'top';
}

/** Why `file`'s part may not import `target`'s, or undefined when it may; both are in src/core. */
function partViolation(file, target) {
  const from = partOf(file);
  const to = partOf(target);
  if (from === to) return undefined;
  // A new folder is held to the strictest rule until README and CORE_PARTS name its direction.
  const part = CORE_PARTS[from] ?? { imports: ['top'], message: `src/core/${from} is not a part README "Architecture" names: it imports only src/core/inspection-types.ts.` };
  return part.imports.includes(to) ? undefined : part.message;
}

/** Each native library has one importer in the whole repository. */
export const NATIVE = {
  'onnxruntime-node': 'src/core/engine/ort-worker.ts',
  tokenizers: 'src/core/model/tokenizer.ts',
  'onnx-proto': 'src/core/convert/onnx-file.ts',
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

/** A specifier node's value: a string, COMPUTED for an expression, undefined when there is none. */
const COMPUTED = Symbol('computed');
function specifierOf(n) {
  if (!n) return undefined;
  if (n.type === 'Literal') return typeof n.value === 'string' ? n.value : COMPUTED;
  if (n.type === 'TemplateLiteral' && n.expressions.length === 0) return n.quasis[0].value.cooked;
  return COMPUTED;
}

function check(context, node, spec) {
  if (spec === undefined) return;
  const root = context.cwd ?? process.cwd();
  const file = path.relative(root, context.filename).split(path.sep).join('/');
  if (spec === COMPUTED) {
    if (roomOf(file)) context.report({ node, message: 'A module named by an expression cannot be checked against the rooms: name it by a string.' });
    return;
  }
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
  const targetPath = targetOf(file, spec);
  const target = roomOfTarget(targetPath);
  if (!target || !room.rooms.includes(target.name)) {
    context.report({ node, message: `${room.message} ('${spec}')` });
    return;
  }
  const violation = room.name === 'core' && target.name === 'core' ? partViolation(file, targetPath) : undefined;
  if (violation) context.report({ node, message: `${violation} ('${spec}')` });
}

const importsRule = {
  meta: { type: 'problem', schema: [], docs: { description: 'Each room of src/, and each part of src/core, imports only what README "Architecture" allows.' } },
  create(context) {
    return {
      ImportDeclaration: (node) => check(context, node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(context, node, node.source.value),
      ExportAllDeclaration: (node) => check(context, node, node.source.value),
      ImportExpression: (node) => check(context, node, specifierOf(node.source)),
      'CallExpression[callee.type="Identifier"][callee.name="require"]': (node) => check(context, node, specifierOf(node.arguments[0])),
      TSImportType: (node) => check(context, node, specifierOf(node.argument?.literal ?? node.argument)),
      TSExternalModuleReference: (node) => check(context, node, specifierOf(node.expression)),
    };
  },
};

export const roomsPlugin = { rules: { imports: importsRule } };
