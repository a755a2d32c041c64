import { failedBecause, printReport } from '../../../chaos/chaos-report';
import { report } from './sample-report';

describe('the chaos report', () => {
  it('fails a run whose route broke its bound outside the faults, with a named reason', () => {
    expect(failedBecause(report(true))).toEqual(['p99 of POST /orders/:id/cancel 3.2 s > 2 s in 2 windows outside faults']);
  });

  it('only reports the broken bound where it is not enforced (the bounded test)', () => {
    expect(failedBecause(report(false))).toEqual([]);
    const lines: string[] = [];
    printReport(report(false), (line) => lines.push(line));
    const text = lines.join('\n');
    expect(text).toContain('broken (reported, not enforced in this run): p99 of POST /orders/:id/cancel 3.2 s > 2 s in 2 windows outside faults');
    expect(text).toMatch(/40 s +POST \/orders\/:id\/cancel .*3\.2 s !/);
    expect(text).toMatch(/20\.0 s +kill the worker +0\.1 s +4\.0 s +12\.5 s +2 +3\.0 s +ord_1 \(happy, orchestration\)/);
    expect(text).toContain('Result: passed');
  });
});
