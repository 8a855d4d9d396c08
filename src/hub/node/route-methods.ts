// Which methods the hub's routes take at a path, for its 405 answer: Fastify's router answers a
// method a path does not take as if the path did not exist (404). Every route is recorded as it is
// added (an onRoute hook), its URL pattern turned into a regular expression over the raw path.
import type { FastifyInstance } from 'fastify';

/** `/api/v1/devices/:name/revoke` or `/targets/*` as a regular expression over a raw (undecoded) path. */
export function routePattern(url: string): RegExp {
  const parts = url.split(/(:[A-Za-z0-9_]+|\*)/).map((p) => (p === '*' ? '.*' : p.startsWith(':') ? '[^/]+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('')}$`);
}

/** Record `app`'s routes from now on (call before registering them); returns the methods a path takes. */
export function trackRouteMethods(app: FastifyInstance): (rawPath: string) => string[] {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (r) => {
    routes.push({ pattern: routePattern(r.url), methods: ([] as string[]).concat(r.method) });
  });
  return (rawPath) => [...new Set(routes.filter((r) => r.pattern.test(rawPath)).flatMap((r) => r.methods))];
}
