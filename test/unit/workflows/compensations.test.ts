import { Compensations } from '../../../workflows/compensations';

// The saga's compensation stack on its own: the order of the undos, what a
// failed one leaves behind, and what a retry runs again.

/** A stack whose undos record their calls; each fails while `refuse` names it. */
function stack(keys: string[], refuse = new Set<string>()) {
  const calls: string[] = [];
  const compensations = new Compensations<string>();
  for (const key of keys) {
    compensations.add(key, async () => {
      calls.push(key);
      if (refuse.has(key)) throw new Error(`${key} refused`);
    });
  }
  return { compensations, calls, refuse };
}

describe('Compensations', () => {
  it('undoes last in, first out, and reports no failure when every undo succeeds', async () => {
    const { compensations, calls } = stack(['reserveInventory', 'authorizePayment', 'createShipment']);
    await expect(compensations.runAll()).resolves.toEqual([]);
    expect(calls).toEqual(['createShipment', 'authorizePayment', 'reserveInventory']);
  });

  it('does not undo twice: a second run after a clean one finds nothing owed', async () => {
    const { compensations, calls } = stack(['reserveInventory', 'authorizePayment']);
    await compensations.runAll();
    await expect(compensations.runAll()).resolves.toEqual([]);
    expect(calls).toEqual(['authorizePayment', 'reserveInventory']);
  });

  it('goes on past a failed undo and reports it with its error', async () => {
    const { compensations, calls } = stack(['reserveInventory', 'authorizePayment', 'createShipment'], new Set(['authorizePayment']));
    const failed = await compensations.runAll();
    expect(calls).toEqual(['createShipment', 'authorizePayment', 'reserveInventory']);
    expect(failed).toEqual([{ key: 'authorizePayment', error: new Error('authorizePayment refused') }]);
  });

  it('keeps only the failed undos: the next run retries exactly those, still last in, first out', async () => {
    const { compensations, calls, refuse } = stack(['a', 'b', 'c', 'd'], new Set(['b', 'd']));
    expect((await compensations.runAll()).map((f) => f.key)).toEqual(['d', 'b']);

    calls.length = 0;
    refuse.delete('d');
    expect((await compensations.runAll()).map((f) => f.key)).toEqual(['b']);
    expect(calls).toEqual(['d', 'b']);

    calls.length = 0;
    refuse.clear();
    await expect(compensations.runAll()).resolves.toEqual([]);
    expect(calls).toEqual(['b']);
  });

  it('tells the hooks before and after each undo, with the error of a failed one', async () => {
    const { compensations } = stack(['reserveInventory', 'authorizePayment'], new Set(['authorizePayment']));
    const events: string[] = [];
    await compensations.runAll({
      before: (key) => events.push(`before ${key}`),
      after: (key, error) => events.push(`after ${key}${error ? `: ${(error as Error).message}` : ''}`),
    });
    expect(events).toEqual([
      'before authorizePayment',
      'after authorizePayment: authorizePayment refused',
      'before reserveInventory',
      'after reserveInventory',
    ]);
  });

  it('waits for each undo before the next one starts', async () => {
    const compensations = new Compensations<string>();
    const events: string[] = [];
    const slow = (key: string) => async () => {
      events.push(`start ${key}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(`end ${key}`);
    };
    compensations.add('first', slow('first'));
    compensations.add('second', slow('second'));
    await compensations.runAll();
    expect(events).toEqual(['start second', 'end second', 'start first', 'end first']);
  });

  it('shows every undo pushed, in that order, and how far each got, also once off the stack', async () => {
    const { compensations, refuse } = stack(['a', 'b', 'c'], new Set(['b']));
    expect(compensations.view()).toEqual([
      { key: 'a', status: 'registered' },
      { key: 'b', status: 'registered' },
      { key: 'c', status: 'registered' },
    ]);
    await compensations.runAll();
    expect(compensations.view().map((u) => u.status)).toEqual(['undone', 'failed', 'undone']);
    refuse.clear();
    await compensations.runAll();
    expect(compensations.view().map((u) => u.status)).toEqual(['undone', 'undone', 'undone']);
  });
});
