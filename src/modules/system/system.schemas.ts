import { Type } from 'typebox';

const Status = Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]);

export const HealthSchema = Type.Object({
  status: Status,
  database: Type.Object({ status: Status, latency_ms: Type.Union([Type.Number(), Type.Null()]) }),
  job_queue: Type.Object({ status: Type.Union([Status, Type.Literal('not_configured')]) }),
  ai_provider: Type.Object({ status: Type.Union([Type.Literal('configured'), Type.Literal('not_configured')]) }),
});
