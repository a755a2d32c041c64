// npm run audit: checks the invariants of every service's store and of the
// running sagas, and exits non-zero, listing every violation, if one does not
// hold. Orders waiting for an operator are listed apart: they are not broken.
import { Client, Connection } from '@temporalio/client';
import { audit } from '../audit/audit';
import { loadConfig } from '../lib/config';
import { dataConverter } from '../lib/data-converter';
import { createDb } from '../lib/db';
import { createServices } from '../services';
import { DEFAULT_DEADLINES } from '../workflows/checkout-types';

/** Time a saga may need past its TTL to compensate before it counts as stuck. */
const COMPENSATION_GRACE_SECONDS = 120;
/** Time a closed order's fact may take through the outbox and the broker before a missing notification counts. */
const NOTIFICATION_GRACE_SECONDS = 60;

async function main(): Promise<number> {
  const config = loadConfig();
  const db = createDb(config.databaseUrl, 4);
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter(config) });
    const { violations, counts, awaitingOperator } = await audit(
      createServices(db),
      {
        maxOpenSeconds: (config.deadlines.orderTtlSeconds ?? DEFAULT_DEADLINES.orderTtlSeconds) + COMPENSATION_GRACE_SECONDS,
        notificationGraceSeconds: NOTIFICATION_GRACE_SECONDS,
      },
      { client, taskQueue: config.temporal.taskQueue },
    );
    console.log(
      `Audited ${Object.entries(counts)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ')}`,
    );
    if (awaitingOperator.length > 0) {
      console.log(`${awaitingOperator.length} order(s) waiting for an operator (POST /orders/:id/resolve):`);
      for (const o of awaitingOperator) console.log(`  ${o.orderId}  ${o.failedStep ?? '?'}: ${o.reason ?? '?'}, waiting ${o.ageSeconds} s`);
    }
    if (violations.length === 0) {
      console.log('No invariant violations.');
      return 0;
    }
    console.log(`${violations.length} invariant violation(s):`);
    for (const v of violations) console.log(`  ${v.invariant}  ${v.subject}: ${v.detail}`);
    return 1;
  } finally {
    await connection.close();
    await db.$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
