import openapiTS, { astToString } from 'openapi-typescript';

/**
 * The console's API types, rendered from the app's OpenAPI document by openapi-typescript. Only the document
 * decides the output (no dates, no paths, no versions), so the checked-in file can be compared byte for byte
 * with what this would write now (test/web-client.test.ts).
 */
export const SCHEMA_FILE = new URL('../src/api/schema.d.ts', import.meta.url);

const HEADER =
  '/**\n * Generated from GET /api/schema by `npm run web:client` (web/scripts/generate-client.ts). Do not edit:\n' +
  ' * a test fails when this file differs from what the script writes.\n */\n\n';

export async function renderClient(document: object): Promise<string> {
  const ast = await openapiTS(document as never, { alphabetize: true });
  return HEADER + astToString(ast);
}
