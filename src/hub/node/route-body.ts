// JSON bodies of the hub's write routes. Fastify's validator drops a field the schema does not list
// (ajv removeAdditional) and goes on: a misspelt field (`"percnt": 10`, `"grup": "line-2"`) would be
// ignored and the request carried out without it. Like an unknown option of the CLI, it is bad
// usage instead: 400, naming the field and what the route takes.
import type { FastifyRequest } from 'fastify';
import { OutpostError } from '../../common/errors.ts';

/** An object body's JSON schema: the fields it takes are the keys of `properties`. */
export interface BodySchema { type: 'object' | readonly ['object', 'null']; properties: Record<string, unknown>; required?: readonly string[]; additionalProperties?: false }

/**
 * A route's preValidation hook refusing body fields outside `schema.properties` (an empty schema:
 * the route takes no fields, only an empty object or no body). Non-object bodies are left to the schema.
 */
export const onlyFields = (schema: BodySchema | null) => {
  const allowed = Object.keys(schema?.properties ?? {});
  return async (req: FastifyRequest): Promise<void> => {
    const b = req.body;
    if (b === null || typeof b !== 'object' || Array.isArray(b) || Buffer.isBuffer(b)) return;
    const extra = Object.keys(b).filter((k) => !allowed.includes(k));
    if (!extra.length) return;
    const named = extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ');
    throw new OutpostError('usage', `unknown field${extra.length > 1 ? 's' : ''} ${named} (${allowed.length ? `this request takes ${allowed.join(', ')}` : 'this request takes no fields'})`);
  };
};
