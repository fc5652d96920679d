import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../helpers/paths';

const TSYRINGE = path.join(REPO_ROOT, 'node_modules', 'tsyringe');
/** The container methods that look a service up (a service locator when called outside the composition root). */
const LOOKUPS = new Set(['resolve', 'resolveAll', 'resolveWithArgs']);

interface Lookup {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/**
 * Every call of a tsyringe container lookup in `files`, found with the type
 * checker: a call counts when the method it names is declared by tsyringe,
 * so `Promise.resolve`, `path.resolve` and `require.resolve` never do, and a
 * container under any variable name (`c`, `r`, `child`) always does.
 */
function containerLookups(files: readonly string[], options: ts.CompilerOptions): Lookup[] {
  const program = ts.createProgram(files, options);
  const checker = program.getTypeChecker();
  const found: Lookup[] = [];
  const isTsyringe = (decl: ts.Declaration) => path.resolve(decl.getSourceFile().fileName).startsWith(TSYRINGE + path.sep);
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not compiled: ${file}`);
    const visit = (node: ts.Node): void => {
      const callee = ts.isCallExpression(node) ? node.expression : undefined;
      const name =
        callee && ts.isPropertyAccessExpression(callee) ? callee.name : callee && ts.isElementAccessExpression(callee) ? callee.argumentExpression : undefined;
      if (name && LOOKUPS.has(name.getText(source).replace(/['"`]/g, ''))) {
        const symbol = checker.getSymbolAtLocation(name);
        if (symbol?.declarations?.some(isTsyringe)) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          found.push({ file: path.relative(REPO_ROOT, file).split(path.sep).join('/'), line: line + 1, text: node.getText(source).replace(/\s+/g, ' ') });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

function projectOptions(): ts.CompilerOptions {
  const configFile = path.join(REPO_ROOT, 'tsconfig.json');
  const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
  return { ...ts.parseJsonConfigFileContent(read.config, ts.sys, REPO_ROOT).options, noEmit: true };
}

describe('architecture: one composition root (no container resolve outside it)', function () {
  this.timeout(120_000);

  it('src resolves from a container exactly once: the node root, in src/core/container.ts', () => {
    const lookups = containerLookups(sourceFiles(path.join(REPO_ROOT, 'src')), projectOptions());
    expect(lookups.map((l) => `${l.file}: ${l.text}`)).to.deep.equal(['src/core/container.ts: container.resolve(NodeRuntime)']);
  });

  describe('the check itself', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-resolve-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('finds container lookups under any name and ignores Promise.resolve, path.resolve and require.resolve', () => {
      const file = path.join(dir, 'locator.ts');
      fs.writeFileSync(
        file,
        [
          "import { container, type DependencyContainer } from 'tsyringe';",
          "import * as path from 'node:path';",
          'class Thing {}',
          'export function locate(c: DependencyContainer) {',
          '  const resolve = { resolve: (x: string) => x };',
          "  void Promise.resolve(1); path.resolve('a'); require.resolve('tsyringe'); resolve.resolve('x');",
          "  return [c.resolve(Thing), container.createChildContainer().resolveAll(Thing), c['resolve'](Thing)];",
          '}',
        ].join('\n'),
      );
      const options: ts.CompilerOptions = {
        ...projectOptions(),
        baseUrl: dir,
        paths: { tsyringe: [TSYRINGE] },
        typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')],
        rootDir: dir,
      };
      const texts = containerLookups([file], options).map((l) => `${l.line}: ${l.text}`);
      expect(texts).to.deep.equal(['7: c.resolve(Thing)', '7: container.createChildContainer().resolveAll(Thing)', "7: c['resolve'](Thing)"]);
    });
  });
});
