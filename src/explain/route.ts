/**
 * A transaction's route: the framework's template for the path (`/users/:id`), so `tcpinfo explain --by=route` folds
 * requests as the app's routes are. Express keeps it on the request (`req.route.path` under `req.baseUrl`); Fastify's
 * plugin hands it over (`request.routeOptions.url`); a plain server has none (the CLI folds the path's ids itself).
 * Taken when the response's headers go out, while Express's routers still hold the request's baseUrl.
 */

/** Routes handed over by an integration, by request (a WeakMap: nothing added to the request). */
const given = new WeakMap<object, string>();

/** An integration knows the route template of `req` (Fastify's routeOptions.url). */
export function setRoute(req: object, template: unknown): void {
  if (typeof template === 'string' && template !== '') given.set(req, template);
}

interface ExpressRequest {
  route?: { path?: unknown } | null;
  baseUrl?: unknown;
}

/** The route template of `req`, where the framework has one; undefined otherwise. */
export function routeOf(req: object): string | undefined {
  const template = given.get(req);
  if (template !== undefined) return template;
  const path = (req as ExpressRequest).route?.path;
  if (typeof path !== 'string') return undefined;
  const base = (req as ExpressRequest).baseUrl;
  return (typeof base === 'string' ? base : '') + path;
}
