import type { DataConverter } from '@temporalio/common';
import type { Config } from './config';
import { EncryptionCodec } from './payload-codec';

/**
 * The one place that decides how payloads are stored in Temporal. Every
 * client and worker of the app takes its data converter from here: the
 * worker, the API, the scripts and the tests' stacks.
 *
 * With TEMPORAL_PAYLOAD_KEY set, workflow and activity inputs and results,
 * update arguments, failure details and the memo are encrypted (AES-256-GCM)
 * before they leave the process. Search attributes are not: codecs never see
 * them, so OrderStatus and CustomerId stay readable (and must not hold PII).
 */
export function dataConverter(config: Pick<Config, 'payloadKeys'>): DataConverter {
  const codec = payloadCodec(config);
  return codec ? { payloadCodecs: [codec] } : {};
}

export function payloadCodec(config: Pick<Config, 'payloadKeys'>): EncryptionCodec | undefined {
  const keys = config.payloadKeys;
  return keys ? new EncryptionCodec(keys.current, keys.previous) : undefined;
}
