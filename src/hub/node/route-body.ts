// JSON bodies of the hub's write routes. Fastify's validator drops a field the schema does not list
// (ajv removeAdditional) and goes on: a misspelt field (`"percnt": 10`, `"grup": "line-2"`) would be
// ignored and the request carried out without it. Like an unknown option of the CLI, it is bad
// usage instead: 400, naming the field and what the route takes.
import type { FastifyRequest } from 'fastify';
import { OutpostError } from '../../common/errors.ts';

/** An object body's JSON schema: the fields it takes are the keys of `properties`. */
export interface BodySchema { type: 'object' | readonly ['object', 'null']; properties: Record<string, unknown>; required?: readonly string[]; additionalProperties?: false }

/**
 * A route's preValidation hook refusing body fields outside `schema.properties`. Without a schema
 * the route takes no fields: only an empty object, `null` or no body, and anything else (a string,
 * a number, an array) is refused here, as no schema would. With one, non-object bodies are the
 * schema's to refuse.
 */
export const onlyFields = (schema: BodySchema | null) => {
  const allowed = Object.keys(schema?.properties ?? {});
  return async (req: FastifyRequest): Promise<void> => {
    const b = req.body;
    if (b === undefined || b === null) return;
    if (typeof b !== 'object' || Array.isArray(b) || Buffer.isBuffer(b)) {
      if (schema) return;
      const got = Array.isArray(b) ? 'an array' : Buffer.isBuffer(b) ? 'bytes' : `a ${typeof b}`;
      throw new OutpostError('usage', `this request takes no fields: send {} or no body (got ${got})`);
    }
    const extra = Object.keys(b).filter((k) => !allowed.includes(k));
    if (!extra.length) return;
    const named = extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ');
    throw new OutpostError('usage', `unknown field${extra.length > 1 ? 's' : ''} ${named} (${allowed.length ? `this request takes ${allowed.join(', ')}` : 'this request takes no fields'})`);
  };
};
