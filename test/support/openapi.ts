import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../api/openapi';

// Real responses against what GET /openapi.json documents (api/openapi.ts).

export const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;
export type Method = (typeof METHODS)[number];
type MediaType = { examples?: Record<string, { value: unknown }> };
type ResponseObject = { $ref?: string; content?: Record<string, MediaType> };

/** The document, typed only as far as the tests read it. */
export const DOCUMENT = openApiDocument as unknown as {
  paths: Record<string, Partial<Record<Method, { requestBody?: { content: Record<string, MediaType> }; responses: Record<string, ResponseObject> }>>>;
  components: { responses: Record<string, ResponseObject> };
};

// Draft 2020-12, OpenAPI 3.1's dialect. Strict: a keyword or a format it does not know is an error, not ignored.
// The whole document is added, so that its $refs resolve; its own fields are no JSON Schema keywords.
const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));
ajv.addVocabulary(Object.keys(openApiDocument));
ajv.addSchema(openApiDocument, 'openapi.json');

/** A JSON pointer, as a URI fragment (without its #). */
export const pointer = (...segments: string[]) => segments.map((s) => `/${encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))}`).join('');
/** The validator of the schema at this pointer into the document. */
export const schemaAt = (at: string) => ajv.getSchema(`openapi.json#${at}`);

/**
 * The response's status is documented for `operation` (e.g. 'GET /orders/{orderId}'),
 * and its body passes the documented schema; with `example`, it is that documented
 * example. Reads a clone: the caller can still read the body. Returns the body.
 */
export async function expectDocumented(res: Response, operation: string, example?: string) {
  const [verb, path] = operation.split(' ');
  const method = verb.toLowerCase() as Method;
  const body = await res.clone().json();
  const documented = DOCUMENT.paths[path]?.[method]?.responses[res.status];
  expect([operation, res.status, documented ? 'documented' : 'not documented']).toEqual([operation, res.status, 'documented']);
  // A response several operations share is a $ref into components/responses.
  const ref = documented!.$ref;
  const at = ref?.slice(1) ?? pointer('paths', path, method, 'responses', String(res.status));
  const response = ref ? DOCUMENT.components.responses[ref.split('/').pop()!] : documented!;
  const validate = schemaAt(`${at}${pointer('content', 'application/json', 'schema')}`)!;
  expect([operation, res.status, validate(body) ? body : validate.errors]).toEqual([operation, res.status, body]);
  if (example) expect(body).toEqual(response.content?.['application/json'].examples?.[example]?.value);
  return body;
}
