import { campaignRow, campaignTable, rerunCommand } from '../../../chaos/campaign';
import { report } from './sample-report';

describe('a campaign', () => {
  it('reruns a seed with the options it was given, and the orders it ran', () => {
    const given = [
      { name: 'campaign', value: '5' },
      { name: 'coordination', value: 'mixed' },
      { name: 'windows', value: undefined },
    ];
    expect(rerunCommand(given, 123, 1000)).toBe('npm run chaos -- --orders 1000 --coordination mixed --windows --seed 123');
    expect(rerunCommand([{ name: 'orders', value: '200' }], 7, 200)).toBe('npm run chaos -- --orders 200 --seed 7');
  });

  it('sums a run up in one line of its table', () => {
    const row = campaignRow(1, 'npm run chaos -- --orders 3 --seed 42', report(true));
    expect(row).toMatchObject({
      seed: 42,
      passed: false,
      endings: { COMPLETED: 2, COMPENSATED: 1 },
      p99OutsideFaultsMs: { 'POST /orders': 900, 'GET /orders/:id': null, 'POST /orders/:id/cancel': 3200 },
      maxRecovery: { faults: 1, latencySeconds: 4, progressSeconds: 12.5 },
    });
    const [header, line] = campaignTable([row]);
    expect(header).toMatch(
      /^run +seed +coordination +seconds +endings +unexp\/stuck\/client\/viol +p99 place +p99 get +p99 cancel +max \(a\) +max \(b\) +result$/,
    );
    expect(line).toMatch(/^ *1 +42 +orchestration +90 +COMPENSATED 1, COMPLETED 2 +0\/0\/0\/0 +900 ms +- +3\.2 s +4\.0 s +12\.5 s +FAILED$/);
  });
});
