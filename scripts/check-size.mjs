#!/usr/bin/env node
// Size limits of issue 28: no source file over 300 lines, no function over 80.
// Source = what git tracks or would track under the product's folders; tests,
// generated code (api/gen) and build output (ignored by git) are not counted.
// Usage: node scripts/check-size.mjs [--json]   (exit 1 when something is over)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const MAX_FILE_LINES = 300;
export const MAX_FUNCTION_LINES = 80;

const SOURCE_ROOTS = ['server/', 'api/', 'shared/', 'plugin/', 'training/', 'scripts/'];
const GENERATED = [/^api\/gen\//, /(^|\/)package-lock\.json$/];
const SCRIPT_EXT = /\.(ts|mts|cts|js|mjs|cjs)$/;
const CODE_EXT = /\.(ts|mts|cts|js|mjs|cjs|py|sh)$/;

const lineCount = (text) => (text.length === 0 ? 0 : text.replace(/\n$/, '').split('\n').length);

export function sourceFiles(root) {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(out.split('\0'))]
    .filter((f) => f && SOURCE_ROOTS.some((r) => f.startsWith(r)))
    .filter((f) => CODE_EXT.test(f) && !GENERATED.some((g) => g.test(f)))
    .sort();
}

const FUNCTION_KINDS = new Set([
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.FunctionExpression,
  ts.SyntaxKind.ArrowFunction,
  ts.SyntaxKind.MethodDeclaration,
  ts.SyntaxKind.Constructor,
  ts.SyntaxKind.GetAccessor,
  ts.SyntaxKind.SetAccessor,
]);

function functionName(node, sf) {
  if (node.name) return node.name.getText(sf);
  if (node.kind === ts.SyntaxKind.Constructor) return 'constructor';
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) {
    return p.name.getText(sf);
  }
  if (p && ts.isCallExpression(p)) return `(callback of ${p.expression.getText(sf).slice(0, 40)})`;
  return '(anonymous)';
}

/** Functions of a TS/JS file, whole span (nested functions count in their parent too, as ESLint's max-lines-per-function does). */
export function scriptFunctions(path, text) {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (FUNCTION_KINDS.has(node.kind) && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ name: functionName(node, sf), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

// Python's own parser gives each def its end line (3.8+); any python3 will do, torch is not needed.
const PY_DEFS = `
import ast, json, sys
out = {}
for path in sys.argv[1:]:
    tree = ast.parse(open(path, encoding='utf-8').read(), path)
    out[path] = [dict(name=n.name, line=n.lineno, lines=n.end_lineno - n.lineno + 1)
                 for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
print(json.dumps(out))
`;

export function pythonFunctions(root, paths) {
  if (paths.length === 0) return {};
  return JSON.parse(execFileSync('python3', ['-c', PY_DEFS, ...paths], { cwd: root, encoding: 'utf8' }));
}

/** Every file and function over the limits, largest first within each list. */
export function checkSizes(root) {
  const files = sourceFiles(root);
  const longFiles = [];
  const longFunctions = [];
  const python = pythonFunctions(
    root,
    files.filter((f) => f.endsWith('.py')),
  );
  for (const file of files) {
    let text;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      continue; // deleted in the work tree, still in the index
    }
    const lines = lineCount(text);
    if (lines > MAX_FILE_LINES) longFiles.push({ file, lines });
    const functions = SCRIPT_EXT.test(file) ? scriptFunctions(file, text) : (python[file] ?? []);
    for (const f of functions) if (f.lines > MAX_FUNCTION_LINES) longFunctions.push({ file, ...f });
  }
  longFiles.sort((a, b) => b.lines - a.lines);
  longFunctions.sort((a, b) => b.lines - a.lines);
  return { longFiles, longFunctions };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const result = checkSizes(root);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    for (const f of result.longFiles) console.log(`file ${f.file}: ${f.lines} lines (max ${MAX_FILE_LINES})`);
    for (const f of result.longFunctions) {
      console.log(`function ${f.file}:${f.line} ${f.name}: ${f.lines} lines (max ${MAX_FUNCTION_LINES})`);
    }
    if (result.longFiles.length + result.longFunctions.length === 0) console.log('size limits: all within');
  }
  process.exitCode = result.longFiles.length + result.longFunctions.length === 0 ? 0 : 1;
}
