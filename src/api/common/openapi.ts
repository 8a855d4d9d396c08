// The OpenAPI 3.1 description of the local scoring API (`outpost serve --api`, served at
// /v1/openapi.json). Hand-written: the API is small and its JSON shapes are stated here once;
// test/scoring-api.test.ts checks real answers against these schemas. Pure.

export interface OpenApiLimits { maxBodyBytes: number; maxRecords: number; rate: number; burst: number }

const ERROR_CODES = ['usage', 'unauthorized', 'forbidden', 'not-found', 'method-not-allowed', 'too-large', 'unsupported-media-type', 'validation', 'rate-limited', 'package', 'provider', 'internal'];

export function openApiDocument(version: string, limits: OpenApiLimits): Record<string, unknown> {
  const error = (description: string, extra: Record<string, unknown> = {}) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    ...extra,
  });
  const modelRef = {
    name: 'model', in: 'path', required: true,
    description: 'An installed model: `<name>` (its active version) or `<name>@<version>`, the version a whole number from 1 to 9007199254740991.',
    schema: { type: 'string', pattern: '^[^@/\\s]+(@[0-9]+)?$' },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Outpost local scoring API',
      version,
      description: [
        'Scores records with the models installed on this workstation, offline, with the same validation, engine and',
        'logging as `outpost score` (prediction log, drift statistics, sync). Served by `outpost serve --api` on 127.0.0.1 only.',
        'Authenticate with a token from `outpost tokens create --name <name>` as `Authorization: Bearer <token>`;',
        'the app UI\'s session cookie does not authorize this API.',
        `Limits: request bodies up to ${limits.maxBodyBytes} bytes, ${limits.maxRecords} records per request,`,
        `${limits.rate} records per second per token (bursts of ${limits.burst}).`,
        'A method a path does not take is 405 `method-not-allowed` with an `Allow` header; HEAD on a GET path answers like GET, without the body. No path takes a query parameter: one is refused (400 `usage`), never ignored.',
      ].join(' '),
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: {
      '/v1/models': {
        get: {
          operationId: 'listModels', summary: 'Installed models and their input schemas',
          responses: {
            200: { description: 'The installed models (those the token may use, when it is limited to some)', content: { 'application/json': { schema: { type: 'object', required: ['models'], properties: { models: { type: 'array', items: { $ref: '#/components/schemas/Model' } } } } } } },
            401: error('No token, a wrong one, or a revoked one'),
          },
        },
      },
      '/v1/models/{model}': {
        get: {
          operationId: 'getModel', summary: 'One model version: its inputs, outputs and installed versions',
          parameters: [modelRef],
          responses: {
            200: { description: 'The model', content: { 'application/json': { schema: { $ref: '#/components/schemas/Model' } } } },
            400: error('`usage`: the version is not a whole number from 1 to 9007199254740991, or the path has an encoded slash'),
            401: error('No token, a wrong one, or a revoked one'),
            403: error('The token is limited to other models'),
            404: error('No such model or version installed'),
          },
        },
      },
      '/v1/models/{model}/predict': {
        post: {
          operationId: 'predict', summary: 'Score one record, or a batch',
          description: 'A JSON object is one record (`{"temp_max": 12.1, …}`); `{"records": [ … ]}` is a batch. A request with any invalid record is refused as a whole (422, every problem listed) and nothing of it is scored or logged.',
          parameters: [modelRef],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/Record' }, { $ref: '#/components/schemas/Batch' }] } } },
          },
          responses: {
            200: {
              description: 'The outputs: for one record the Prediction\'s fields at the top level, for a batch a `predictions` array in record order',
              content: { 'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/SingleResult' }, { $ref: '#/components/schemas/BatchResult' }] } } },
            },
            400: error('`usage`: the body is not valid (UTF-8) JSON, names a key twice, or is not a record or a batch; or the version is not a whole number from 1 to 9007199254740991 (the codes of a malformed request are those of the hub and the app\'s own API)'),
            401: error('No token, a wrong one, or a revoked one'),
            403: error('The token is limited to other models'),
            404: error('No such model or version installed'),
            413: error('`too-large`: the body is larger than the limit, or the batch has too many records'),
            415: error('`unsupported-media-type`: the body is not application/json'),
            422: error('`validation`: records failed validation (a value of the wrong JSON type included): `records` lists each one with its field errors'),
            429: error('The token\'s rate limit is spent', { headers: { 'Retry-After': { description: 'seconds until the request would be admitted', schema: { type: 'integer', minimum: 1 } } } }),
          },
        },
      },
      '/v1/openapi.json': {
        get: { operationId: 'openapi', summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from `outpost tokens create`' } },
      schemas: {
        Record: {
          type: 'object', description: 'One record: the model\'s input fields by name (see GET /v1/models/{model}), typed: float and int inputs take a JSON number, bool inputs a boolean, category inputs a string, and null is a missing value. A field the model does not take, or a value of another JSON type, is an error.',
          additionalProperties: { type: ['number', 'string', 'boolean', 'null'] },
        },
        Batch: {
          type: 'object', required: ['records'], additionalProperties: false,
          properties: { records: { type: 'array', minItems: 1, maxItems: limits.maxRecords, items: { $ref: '#/components/schemas/Record' } } },
        },
        Prediction: {
          type: 'object', description: 'Classifiers: the label and one probability per class; regressions: the value. Numbers are the float32 outputs written as `outpost score` writes them.',
          properties: {
            label: { type: 'string' },
            probabilities: { type: 'object', additionalProperties: { type: 'number' } },
            value: { type: 'number' },
          },
        },
        SingleResult: {
          allOf: [
            { $ref: '#/components/schemas/Prediction' },
            { type: 'object', required: ['model', 'version'], properties: { model: { type: 'string' }, version: { type: 'integer' } } },
          ],
        },
        BatchResult: {
          type: 'object', required: ['model', 'version', 'predictions'],
          properties: { model: { type: 'string' }, version: { type: 'integer' }, predictions: { type: 'array', items: { $ref: '#/components/schemas/Prediction' } } },
        },
        Model: {
          type: 'object', required: ['name', 'version', 'task', 'inputs', 'outputs', 'versions'],
          properties: {
            name: { type: 'string' }, version: { type: 'integer', description: 'the version this answer describes (the active one unless @version was asked)' },
            active: { type: 'boolean' }, versions: { type: 'array', items: { type: 'integer' } },
            task: { type: 'string', enum: ['binary', 'multiclass', 'regression'] }, description: { type: 'string' },
            inputs: {
              type: 'array',
              items: {
                type: 'object', required: ['name', 'type', 'nullable'],
                properties: {
                  name: { type: 'string' }, type: { type: 'string', enum: ['float', 'int', 'bool', 'category'] }, nullable: { type: 'boolean' },
                  min: { type: 'number' }, max: { type: 'number' }, vocabulary: { type: 'array', items: { type: 'string' } }, unit: { type: 'string' },
                },
              },
            },
            outputs: { type: 'object', properties: { classes: { type: 'array', items: { type: 'string' } } } },
          },
        },
        Error: {
          type: 'object', required: ['ok', 'error'],
          properties: {
            ok: { const: false },
            error: {
              type: 'object', required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: ERROR_CODES }, message: { type: 'string' },
                records: {
                  type: 'array', description: '422: the records that failed, by their index in the request (0 for a single record)',
                  items: {
                    type: 'object', required: ['index', 'errors'],
                    properties: {
                      index: { type: 'integer' },
                      errors: { type: 'array', items: { type: 'object', required: ['field', 'reason', 'value'], properties: { field: { type: 'string', description: 'empty when the record itself is wrong (not an object)' }, reason: { type: 'string' }, value: { type: 'string' } } } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}
