import { failedBecause, printReport } from '../../../chaos/chaos-report';
import { buildsOf } from '../../../chaos/rolling-deploy';
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

  it('fails a run with a nondeterminism error, or a saga that ended on another build than it started on', () => {
    const r = report(false);
    r.workflowTaskFailures = [{ orderId: 'ord_1', kind: 'happy', failures: [{ cause: 'non_deterministic_error', message: 'No command scheduled' }] }];
    r.deploys = {
      steps: [{ kind: 'deploy', buildId: 'b', from: 'a', atSeconds: 30, rampedAtSeconds: 31, currentAtSeconds: 39 }],
      builds: [
        { buildId: 'a', code: 'retired', started: 10, ended: 9, movedIn: 0, drainedAtSeconds: 80 },
        { buildId: 'b', code: 'current', started: 5, ended: 6, movedIn: 1, drainedAtSeconds: null },
      ],
      protectedByPinning: { histories: 10, wouldFail: 10 },
    };
    expect(failedBecause(r)).toEqual(['1 sagas with a nondeterminism error', 'sagas that ended on another build than they started on']);
    const lines: string[] = [];
    printReport(r, (line) => lines.push(line));
    const text = lines.join('\n');
    expect(text).toContain('deploy   a -> b at 30.0 s, 10 % at 31 s, current at 39 s');
    expect(text).toMatch(/a +retired +10 \/ +9 \/ 0; drained at 80 s/);
    expect(text).toContain('Pinning: 10 of the 10 sagas started on the retired build fail to replay against the current code');
  });

  it('reads which build a saga started and ended on from its workflow tasks', () => {
    const task = (buildId?: string) => ({ workflowTaskCompletedEventAttributes: buildId ? { deploymentVersion: { deploymentName: 'd', buildId } } : {} });
    expect(buildsOf({ events: [{}, task('a'), task(), task('b')] })).toEqual({ first: 'a', last: 'b' });
    expect(buildsOf({ events: [{}, task()] })).toEqual({ first: null, last: null });
  });
});
