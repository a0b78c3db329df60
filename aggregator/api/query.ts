import { z } from 'zod';
import { issueError } from './validation-error.js';

/** Points returned by one history query unless `limit` says otherwise. */
export const DEFAULT_POINT_LIMIT = 10_000;
export const MAX_POINT_LIMIT = 500_000;
/** History queries without `from` start this far back, milliseconds (1 h). */
export const DEFAULT_LOOKBACK_MS = 60 * 60 * 1000;

/** A time as Unix epoch milliseconds or an ISO 8601 string. */
const TimeParam = z.string().transform((raw, ctx) => {
  const t = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 time or Unix epoch milliseconds' });
    return z.NEVER;
  }
  return t;
});

export const MetricsQuerySchema = z
  .object({
    metric: z.string().min(1).max(128).optional(),
    from: TimeParam.optional(),
    to: TimeParam.optional(),
    limit: z
      .string()
      .regex(/^\d+$/, 'expected a whole number')
      .transform(Number)
      .pipe(z.number().int().min(1).max(MAX_POINT_LIMIT))
      .optional(),
  })
  .strict();

/** Parses query parameters with a schema; a failure becomes a 400 naming the parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, params: Record<string, string>): z.output<S> {
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  throw issueError(result.error, '(query)', 'unknown query parameter');
}
