// `npm run codec`: a Temporal codec server, so that the Web UI and the CLI can
// show encrypted payloads in clear, on the operator's screen, without the key
// ever leaving this process. It implements the codec server protocol
// (temporalio/samples-go codec-server/protocol.md): POST .../encode and
// POST .../decode, each taking and returning {payloads: [...]} in the protobuf
// JSON form of Payload (metadata values and data base64).
import { createServer, type Server } from 'node:http';
import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { codecAuthToken, loadConfig } from '../lib/config';
import { payloadCodec } from '../lib/data-converter';
import { EncryptionCodec, PayloadDecryptionError, UnknownPayloadKeyError } from '../lib/payload-codec';
import { HttpError, errorHandler, notFound } from './http-error';
import { requireOperator } from './operator-auth';

/** Histories can carry many payloads of up to 2 MB each; the UI sends them in one request. */
export const CODEC_BODY_LIMIT = '8mb';

// Standard or URL-safe base64, as protobuf JSON parsers accept.
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');
const jsonPayload = z.object({
  metadata: z.record(z.string(), base64).nullish(),
  data: base64.nullish(),
});
const payloadsBody = z.object({ payloads: z.array(jsonPayload) });
type JsonPayload = z.infer<typeof jsonPayload>;

export function payloadFromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])) : undefined,
    data: data ? Buffer.from(data, 'base64') : undefined,
  };
}

export function payloadToJson({ metadata, data }: Payload): { metadata?: Record<string, string>; data?: string } {
  return {
    ...(metadata && { metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])) }),
    ...(data && data.length > 0 && { data: Buffer.from(data).toString('base64') }),
  };
}

export type CodecServerOptions = {
  codec: EncryptionCodec;
  /** The bearer token every request needs; null for none. */
  authToken: string | null;
  /** Browser origins allowed to call (the Temporal UI's). */
  corsOrigins: string[];
};

/**
 * Decode answers payloads it cannot decrypt because their key is not
 * configured (retired, or another deployment's) unchanged, as the official
 * samples pass on what is not theirs to decode: the UI then shows those still
 * encrypted and the rest in clear. A payload that fails authentication under a
 * key we do have has been tampered with: 422, nothing decoded.
 */
export function createCodecApp({ codec, authToken, corsOrigins }: CodecServerOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // CORS first: a preflight carries no Authorization header, and error
  // responses need the CORS headers too, or the browser hides them.
  app.use(cors(corsOrigins));
  if (authToken !== null) {
    app.use(requireOperator(authToken, { realm: 'codec', hint: 'The codec endpoint requires Authorization: Bearer <token>' }));
  }
  // Any content type is read as JSON: codec clients differ in what they send.
  const json = express.json({ limit: CODEC_BODY_LIMIT, strict: true, type: () => true });
  const parse = (body: unknown): Payload[] => {
    const parsed = payloadsBody.safeParse(body);
    if (!parsed.success) throw HttpError.invalid(parsed.error, 'Expected {"payloads": [{"metadata": {...base64}, "data": base64}]}');
    return parsed.data.payloads.map(payloadFromJson);
  };

  // The protocol says to look only at the last path segment, so the server can be mounted at any prefix.
  app.post(/\/encode$/, json, (req, res) => {
    res.json({ payloads: parse(req.body).map((p) => payloadToJson(codec.encrypt(p))) });
  });
  app.post(/\/decode$/, json, (req, res) => {
    const payloads = parse(req.body).map((p, i) => {
      try {
        return codec.decrypt(p);
      } catch (err) {
        if (err instanceof UnknownPayloadKeyError) return p;
        if (err instanceof PayloadDecryptionError) throw new HttpError(422, `Payload ${i}: ${err.message}`);
        throw err;
      }
    });
    res.json({ payloads: payloads.map(payloadToJson) });
  });
  app.use(notFound);
  app.use(errorHandler);
  return app;
}

function cors(origins: string[]): RequestHandler {
  const allowed = new Set(origins.map((o) => o.replace(/\/$/, '')));
  return (req, res, next) => {
    const origin = req.get('Origin');
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.vary('Origin');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
        res.setHeader('Access-Control-Max-Age', '600');
      }
    }
    // A preflight never reaches the routes (nor the token check); one from a
    // foreign origin gets no CORS headers, so the browser blocks the request.
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

/** The Temporal UI's origin, with its localhost / 127.0.0.1 twin: a browser may use either name. */
export function defaultCorsOrigins(uiUrl: string): string[] {
  const url = new URL(uiUrl);
  const origins = [url.origin];
  const twin = url.hostname === '127.0.0.1' ? 'localhost' : url.hostname === 'localhost' ? '127.0.0.1' : undefined;
  if (twin) origins.push(`${url.protocol}//${twin}${url.port ? `:${url.port}` : ''}`);
  return origins;
}

export async function startCodecServer(
  opts: CodecServerOptions & { port: number; host?: string },
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(createCodecApp(opts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    server,
    url: `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() (and the process) open.
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const codec = payloadCodec(config);
  if (!codec) {
    throw new Error('TEMPORAL_PAYLOAD_KEY is not set: there is nothing for the codec server to decrypt (see "Encrypting payloads" in docs/operations.md)');
  }
  const authToken = codecAuthToken(config);
  const corsOrigins = config.codec.corsOrigins.length ? config.codec.corsOrigins : defaultCorsOrigins(config.temporal.uiUrl);
  // Without a token check, only this machine may ask: the endpoint decrypts whatever it is sent.
  const host = authToken === null ? '127.0.0.1' : '0.0.0.0';
  const { url, close } = await startCodecServer({ codec, authToken, corsOrigins, port: config.codec.port, host });
  const previousKeys = config.payloadKeys?.previous.length ?? 0;
  console.log(
    `Codec server on ${url} (key ${codec.keyId}${previousKeys ? ` + ${previousKeys} previous` : ''}; ` +
      `${authToken === null ? 'no token check, this machine only' : 'Authorization: Bearer token required'}; CORS for ${corsOrigins.join(', ')})`,
  );
  const shutdown = () => void close().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
