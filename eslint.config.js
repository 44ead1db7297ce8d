import nx from '@nx/eslint-plugin';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers (CONTRIBUTING.md "Layers"), as the Nx project tags each project.json carries: a
 * project may import only the tags listed for its own. Nothing that ships may depend on
 * `layer:test` (test support); specs may.
 */
const LAYERS = {
  'layer:domain': [],
  'layer:core': ['layer:domain'],
  'layer:adapters': ['layer:domain', 'layer:core'],
  // Observability decorates the runner port and takes its other sources injected: it never
  // reaches into persistence.
  'layer:observability': ['layer:domain', 'layer:core', 'scope:runners'],
  'layer:pipeline': ['layer:domain', 'layer:core', 'layer:adapters', 'layer:observability'],
  'layer:app': ['layer:domain', 'layer:core', 'layer:adapters', 'layer:observability', 'layer:pipeline'],
  'layer:tool': ['layer:domain', 'layer:core', 'layer:adapters', 'layer:observability', 'layer:pipeline'],
  'layer:test': ['*'],
};

function depConstraints({ withTestSupport }) {
  return Object.entries(LAYERS).map(([sourceTag, allowed]) => ({
    sourceTag,
    onlyDependOnLibsWithTags: withTestSupport && !allowed.includes('*') ? [...allowed, 'layer:test'] : allowed,
  }));
}

function moduleBoundaries({ withTestSupport, allow = [] }) {
  return [
    'error',
    {
      depConstraints: depConstraints({ withTestSupport }),
      allow,
      // The Kubernetes runner is its own entry point of libs/runners, imported lazily so nothing
      // loads its client unless that runner is chosen; the rest of the library is imported
      // statically.
      checkDynamicDependenciesExceptions: ['#osa/runners'],
      // Specs import test support, which imports what they test: cycles through test support are
      // test-only edges, never a build order.
      ignoredCircularDependencies: [['test-support', '*']],
    },
  ];
}

const SOURCES = ['apps/**/*.ts', 'libs/**/*.ts', 'tools/**/*.ts', 'test/**/*.ts'];
const SPECS = ['**/*.spec.ts'];
const RELATIVE_TEST_SUPPORT = '^(\\.\\./)+test/support/';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', '**/*.mjs', 'tools/bin/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    // The type-aware rules read each file's types from the TypeScript project that includes it
    // (tsconfig.json: apps, libs, tools and test).
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // A promise nobody awaits loses its rejection, and one handed to a callback that expects
      // nothing back (an event handler, a timer) is not awaited either.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Runtime import cycles (type-only imports erase and cannot form one), resolved as the
    // typecheck resolves them (`#osa/*` through tsconfig.json's paths).
    files: SOURCES,
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: SOURCES,
    ignores: SPECS,
    plugins: { '@nx': nx },
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries({ withTestSupport: false }) },
  },
  {
    // The benchmarks start the services' own Nest modules in-process.
    files: ['tools/bench/**/*.ts'],
    ignores: SPECS,
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({
        withTestSupport: false,
        allow: ['^\\.\\./\\.\\./apps/[a-z-]+/src/[a-z-]+\\.module\\.js$'],
      }),
    },
  },
  {
    // Test support may use anything, the services' modules, the scratch stores and the
    // persistence tables (which `#osa/persistence` does not export) included.
    files: ['test/support/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({
        withTestSupport: true,
        allow: ['^(\\.\\./)+(apps|tools)/', '^(\\.\\./)+libs/persistence/src/schema/tables\\.js$'],
      }),
    },
  },
  {
    // Specs reach test support as `#osa/testing`, which is no edge of the Nx graph: a spec's
    // import is never a build dependency of its project.
    files: SPECS,
    plugins: { '@nx': nx },
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries({ withTestSupport: true }) },
  },
  {
    // The Kubernetes runner's harness is not in `#osa/testing` (it loads the Kubernetes client),
    // so the runner's specs import it by path; libs/runners/project.json drops that test-only edge
    // from the Nx graph.
    files: ['libs/runners/**/*.spec.ts'],
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries({ withTestSupport: true, allow: [RELATIVE_TEST_SUPPORT] }) },
  },
  {
    // `#osa/testing` resolves only in the typecheck and jest, so the boundary rule cannot see
    // it: what ships must not import test support by either name.
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'tools/**/*.ts'],
    ignores: SPECS,
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^#osa/testing$|(^|/)test/', message: 'test support is not part of the build: production code must not import it' }] },
      ],
    },
  },
  {
    // The Kubernetes API simulator and the control-plane test support hold API objects as the
    // plain JSON the API server stores (`Obj`, any-valued), walked field by field as a controller
    // and kubelet would; typing every field they touch would restate the Kubernetes API. What
    // they hand to specs is typed (the simulator's jobs() and pods() are kubernetes-models
    // objects). Nothing that ships is exempt.
    files: ['test/support/k8s-simulator/**/*.ts', 'test/k8s/support/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  // The config files are plain JavaScript outside the TypeScript project.
  { files: ['**/*.js', '**/*.cjs', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
