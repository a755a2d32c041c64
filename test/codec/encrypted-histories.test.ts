import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { CheckoutClient } from '../../api/checkout-client';
import { dataConverter } from '../../lib/data-converter';
import { EncryptionCodec, isEncrypted, payloadKey } from '../../lib/payload-codec';
import { runScenario, type ScenarioRun } from '../support/run-scenario';
import { ADDRESS } from '../support/scenarios';
import { startTestStack, type TestStack } from '../support/test-stack';
import { CUSTOMER_ID } from '../../workflows/search-attributes';

// A real saga on the dev server with TEMPORAL_PAYLOAD_KEY set: what Temporal
// stores must hold no personal data, and the app must work exactly as before.
const key = payloadKey(randomBytes(32));
const converter = dataConverter({ payloadKeys: { current: key, previous: [] } });
const codec = converter.payloadCodecs![0] as EncryptionCodec;
const PII = [ADDRESS.name, ADDRESS.line1, ADDRESS.city, ADDRESS.postalCode, 'tok_visa', 'tok_refund_fails', 'refunded by bank transfer'];

const LOCAL_ACTIVITY_BOOKKEEPING = ['seq', 'attempt', 'activity_id', 'activity_type', 'complete_time', 'backoff', 'original_schedule_time'];

let stack: TestStack;
let plainClient: Client;
const runs: Record<string, ScenarioRun> = {};

beforeAll(async () => {
  stack = await startTestStack({ dataConverter: converter });
  // The same server, no codec: what anyone with access to Temporal (its database, the UI without the codec) sees.
  plainClient = new Client({ connection: stack.client.connection, namespace: 'default' });
  runs['happy-path'] = await runScenario(stack, 'happy-path');
  runs['refund-fails-manual-resolution'] = await runScenario(stack, 'refund-fails-manual-resolution');
}, 120_000);
afterAll(() => stack?.stop());

/** Every payload message anywhere in a history's JSON form, search attributes left out (no codec sees them). */
function payloadsIn(node: unknown, found: Payload[] = []): Payload[] {
  if (Array.isArray(node)) node.forEach((n) => payloadsIn(n, found));
  else if (node && typeof node === 'object') {
    // Search attributes are indexed by the server and no codec sees them; the SDK writes the patch
    // markers of patched() itself ({"id":"fraud-check","deprecated":false}), also uncoded.
    if ((node as { markerName?: string }).markerName === 'core_patch') return found;
    // A local activity's marker holds its result (a payload, encoded like any other) and the SDK's own
    // bookkeeping under `data` ({"seq":1,"attempt":1,"activity_type":"createOrder",…}), written uncoded.
    if ((node as { markerName?: string }).markerName === 'core_local_activity') {
      const { result, data } = (node as { details: { result: unknown; data: { payloads: { data: string }[] } } }).details;
      for (const p of data.payloads) expect(Object.keys(JSON.parse(Buffer.from(p.data, 'base64').toString()))).toEqual(LOCAL_ACTIVITY_BOOKKEEPING);
      return payloadsIn(result, found);
    }
    // Headers carry only the OpenTelemetry trace context (`_tracer-data`, a traceparent), which the
    // tracing interceptors write with the default converter, outside the codec; checked below.
    const header = (node as { header?: { fields?: Record<string, unknown> } }).header;
    if (header?.fields) expect(Object.keys(header.fields).filter((k) => k !== '_tracer-data')).toEqual([]);
    const o = Object.fromEntries(Object.entries(node).filter(([k]) => k !== 'searchAttributes' && k !== 'header'));
    if (o.metadata && typeof o.metadata === 'object' && 'encoding' in (o.metadata as object)) {
      found.push({
        metadata: Object.fromEntries(Object.entries(o.metadata as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        data: typeof o.data === 'string' ? Buffer.from(o.data, 'base64') : undefined,
      });
    } else Object.values(o).forEach((n) => payloadsIn(n, found));
  }
  return found;
}

/** The history's JSON with every base64 string also decoded: plaintext cannot hide in base64. */
function everythingReadable(historyJson: string): string {
  const decoded: string[] = [];
  JSON.parse(historyJson, (_k, v) => {
    if (typeof v === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(v) && v.length % 4 === 0) decoded.push(Buffer.from(v, 'base64').toString('latin1'));
    return v;
  });
  return `${historyJson}\n${decoded.join('\n')}`;
}

describe.each(['happy-path', 'refund-fails-manual-resolution'])('an encrypted %s saga', (name) => {
  it('ends as it does without encryption, read through the codec', () => {
    expect(runs[name].state.status).toBe(name === 'happy-path' ? 'COMPLETED' : 'RESOLVED_MANUALLY');
  });

  it('leaves no shipping address, customer name, payment token or operator note in the raw history', async () => {
    const raw = historyToJSON(await plainClient.workflow.getHandle(runs[name].handle.workflowId).fetchHistory());
    const readable = everythingReadable(raw);
    for (const secret of PII) expect(readable).not.toContain(secret);

    const payloads = payloadsIn(JSON.parse(raw));
    expect(payloads.length).toBeGreaterThan(5);
    expect(payloads.filter((p) => !isEncrypted(p))).toEqual([]);
  });

  it('decodes with the key: the address and token are really in there', async () => {
    const raw = historyToJSON(await runs[name].handle.fetchHistory());
    const decoded = await codec.decode(payloadsIn(JSON.parse(raw)));
    const values = JSON.stringify(decoded.map((p) => defaultPayloadConverter.fromPayload(p)));
    expect(values).toContain(ADDRESS.line1);
    expect(values).toContain(ADDRESS.city);
    expect(values).toContain(ADDRESS.name);
    expect(values).toContain(name === 'happy-path' ? 'tok_visa' : 'refunded by bank transfer');
  });

  it('replays with the same data converter', async () => {
    const history = historyFromJSON(JSON.parse(historyToJSON(await runs[name].handle.fetchHistory())));
    await expect(
      Worker.runReplayHistory({ workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, dataConverter: converter }, history, name),
    ).resolves.toBeUndefined();
  });
});

it('cannot replay an encrypted history without the key', async () => {
  const history = await runs['happy-path'].handle.fetchHistory();
  await expect(Worker.runReplayHistory({ workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! } }, history, 'no-key')).rejects.toThrow(
    /Unknown encoding: binary\/encrypted/,
  );
});

it('still replays the committed plaintext histories with the codec configured', async () => {
  // The current build's: a retired build's are replayed against its own bundle (test/replay/).
  const dir = join(__dirname, '..', 'histories', 'current');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const histories = files.map((f) => ({ workflowId: f, history: historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8'))) }));
  const failed: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, dataConverter: converter },
    histories,
  )) {
    if (result.error) failed.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failed).toEqual([]);
  expect(files.length).toBeGreaterThan(10);
});

it('keeps search attributes readable (they are not payloads a codec sees) and encrypts the memo', async () => {
  const checkouts = new CheckoutClient(stack.client, stack.taskQueue, { orderTtlSeconds: 60, shippingSlaSeconds: 30, paymentHoldSeconds: 60 });
  const orderId = `ord_memo_${randomBytes(6).toString('hex')}`;
  const sku = runs['happy-path'].sku;
  const input = { orderId, customerId: 'cust_memo', items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' }, shippingAddress: ADDRESS };
  const started = await checkouts.start(input, 'hash-of-the-body');
  expect(started).toEqual(expect.objectContaining({ replayed: false }));
  // The API's idempotency check reads the memo back through the codec.
  expect(await checkouts.start(input, 'hash-of-the-body')).toEqual(expect.objectContaining({ replayed: true }));
  expect(await checkouts.start(input, 'another-hash')).toBe('conflict');

  const workflowId = started === 'conflict' ? '' : started.workflowId;
  // Without the codec the memo cannot even be read.
  await expect(plainClient.workflow.getHandle(workflowId).describe()).rejects.toThrow(/Unknown encoding: binary\/encrypted/);
  const { workflowExecutionInfo } = await plainClient.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });
  expect(isEncrypted(workflowExecutionInfo!.memo!.fields!.requestHash as Payload)).toBe(true);
  const attribute = workflowExecutionInfo!.searchAttributes!.indexedFields![CUSTOMER_ID.name] as Payload;
  expect(isEncrypted(attribute)).toBe(false);
  expect(defaultPayloadConverter.fromPayload(attribute)).toBe('cust_memo');
  expect((await stack.client.workflow.getHandle(workflowId).describe()).memo).toEqual({ requestHash: 'hash-of-the-body' });
  await stack.client.workflow.getHandle(workflowId).result();
});
