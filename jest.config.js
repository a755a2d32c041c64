// The suite runs the app in development mode (the dev operator token, a codec
// endpoint without a token). Jest would set NODE_ENV=test, which the app
// refuses (lib/config.ts); tests of the other modes pass NODE_ENV themselves.
process.env.NODE_ENV = 'development';

/** @type {import('jest').Config} */
const typescript = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
};

module.exports = {
  // Two cores: more workers only make the dev server and PostgreSQL contend.
  maxWorkers: 2,
  // For the integration tests, which wait for real servers. Jest reads it only
  // here, not per project.
  testTimeout: 60_000,
  projects: [
    {
      ...typescript,
      // Pure code, in seconds, with no server of any kind (npm run test:unit).
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      ...typescript,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['<rootDir>/test/unit/'],
      // One real Temporal dev server and a migrated template database for the run.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/quiet-runtime.ts'],
    },
  ],
};
