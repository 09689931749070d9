import fastJson from 'fast-json-stringify';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { NullableDateTime, StringEnum } from '../src/core/columns.js';
import { serializableSchema } from '../src/core/serialization.js';

/** The rewritten response schemas must write exactly what the originals write, only faster. */
describe('serializableSchema', () => {
  const schema = Type.Object({
    id: Type.Integer(),
    when: NullableDateTime,
    note: Type.Union([Type.String(), Type.Null()]),
    count: Type.Union([Type.Integer(), Type.Null()]),
    status: StringEnum(['new', 'mapped', 'archived']),
    maybe: Type.Union([Type.Literal('a'), Type.Literal('b'), Type.Null()]),
    nested: Type.Array(Type.Object({ at: NullableDateTime, cpc: Type.Union([Type.String(), Type.Null()]) })),
    either: Type.Union([Type.Object({ x: Type.Integer() }), Type.Null()]),
  });

  it('turns nullable primitives and constant sets into type lists and enums', () => {
    const rewritten = serializableSchema(schema) as { properties: Record<string, Record<string, unknown>> };
    expect(rewritten.properties.when).toEqual({ type: ['string', 'null'], format: 'date-time' });
    expect(rewritten.properties.note).toEqual({ type: ['string', 'null'] });
    expect(rewritten.properties.status).toEqual({ type: 'string', enum: ['new', 'mapped', 'archived'] });
    expect(rewritten.properties.maybe).toEqual({ type: ['string', 'null'], enum: ['a', 'b', null] });
    // An object or null keeps its anyOf: fast-json-stringify needs the branches to pick the object's shape.
    expect(rewritten.properties.either?.anyOf).toHaveLength(2);
  });

  it('writes the same JSON as the original schema', () => {
    const original = fastJson(schema as never);
    const fast = fastJson(serializableSchema(schema) as never);
    const at = new Date('2026-11-21T09:30:00.123Z');
    for (const value of [
      { id: 1, when: at, note: 'x', count: 3, status: 'new', maybe: 'a', nested: [{ at, cpc: '1.25' }], either: { x: 1 } },
      {
        id: 2,
        when: null,
        note: null,
        count: null,
        status: 'archived',
        maybe: null,
        nested: [{ at: null, cpc: null }],
        either: null,
      },
      { id: 3, when: '2026-11-21T09:30:00.123Z', note: '', count: 0, status: 'mapped', maybe: 'b', nested: [], either: null },
    ]) {
      expect(fast(value)).toBe(original(value));
    }
    expect(
      JSON.parse(fast({ id: 1, when: at, note: null, count: null, status: 'new', maybe: null, nested: [], either: null })).when,
    ).toBe('2026-11-21T09:30:00.123Z');
  });
});
