import { defineConfig } from 'drizzle-kit';

// drizzle-kit reads every module's tables and writes SQL migrations into drizzle/.
// `npm run db:generate` after changing a *.tables.ts file; commit what it writes.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/core/*.tables.ts', './src/modules/*/*.tables.ts'],
  out: process.env.DRIZZLE_OUT ?? './drizzle',
  casing: 'snake_case',
});
