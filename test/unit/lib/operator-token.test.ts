import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DEV_OPERATOR_TOKEN, loadConfig, operatorToken } from '../../../lib/config';

// Which token the operator endpoints require (lib/config.ts, operatorToken());
// test/api/operator-auth.test.ts checks the endpoints' guard itself.

describe('operator token configuration', () => {
  const tokenFor = (env: NodeJS.ProcessEnv) => operatorToken(loadConfig(env));

  it('defaults to the documented dev token outside production', () => {
    expect(tokenFor({})).toBe(DEV_OPERATOR_TOKEN);
    expect(tokenFor({ OPERATOR_TOKEN: '' })).toBe(DEV_OPERATOR_TOKEN);
    expect(tokenFor({ OPERATOR_TOKEN: 'mine' })).toBe('mine');
  });

  it('in production, refuses a missing, public or short token', () => {
    expect(() => tokenFor({ NODE_ENV: 'production' })).toThrow(/OPERATOR_TOKEN must be set/);
    expect(() => tokenFor({ NODE_ENV: 'production', OPERATOR_TOKEN: '' })).toThrow(/OPERATOR_TOKEN must be set/);
    expect(() => tokenFor({ NODE_ENV: 'production', OPERATOR_TOKEN: DEV_OPERATOR_TOKEN })).toThrow(/dev default/);
    expect(() => tokenFor({ NODE_ENV: 'production', OPERATOR_TOKEN: 'short' })).toThrow(/at least 16/);
    expect(tokenFor({ NODE_ENV: 'production', OPERATOR_TOKEN: 'a'.repeat(32) })).toBe('a'.repeat(32));
  });

  it('refuses a token no client could send in a header', () => {
    expect(() => loadConfig({ OPERATOR_TOKEN: 'has space' })).toThrow(/Bearer token/);
  });

  it('the API process exits at startup in production without a token', () => {
    const root = path.resolve(__dirname, '../../..');
    const run = spawnSync(path.join(root, 'node_modules/.bin/tsx'), ['api/server.ts'], {
      cwd: root,
      // An address nothing listens on: had it gone past the check, it would hang or fail differently.
      env: { ...process.env, NODE_ENV: 'production', OPERATOR_TOKEN: '', TEMPORAL_ADDRESS: '127.0.0.1:1', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/OPERATOR_TOKEN must be set when NODE_ENV=production/);
  });
});
