import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { payloadToJson, startCodecServer, defaultCorsOrigins } from '../../../api/codec-server';
import { EncryptionCodec, payloadKey } from '../../../lib/payload-codec';

// The codec endpoint over real HTTP, as the Temporal UI and CLI call it.
const TOKEN = 'codec-test-token';
const UI = 'http://127.0.0.1:8233';
const previousKey = payloadKey(randomBytes(32));
const codec = new EncryptionCodec(payloadKey(randomBytes(32)), [previousKey]);
let server: Awaited<ReturnType<typeof startCodecServer>>;
let open: Awaited<ReturnType<typeof startCodecServer>>;

beforeAll(async () => {
  server = await startCodecServer({ codec, authToken: TOKEN, corsOrigins: defaultCorsOrigins(UI), port: 0 });
  open = await startCodecServer({ codec, authToken: null, corsOrigins: [], port: 0 });
});
afterAll(async () => {
  await server?.close();
  await open?.close();
});

const ADDRESS = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London' };
const asJson = (...values: unknown[]) => values.map((v) => payloadToJson(defaultPayloadConverter.toPayload(v)));
type JsonPayload = ReturnType<typeof payloadToJson>;

function post(path: string, body: unknown, headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` }, base = server.url) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function call(path: string, payloads: JsonPayload[]): Promise<JsonPayload[]> {
  const res = await post(path, { payloads });
  expect(res.status).toBe(200);
  return ((await res.json()) as { payloads: JsonPayload[] }).payloads;
}

const decodeValue = (p: JsonPayload) =>
  defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: p.data ? Buffer.from(p.data, 'base64') : undefined,
  } as Payload);

describe('codec server', () => {
  it('encodes and decodes a batch over HTTP', async () => {
    const encoded = await call('/encode', asJson(ADDRESS, 'tok_visa', null));
    expect(encoded).toHaveLength(3);
    for (const p of encoded) {
      expect(Buffer.from(p.metadata!.encoding, 'base64').toString()).toBe('binary/encrypted');
      expect(Buffer.from(p.metadata!['encryption-key-id'], 'base64').toString()).toBe(codec.keyId);
      expect(Buffer.from(p.data!, 'base64').toString('latin1')).not.toMatch(/Lovelace|tok_visa/);
    }
    const decoded = await call('/decode', encoded);
    expect(decoded.map(decodeValue)).toEqual([ADDRESS, 'tok_visa', null]);
  });

  it('answers on any path ending in /encode or /decode, as the protocol allows', async () => {
    const encoded = await call('/namespaces/default/encode', asJson(ADDRESS));
    expect((await call('/some/prefix/decode', encoded)).map(decodeValue)).toEqual([ADDRESS]);
  });

  it('decrypts with the previous key after a rotation', async () => {
    const [old] = await new EncryptionCodec(previousKey).encode([defaultPayloadConverter.toPayload(ADDRESS)]);
    expect((await call('/decode', [payloadToJson(old)])).map(decodeValue)).toEqual([ADDRESS]);
  });

  it('passes plain payloads and payloads under an unknown key id through unchanged', async () => {
    const [foreign] = await new EncryptionCodec(payloadKey(randomBytes(32))).encode([defaultPayloadConverter.toPayload(ADDRESS)]);
    const batch = [payloadToJson(foreign), ...asJson('plain')];
    const [encodedMine] = await call('/encode', asJson(ADDRESS));
    const decoded = await call('/decode', [...batch, encodedMine]);
    expect(decoded.slice(0, 2)).toEqual(batch);
    expect(decodeValue(decoded[2])).toEqual(ADDRESS);
  });

  it('refuses a tampered payload with 422 JSON', async () => {
    const [encoded] = await call('/encode', asJson(ADDRESS));
    const data = Buffer.from(encoded.data!, 'base64');
    data[data.length - 5] ^= 0x40;
    const res = await post('/decode', { payloads: [asJson('fine')[0], { ...encoded, data: data.toString('base64') }] });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/^Payload 1: Encrypted payload failed authentication/) });
  });

  it.each([
    ['no Authorization header', {}, 401],
    ['a malformed header', { Authorization: 'Basic abc' }, 401],
    ['a wrong token', { Authorization: 'Bearer not-the-token' }, 403],
  ])('refuses %s, before reading the body', async (_what, headers, status) => {
    const res = await post('/decode', { payloads: [] }, headers);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error: expect.any(String) });
    if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="codec"/);
  });

  it.each([
    ['malformed JSON', '{"payloads": ['],
    ['no payloads', {}],
    ['payloads not an array', { payloads: 'x' }],
    ['data not base64', { payloads: [{ data: '***' }] }],
    ['metadata not base64 strings', { payloads: [{ metadata: { encoding: 5 } }] }],
    ['a bare array', []],
  ])('answers %s with 400 JSON', async (_what, body) => {
    for (const path of ['/encode', '/decode']) {
      const res = await post(path, body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual(expect.objectContaining({ error: expect.any(String) }));
    }
  });

  it('has no other routes', async () => {
    expect((await post('/decrypt', { payloads: [] })).status).toBe(404);
    const get = await fetch(`${server.url}/decode`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(404);
  });

  it('lets the Temporal UI origin call it from the browser (CORS), preflight without a token', async () => {
    for (const origin of ['http://127.0.0.1:8233', 'http://localhost:8233']) {
      const preflight = await fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type,x-namespace' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
      expect(preflight.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/)).toEqual(
        expect.arrayContaining(['authorization', 'content-type', 'x-namespace']),
      );
      // The actual request, and its errors, carry the header too, or the browser hides the answer.
      const denied = await post('/decode', { payloads: [] }, { Origin: origin });
      expect(denied.status).toBe(401);
      expect(denied.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('gives other origins no CORS headers', async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const res = await post('/decode', { payloads: [] }, { Origin: 'http://evil.example', Authorization: `Bearer ${TOKEN}` });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('needs no token when configured without one (CODEC_AUTH_TOKEN=none)', async () => {
    const res = await post('/encode', { payloads: asJson(ADDRESS) }, {}, open.url);
    expect(res.status).toBe(200);
  });
});
