// ESLint 9 flat config: typescript-eslint with type information for the
// TypeScript the build compiles (tsconfig.json: src, plugins/*/src, test,
// bench), and the plain recommended rules for the CommonJS scripts beside it.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Build output, generated protobuf code, and test fixtures that are
    // deliberately broken plugins.
    ignores: ['dist/**', '**/dist/**', 'node_modules/**', 'src/wire/generated/**', 'test/fixtures/**', 'coverage/**', 'bench/results/**'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Promises: the rules that catch real bugs in a socket server.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Numbers, booleans and null in messages are intended; objects are not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      // Rethrowing what was caught (after cleaning up) keeps the original error.
      '@typescript-eslint/only-throw-error': ['error', { allowRethrowing: true, allowThrowingUnknown: true }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // oclif's run() and the API's interfaces are async by contract, with or without an await.
      '@typescript-eslint/require-await': 'off',
      // `Event.None` beside the `Event<T>` type is VS Code's pattern (declaration merging).
      '@typescript-eslint/no-namespace': 'off',
      // Wire bytes and decoded message ids are numbers, compared with the generated enums on purpose.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // The logger and the refusal log strip control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests and benchmarks read JSON from child processes and poke at
    // internals; typing every parsed value would add noise, not safety. The
    // promise rules and no-explicit-any still apply.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // Benchmarks patch Buffer's methods and sinon replaces them: unbound on purpose.
      '@typescript-eslint/unbound-method': 'off',
      // Lazy require() of generated code, and callbacks that reject with an optional error.
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
      // Log lines are matched with their exact column spacing.
      'no-regex-spaces': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', 'bin/run'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
  },
);
