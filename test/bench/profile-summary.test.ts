import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { summarizeProfiles } from '../../bench/profile';

// Two threads' profiles as `node --cpu-prof` writes them: a tree of call
// frames, and samples with the µs since the previous one.
function profile(startTime: number, samples: { frame: number; deltaUs: number }[]) {
  return {
    startTime,
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 3, 4] },
      { id: 2, callFrame: { functionName: '(idle)', url: '' } },
      { id: 3, callFrame: { functionName: 'request', url: 'file:///app/node_modules/@prisma/client/runtime/client.js' } },
      { id: 4, callFrame: { functionName: 'runInContext', url: '' } },
    ],
    samples: samples.map((s) => s.frame),
    timeDeltas: samples.map((s) => s.deltaUs),
  };
}

describe('bench CPU profile summary', () => {
  it('counts only the samples inside each window, per thread, by place', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'profiles-'));
    // Main thread: Prisma for the first 1000 µs (outside the window), then half idle, half Prisma.
    writeFileSync(
      path.join(dir, 'CPU.20261125.120000.42.0.001.cpuprofile'),
      JSON.stringify(profile(0, [{ frame: 3, deltaUs: 1000 }, ...Array.from({ length: 10 }, (_, i) => ({ frame: i % 2 ? 2 : 3, deltaUs: 100 }))])),
    );
    // The workflow sandbox thread: busy for the whole window.
    writeFileSync(
      path.join(dir, 'CPU.20261125.120000.42.1.002.cpuprofile'),
      JSON.stringify(profile(0, [{ frame: 4, deltaUs: 1000 }, ...Array.from({ length: 10 }, () => ({ frame: 4, deltaUs: 100 }))])),
    );

    const text = summarizeProfiles(dir, [{ label: 'C=10', windowUs: [1050, 2050] }]);

    expect(text).toContain('C=10');
    expect(text).toMatch(/main thread .*: busy 50% of the window; 100% @prisma\/client/);
    expect(text).toMatch(/workflow sandbox thread: busy 100% of the window; 100% native runInContext/);
  });

  it('leaves out a thread that slept through the window', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'profiles-'));
    writeFileSync(path.join(dir, 'CPU.20261125.120000.42.3.003.cpuprofile'), JSON.stringify(profile(0, [{ frame: 2, deltaUs: 5000 }])));
    expect(summarizeProfiles(dir, [{ label: 'C=1', windowUs: [0, 5000] }])).not.toContain('thread 3');
  });
});
