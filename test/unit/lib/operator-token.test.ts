import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DEV_OPERATOR_TOKEN, loadConfig, operatorToken } from '../../../lib/config';

// Which token the operator endpoints require (lib/config.ts, operatorToken());
// test/api/operator-auth.test.ts checks the endpoints' guard itself.

describe('operator token configuration', () => {
  const tokenFor = (env: NodeJS.ProcessEnv) => operatorToken(loadConfig(env));

  it('defaults to the documented dev token with NODE_ENV=development', () => {
    const dev = { NODE_ENV: 'development' };
    expect(tokenFor(dev)).toBe(DEV_OPERATOR_TOKEN);
    expect(tokenFor({ ...dev, OPERATOR_TOKEN: '' })).toBe(DEV_OPERATOR_TOKEN);
    expect(tokenFor({ ...dev, OPERATOR_TOKEN: 'mine' })).toBe('mine');
  });

  it.each([
    ['NODE_ENV=production', { NODE_ENV: 'production' }],
    ['NODE_ENV unset', {}],
  ])('with %s, refuses a missing, public or short token', (_mode, env) => {
    expect(() => tokenFor(env)).toThrow(/OPERATOR_TOKEN must be set/);
    expect(() => tokenFor({ ...env, OPERATOR_TOKEN: '' })).toThrow(/OPERATOR_TOKEN must be set/);
    expect(() => tokenFor({ ...env, OPERATOR_TOKEN: DEV_OPERATOR_TOKEN })).toThrow(/public development default/);
    expect(() => tokenFor({ ...env, OPERATOR_TOKEN: 'short' })).toThrow(/at least 16/);
    expect(tokenFor({ ...env, OPERATOR_TOKEN: 'a'.repeat(32) })).toBe('a'.repeat(32));
  });

  it('refuses a token no client could send in a header', () => {
    expect(() => loadConfig({ OPERATOR_TOKEN: 'has space' })).toThrow(/Bearer token/);
  });

  it.each([
    ['in production without a token', { NODE_ENV: 'production', OPERATOR_TOKEN: '' }, /OPERATOR_TOKEN must be set unless NODE_ENV=development/],
    ['without NODE_ENV, with the public dev token', { NODE_ENV: undefined, OPERATOR_TOKEN: DEV_OPERATOR_TOKEN }, /OPERATOR_TOKEN must not be the public/],
    ['with an unknown NODE_ENV', { NODE_ENV: 'staging', OPERATOR_TOKEN: 'a'.repeat(32) }, /NODE_ENV: must be production or development/],
  ])('the API process exits at startup %s, with one line that names the variable', (_case, vars, message) => {
    const root = path.resolve(__dirname, '../../..');
    const run = spawnSync(path.join(root, 'node_modules/.bin/tsx'), ['api/server.ts'], {
      cwd: root,
      // An address nothing listens on: had it gone past the check, it would hang or fail differently.
      env: { ...process.env, ...vars, TEMPORAL_ADDRESS: '127.0.0.1:1', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).msg).toMatch(message);
  });
});
