import { appendFile, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';
import { writeFileAtomic } from '../../shared/io/atomic-file.js';
import { JsonNumberSchema, stringifyJson } from '../io/json-number.js';
import type { SearchSpace } from './space.js';
import { defineSpace, parseParams } from './space.js';
import type { Direction, TrialRecord } from './trial.js';
import { DIRECTIONS, TRIAL_STATES } from './trial.js';

/**
 * The study log: JSON lines, a `study` header first, then one `trial` line
 * per finished trial in the order they finished. Appending one line per
 * trial keeps a long search's results when the process dies; a torn last
 * line (no newline, not JSON) is skipped on reading.
 *
 *   {"type":"study","schemaVersion":1,"name":"gbdt-cpu","direction":"minimize",…}
 *   {"type":"trial","number":0,"params":{"learningRate":0.05,…},"state":"complete","value":0.31,…}
 */
export const STUDY_LOG_VERSION = 1;

const ChoiceSchema = z.union([z.string(), z.number(), z.boolean()]);

const ParamDefinitionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('float'),
    low: z.number(),
    high: z.number(),
    log: z.boolean(),
    step: z.number().nullable(),
  }),
  z.object({
    kind: z.literal('int'),
    low: z.number().int(),
    high: z.number().int(),
    log: z.boolean(),
    step: z.number().int(),
  }),
  z.object({ kind: z.literal('categorical'), choices: z.array(ChoiceSchema).min(1).readonly() }),
]);

export const StudyHeaderSchema = z.object({
  type: z.literal('study'),
  schemaVersion: z.literal(STUDY_LOG_VERSION),
  name: z.string().min(1),
  direction: z.enum(DIRECTIONS),
  sampler: z.object({ name: z.string(), seed: z.number() }),
  space: z.record(z.string(), ParamDefinitionSchema),
  /** ISO time the study was created. */
  createdAt: z.iso.datetime(),
});
export type StudyHeader = z.infer<typeof StudyHeaderSchema>;

export const TrialLineSchema = z.object({
  type: z.literal('trial'),
  number: z.number().int().min(0),
  params: z.record(z.string(), ChoiceSchema),
  state: z.enum(TRIAL_STATES),
  value: JsonNumberSchema.nullable(),
  intermediateValues: z.array(z.object({ step: z.number().int().min(0), value: JsonNumberSchema })),
  startedAt: z.iso.datetime(),
  durationMs: z.number().min(0),
  error: z.string().nullable(),
});

export interface StudyLog {
  header: StudyHeader;
  /** Params are checked against the header's space. */
  trials: TrialRecord[];
}

export function studyHeader(fields: {
  name: string;
  direction: Direction;
  sampler: { name: string; seed: number };
  space: SearchSpace;
  createdAt: string;
}): StudyHeader {
  return { type: 'study', schemaVersion: STUDY_LOG_VERSION, ...fields, space: { ...fields.space } };
}

export function formatTrialLine(trial: TrialRecord): string {
  return `${stringifyJson({ type: 'trial', ...trial })}\n`;
}

export function formatStudyLog(header: StudyHeader, trials: readonly TrialRecord[]): string {
  return `${stringifyJson(header)}\n${trials.map(formatTrialLine).join('')}`;
}

/** Replaces the file at `path` with the whole log, atomically. */
export async function writeStudyLog(
  path: string,
  header: StudyHeader,
  trials: readonly TrialRecord[],
): Promise<void> {
  await writeFileAtomic(path, formatStudyLog(header, trials));
}

/** Adds one finished trial to a log written by `writeStudyLog`. */
export async function appendTrialToLog(path: string, trial: TrialRecord): Promise<void> {
  await appendFile(path, formatTrialLine(trial));
}

export async function readStudyLog(path: string): Promise<StudyLog> {
  return parseStudyLog(await readFile(path, 'utf8'), path);
}

/** Parses a study log; every problem is a ValidationError naming the line and field. */
export function parseStudyLog(text: string, source = 'study log'): StudyLog {
  const lines = text.split('\n');
  const torn = !text.endsWith('\n');
  let header: StudyHeader | undefined;
  let space: SearchSpace | undefined;
  const trials: TrialRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `${source}:${i + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      if (torn && i === lines.length - 1) break; // a crash mid-append; the trials before it stand
      throw new ValidationError(`${where}: not JSON`, { path: where, cause: err });
    }
    if (header === undefined) {
      header = parseLine(StudyHeaderSchema, json, where);
      space = defineSpace(header.space as SearchSpace);
      continue;
    }
    const trialLine = parseLine(TrialLineSchema, json, where);
    parseParams(space!, trialLine.params, `${where}.params`);
    trials.push(trialOf(trialLine));
  }
  if (header === undefined) throw new ValidationError(`${source}: empty, no study header`, { path: source });
  return { header, trials };
}

/** The record without the line's `type` tag. */
function trialOf(line: z.infer<typeof TrialLineSchema>): TrialRecord {
  const { number, params, state, value, intermediateValues, startedAt, durationMs, error } = line;
  return { number, params, state, value, intermediateValues, startedAt, durationMs, error };
}

function parseLine<T>(schema: z.ZodType<T>, json: unknown, where: string): T {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [where, ...issue.path.map(String)].join('.');
  throw new ValidationError(`${path}: ${issue.message}`, { path, cause: result.error });
}
