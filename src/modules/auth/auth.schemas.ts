import { Type } from 'typebox';
import { TimestampFields } from '../../core/columns.js';

export const IndustrySchema = Type.Object({
  ...TimestampFields,
  name: Type.String(),
  slug: Type.String(),
  description: Type.String(),
  suggested_sectors: Type.Array(Type.String()),
});
