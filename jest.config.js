/** Jest runs the TypeScript sources as native ES modules (see README "Module format"). */
export default {
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
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  testTimeout: 60000,
  setupFiles: ['reflect-metadata'],
};
