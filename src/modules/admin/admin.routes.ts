import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { DateTime, Id } from '../../core/columns.js';
import { system_outbox } from '../../core/core.tables.js';
import type { Db } from '../../core/db.js';
import { registerResource } from '../../core/resource.js';
import type { BillingService } from '../billing/billing.service.js';
import { adminBillingRoutes } from './admin.billing.routes.js';

/** Platform staff: outside accounts, never through tenant routes. */
export async function adminRoutes(app: FastifyInstance, deps: { db: Db; billing: BillingService }) {
  await adminBillingRoutes(app, { billing: deps.billing });

  registerResource(app, deps.db, {
    path: '/api/v1/admin/outbox',
    tag: 'admin',
    names: ['outbox message', 'outbox messages'],
    table: system_outbox,
    scope: 'global',
    item: Type.Object({
      id: Id,
      to: Type.String(),
      subject: Type.String(),
      text: Type.String(),
      status: Type.String(),
      error: Type.Union([Type.String(), Type.Null()]),
      created_at: DateTime,
    }),
    actions: ['list', 'retrieve'],
    access: { list: 'staff', retrieve: 'staff' },
    list: {
      cursor: true,
      filters: {
        to: { column: system_outbox.to, kind: 'string' },
        status: { column: system_outbox.status, kind: 'string', values: ['stored', 'sent', 'failed'] },
      },
      search: [system_outbox.subject, system_outbox.to],
      ordering: { created_at: system_outbox.created_at },
    },
  });
}
