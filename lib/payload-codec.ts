// AES-256-GCM encryption of Temporal payloads, after the official TypeScript
// `encryption` sample (temporalio/samples-typescript): the whole Payload
// message (its metadata and data) is serialized and encrypted, and the result
// is a new payload whose metadata says only `encoding: binary/encrypted` and
// which key encrypted it (`encryption-key-id`), so keys can rotate.
//
// The codec runs outside the workflow sandbox (in the client and in the
// worker's main thread), so it may use node:crypto.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCODING = 'binary/encrypted';
export const METADATA_ENCRYPTION_KEY_ID = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type PayloadKey = { id: string; key: Buffer };

/**
 * A key's id: a fingerprint, so nobody has to name keys, the same key gets the
 * same id in every process, and the id says nothing usable about the key.
 */
export function keyIdFor(key: Buffer): string {
  return `sha256:${createHash('sha256').update('checkout-saga payload key\0').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * A 32-byte key from its text form: 64 hex characters, or base64 (standard or
 * URL-safe) of 32 bytes, as `openssl rand -base64 32` prints. Null otherwise.
 */
export function parsePayloadKey(text: string): Buffer | null {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) {
    const key = Buffer.from(s, 'base64');
    // Buffer.from ignores trailing garbage; insist that the text is exactly this key.
    if (key.length === KEY_BYTES && key.toString('base64').replace(/=+$/, '') === s.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/')) {
      return key;
    }
  }
  return null;
}

export function payloadKey(key: Buffer): PayloadKey {
  if (key.length !== KEY_BYTES) throw new Error(`A payload key must be ${KEY_BYTES} bytes, got ${key.length}`);
  return { id: keyIdFor(key), key };
}

/** Decryption failed: the payload was changed, or it was encrypted with another key under this id. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

/** The payload names a key this process does not have. */
export class UnknownPayloadKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`Payload was encrypted with key ${keyId}, which is not configured (TEMPORAL_PAYLOAD_KEY / TEMPORAL_PAYLOAD_KEY_PREVIOUS)`);
    this.name = 'UnknownPayloadKeyError';
  }
}

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;

  /**
   * @param current encrypts everything new
   * @param previous still decrypt what older keys encrypted (key rotation)
   */
  constructor(
    private readonly current: PayloadKey,
    previous: PayloadKey[] = [],
  ) {
    this.keys = new Map([...previous, current].map((k) => [k.id, k.key]));
  }

  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  encrypt(payload: Payload): Payload {
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.current.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCODING),
        [METADATA_ENCRYPTION_KEY_ID]: Buffer.from(this.current.id),
      },
      // iv | ciphertext | tag, as the Go and Python samples lay it out.
      data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
    };
  }

  /**
   * The original payload. One that is not encrypted passes through unchanged
   * (histories recorded before encryption was switched on still decode).
   * Throws UnknownPayloadKeyError for a key we do not have, and
   * PayloadDecryptionError when the authentication tag does not verify.
   */
  decrypt(payload: Payload): Payload {
    if (!isEncrypted(payload)) return payload;
    const keyIdBytes = payload.metadata?.[METADATA_ENCRYPTION_KEY_ID];
    if (!keyIdBytes) throw new PayloadDecryptionError(`Encrypted payload has no ${METADATA_ENCRYPTION_KEY_ID}`);
    const keyId = Buffer.from(keyIdBytes).toString();
    const key = this.keys.get(keyId);
    if (!key) throw new UnknownPayloadKeyError(keyId);
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('Encrypted payload is too short to hold an IV and a tag');
    const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`Encrypted payload failed authentication under key ${keyId}: it was altered, or encrypted with another key`);
    }
    const decoded = temporal.api.common.v1.Payload.decode(plaintext);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return encoding !== undefined && encoding !== null && Buffer.from(encoding).toString() === ENCODING;
}
