import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { devServerArgs, serverDynamicConfig } from '../../../scripts/temporal-settings';

describe('the Temporal server settings', () => {
  it('are the same for docker compose (deploy/temporal-dynamic-config.yaml) as for every server the scripts start', () => {
    const file = parse(readFileSync(path.join(__dirname, '../../../deploy/temporal-dynamic-config.yaml'), 'utf8')) as Record<string, { value: unknown }[]>;
    const fromFile = Object.fromEntries(Object.entries(file).map(([key, [{ value }]]) => [key, value]));
    expect(fromFile).toEqual(serverDynamicConfig());
  });

  it('leave out a lever for an A/B, and only that one', () => {
    const all = serverDynamicConfig();
    const without = serverDynamicConfig(['history queue reads']);
    expect(without).toEqual({ 'system.enableActivityEagerExecution': true });
    expect(Object.keys(all)).toEqual(expect.arrayContaining(['history.transferProcessorMaxPollRPS', ...Object.keys(without)]));
  });

  it('become start-dev arguments the CLI parses as YAML values', () => {
    expect(devServerArgs({ 'a.b': true, 'c.d': 5000, 'e.f': 'x' })).toEqual([
      '--dynamic-config-value',
      'a.b=true',
      '--dynamic-config-value',
      'c.d=5000',
      '--dynamic-config-value',
      'e.f="x"',
    ]);
  });
});
