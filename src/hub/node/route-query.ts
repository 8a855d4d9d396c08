// The query strings of the hub's API routes (/api/…): a parameter a route does not take, or one
// given twice that is not a list, is refused with 400 naming it (queryProblem, worded as on `outpost
// serve`) before the route or its schema reads the query — ajv would have dropped an unknown one, or
// called a repeated one "must be string". The TUF files, blobs and console pages ignore query strings,
// as any static host does (a mirror or CDN may add one to bust a cache).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { queryProblem } from '../../api/common/request-errors.ts';
import { OutpostError } from '../../common/errors.ts';

/** A route's `config`: the query parameters it takes and which of them may repeat (default: those of its querystring schema). */
export interface QueryConfig { query?: readonly string[]; lists?: readonly string[] }

const entries = (q: unknown): [string, string][] =>
  Object.entries((q ?? {}) as Record<string, unknown>).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, String(x)]));

/** Check the query of every /api/ route added from now on (call before registering them). */
export function checkApiQueries(app: FastifyInstance): void {
  app.addHook('onRoute', (r) => {
    if (!r.url.startsWith('/api/')) return;
    const config = (r.config ?? {}) as QueryConfig;
    const schema = (r.schema as { querystring?: { properties?: Record<string, unknown> } } | undefined)?.querystring;
    const takes = config.query ?? Object.keys(schema?.properties ?? {});
    const lists = config.lists ?? [];
    const check = async (req: FastifyRequest): Promise<void> => {
      const problem = queryProblem(entries(req.query), takes, lists);
      if (problem) throw new OutpostError('usage', problem);
    };
    r.preValidation = [check, ...(r.preValidation === undefined ? [] : Array.isArray(r.preValidation) ? r.preValidation : [r.preValidation])];
  });
}
