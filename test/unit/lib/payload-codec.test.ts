import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { codecAuthToken, DEV_OPERATOR_TOKEN, loadConfig } from '../../../lib/config';
import { dataConverter } from '../../../lib/data-converter';
import { ENCODING, EncryptionCodec, METADATA_ENCRYPTION_KEY_ID, PayloadDecryptionError, payloadKey, UnknownPayloadKeyError } from '../../../lib/payload-codec';

const ADDRESS = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London' };
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (p: Payload) =>
  Buffer.concat([...Object.values(p.metadata ?? {}), p.data ?? new Uint8Array()].map((b) => Buffer.from(b ?? []))).toString('latin1');

describe('EncryptionCodec', () => {
  const key = payloadKey(randomBytes(32));
  const codec = new EncryptionCodec(key);

  it('encrypts the whole payload, metadata included, and decrypts it back', async () => {
    const original = plain(ADDRESS);
    const [encrypted] = await codec.encode([original]);
    expect(Buffer.from(encrypted.metadata![METADATA_ENCODING_KEY]).toString()).toBe(ENCODING);
    expect(Buffer.from(encrypted.metadata![METADATA_ENCRYPTION_KEY_ID]).toString()).toBe(key.id);
    expect(Object.keys(encrypted.metadata!).sort()).toEqual([METADATA_ENCODING_KEY, METADATA_ENCRYPTION_KEY_ID].sort());
    expect(text(encrypted)).not.toMatch(/Lovelace|Analytical|London|json\/plain/);
    const [decrypted] = await codec.decode([encrypted]);
    expect(defaultPayloadConverter.fromPayload(decrypted)).toEqual(ADDRESS);
    expect(Buffer.from(decrypted.metadata![METADATA_ENCODING_KEY]).toString()).toBe('json/plain');
  });

  it('uses a fresh IV for every payload', async () => {
    const [a, b] = await codec.encode([plain(ADDRESS), plain(ADDRESS)]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
    expect(Buffer.from(a.data!).subarray(0, 12).equals(Buffer.from(b.data!).subarray(0, 12))).toBe(false);
  });

  it('passes payloads that are not encrypted through (histories from before the key)', async () => {
    const original = plain({ hello: 'world' });
    expect(await codec.decode([original])).toEqual([original]);
  });

  it.each([
    ['a ciphertext byte', (d: Buffer) => (d[20] ^= 1)],
    ['the IV', (d: Buffer) => (d[0] ^= 1)],
    ['the tag', (d: Buffer) => (d[d.length - 1] ^= 1)],
  ])('refuses a payload whose %s was changed (GCM authentication)', async (_what, tamper) => {
    const [encrypted] = await codec.encode([plain(ADDRESS)]);
    const data = Buffer.from(encrypted.data!);
    tamper(data);
    const decoding = codec.decode([{ ...encrypted, data }]);
    await expect(decoding).rejects.toBeInstanceOf(PayloadDecryptionError);
    await expect(codec.decode([{ ...encrypted, data }])).rejects.toThrow(/failed authentication under key sha256:[0-9a-f]{16}: it was altered/);
  });

  it('refuses a truncated payload and one without a key id', async () => {
    const [encrypted] = await codec.encode([plain(ADDRESS)]);
    await expect(codec.decode([{ ...encrypted, data: Buffer.from(encrypted.data!).subarray(0, 20) }])).rejects.toThrow(/too short/);
    const { [METADATA_ENCRYPTION_KEY_ID]: _, ...metadata } = encrypted.metadata!;
    await expect(codec.decode([{ ...encrypted, metadata }])).rejects.toThrow(/no encryption-key-id/);
  });

  it('names a key id it does not have', async () => {
    const other = new EncryptionCodec(payloadKey(randomBytes(32)));
    const [encrypted] = await other.encode([plain(ADDRESS)]);
    await expect(codec.decode([encrypted])).rejects.toBeInstanceOf(UnknownPayloadKeyError);
    await expect(codec.decode([encrypted])).rejects.toThrow(new RegExp(`key ${other.keyId}, which is not configured`));
  });

  it('rotates: the new key encrypts, the previous one still decrypts', async () => {
    const old = payloadKey(randomBytes(32));
    const [before] = await new EncryptionCodec(old).encode([plain(ADDRESS)]);
    const rotated = new EncryptionCodec(key, [old]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([before]))[0])).toEqual(ADDRESS);
    const [after] = await rotated.encode([plain(ADDRESS)]);
    expect(Buffer.from(after.metadata![METADATA_ENCRYPTION_KEY_ID]).toString()).toBe(key.id);
    await expect(new EncryptionCodec(old).decode([after])).rejects.toBeInstanceOf(UnknownPayloadKeyError);
  });
});

describe('TEMPORAL_PAYLOAD_KEY configuration', () => {
  const raw = randomBytes(32);

  it('is off without a key', () => {
    expect(loadConfig({}).payloadKeys).toBeUndefined();
    expect(loadConfig({ TEMPORAL_PAYLOAD_KEY: '' }).payloadKeys).toBeUndefined();
    expect(dataConverter(loadConfig({}))).toEqual({});
  });

  it('takes 32 bytes as base64 (openssl rand -base64 32) or as 64 hex characters, with the same key id', () => {
    const fromBase64 = loadConfig({ TEMPORAL_PAYLOAD_KEY: raw.toString('base64') }).payloadKeys!.current;
    const fromHex = loadConfig({ TEMPORAL_PAYLOAD_KEY: raw.toString('hex') }).payloadKeys!.current;
    const fromUrlSafe = loadConfig({ TEMPORAL_PAYLOAD_KEY: raw.toString('base64url') }).payloadKeys!.current;
    expect(fromBase64.key.equals(raw)).toBe(true);
    expect(fromHex).toEqual(fromBase64);
    expect(fromUrlSafe).toEqual(fromBase64);
    expect(dataConverter(loadConfig({ TEMPORAL_PAYLOAD_KEY: raw.toString('hex') })).payloadCodecs).toHaveLength(1);
  });

  it.each([
    ['16 bytes of base64', randomBytes(16).toString('base64')],
    ['33 bytes of base64', randomBytes(33).toString('base64')],
    ['62 hex characters', randomBytes(31).toString('hex')],
    ['a passphrase', 'correct horse battery staple'],
    ['base64 with trailing junk', raw.toString('base64') + 'AAAA'],
  ])('refuses %s at startup, without repeating the value', (_what, value) => {
    let error: unknown;
    try {
      loadConfig({ TEMPORAL_PAYLOAD_KEY: value });
    } catch (err) {
      error = err;
    }
    expect(String(error)).toMatch(/TEMPORAL_PAYLOAD_KEY/);
    expect(String(error)).toMatch(/must be 32 bytes: 64 hex characters, or base64 of 32 bytes/);
    expect(String(error)).not.toContain(value);
  });

  it('keeps previous keys (comma-separated) for decrypting, and needs a current key for them', () => {
    const prev = [randomBytes(32), randomBytes(32)];
    const keys = loadConfig({ TEMPORAL_PAYLOAD_KEY: raw.toString('base64'), TEMPORAL_PAYLOAD_KEY_PREVIOUS: prev.map((k) => k.toString('hex')).join(', ') })
      .payloadKeys!;
    expect(keys.previous.map((k) => k.key.toString('hex'))).toEqual(prev.map((k) => k.toString('hex')));
    expect(() => loadConfig({ TEMPORAL_PAYLOAD_KEY: raw.toString('base64'), TEMPORAL_PAYLOAD_KEY_PREVIOUS: 'short' })).toThrow(/key 1 must be 32 bytes/);
    expect(() => loadConfig({ TEMPORAL_PAYLOAD_KEY_PREVIOUS: prev[0].toString('hex') })).toThrow(/rotation needs a current key/);
  });

  it('protects the codec endpoint with CODEC_AUTH_TOKEN, else the operator token; none only in development', () => {
    const dev = { NODE_ENV: 'development' };
    expect(codecAuthToken(loadConfig(dev))).toBe(DEV_OPERATOR_TOKEN);
    expect(codecAuthToken(loadConfig({ ...dev, OPERATOR_TOKEN: 'op-token-op-token-1' }))).toBe('op-token-op-token-1');
    expect(codecAuthToken(loadConfig({ ...dev, CODEC_AUTH_TOKEN: 'codec-token' }))).toBe('codec-token');
    expect(codecAuthToken(loadConfig({ ...dev, CODEC_AUTH_TOKEN: 'none' }))).toBeNull();
    for (const env of [{ NODE_ENV: 'production' }, {}]) {
      expect(() => codecAuthToken(loadConfig({ ...env, CODEC_AUTH_TOKEN: 'none', OPERATOR_TOKEN: 'x'.repeat(32) }))).toThrow(
        /refused unless NODE_ENV=development/,
      );
      expect(() => codecAuthToken(loadConfig(env))).toThrow(/OPERATOR_TOKEN must be set/);
    }
  });
});
