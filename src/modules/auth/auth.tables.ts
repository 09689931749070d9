import { jsonb, pgTable, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { idColumn, timestamps } from '../../core/columns.js';

/** Reference data: industries and their suggested sectors, seeded by a migration. */
export const auth_industries = pgTable(
  'auth_industries',
  {
    id: idColumn(),
    name: varchar({ length: 120 }).notNull(),
    slug: varchar({ length: 120 }).notNull(),
    description: text().notNull().default(''),
    suggested_sectors: jsonb().$type<string[]>().notNull().default([]),
    ...timestamps(),
  },
  (t) => [uniqueIndex().on(t.slug)],
);
