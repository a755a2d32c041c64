// The suite runs the app in development mode (the dev operator token, a codec
// endpoint without a token). Jest would set NODE_ENV=test, which the app
// refuses (lib/config.ts); tests of the other modes pass NODE_ENV themselves.
process.env.NODE_ENV = 'development';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // One real Temporal dev server and a migrated template database for the run.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/quiet-runtime.ts'],
  // Two cores: more workers only make the dev server and PostgreSQL contend.
  maxWorkers: 2,
  testTimeout: 60_000,
};
