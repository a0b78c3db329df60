import { z } from 'zod';

/**
 * JSON has no NaN or ±Infinity, yet a diverging loss or an unbounded
 * objective produces them, and a log that silently turns them into `null`
 * loses the fact. Files written by `models/` spell them as the strings
 * "NaN", "Infinity" and "-Infinity"; `JsonNumberSchema` reads them back.
 */
export function stringifyJson(value: unknown, space?: number): string {
  return JSON.stringify(value, keepNonFinite, space);
}

function keepNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

const NON_FINITE = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/** A number as written by `stringifyJson`: finite, or one of the three spelled-out non-finite values. */
export const JsonNumberSchema = z.union([
  z.number(),
  z.enum(['NaN', 'Infinity', '-Infinity']).transform((spelled) => NON_FINITE[spelled]),
]);
