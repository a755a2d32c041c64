import { audit } from '../../audit/audit';
import type { Services } from '../../services';

/** The last test of an integration file: every saga it ran left the stores consistent. */
export function itLeavesTheStoresConsistent(services: () => Services): void {
  it('leaves every store consistent (the invariant auditor finds nothing)', async () => {
    // These stacks do not all run the outbox relay, so a missing notification is
    // not checked here (test/messaging/ and the chaos run check it); a second one is.
    const { violations } = await audit(services(), { maxOpenSeconds: 3600, notificationGraceSeconds: 3600, recheckAfterMs: 200 });
    expect(violations).toEqual([]);
  });
}
