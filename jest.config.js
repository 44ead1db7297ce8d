/**
 * Jest runs the TypeScript sources as native ES modules (see README "Module format").
 *
 * Three projects, disjoint, so `npm test` runs every spec exactly once and `npm run test:unit` /
 * `test:medium` run one layer of the test pyramid (README "Tests"):
 * - unit: `test/unit/` and `*.unit.spec.ts` next to the code; no Postgres, Redis or child process.
 * - medium: `test/medium/`; the stage services called directly against a real Postgres database,
 *   with an in-memory container runner and queues.
 * - integration: every other spec (services, processes, Redis, the Kubernetes runner, the browser).
 */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  moduleNameMapper: {
    // Test support is not a library: only jest and the typecheck map it, never the build.
    '^#osa/testing$': '<rootDir>/test/support/index.ts',
    '^#osa/runners-kubernetes$': '<rootDir>/libs/runners/src/kubernetes/index.ts',
    '^#osa/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
};

const UNIT = ['<rootDir>/test/unit/**/*.spec.ts', '<rootDir>/{apps,libs,tools,test}/**/*.unit.spec.ts'];
const MEDIUM = ['<rootDir>/test/medium/**/*.spec.ts'];

const projects = [
  { ...shared, displayName: 'unit', testMatch: UNIT },
  { ...shared, displayName: 'medium', testMatch: MEDIUM },
  {
    ...shared,
    displayName: 'integration',
    testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    testPathIgnorePatterns: ['/node_modules/', '\\.unit\\.spec\\.ts$', '<rootDir>/test/unit/', '<rootDir>/test/medium/'],
  },
];

// `npm run test:unit` / `test:medium` set OSA_TEST_PROJECT rather than pass `--selectProjects`,
// which takes every argument after it as a project name, so `npm run test:unit -- <path>` would
// not filter.
const only = process.env.OSA_TEST_PROJECT;
if (only && !projects.some((p) => p.displayName === only)) throw new Error(`OSA_TEST_PROJECT: no jest project "${only}"`);

export default {
  testTimeout: 60000,
  projects: only ? projects.filter((p) => p.displayName === only) : projects,
};
