// The hub's request validators. Fastify's ajv coerces types by default (`coerceTypes: 'array'`):
// a JSON body's `"percent": "50"` would pass as 50, `"allowEmptyGroup": "false"` as false, a number
// where a string is required as its digits. JSON has types, so a body is checked strictly (a string
// where a number is required: 400 naming the field). A query string, a path parameter or a header
// is text by nature: those keep the coercion, so "50" still reads as 50 there.
import AjvCompiler from '@fastify/ajv-compiler';

const build = AjvCompiler();

/** Fastify's `schemaController.compilersFactory.buildValidator`: strict bodies, coerced everything else. */
export const buildHubValidator: AjvCompiler.BuildCompilerFromPool = (externalSchemas, options) => {
  const coercing = build(externalSchemas, options);
  if (options?.mode === 'JTD') return coercing; // JTD does not coerce (the hub does not use it)
  const strict = build(externalSchemas, { ...options, customOptions: { ...options?.customOptions, coerceTypes: false } });
  return (route) => (route.httpPart === 'body' ? strict : coercing)(route);
};
