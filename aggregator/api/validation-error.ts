/**
 * A zod failure as the API's 400: the first issue, with the path of the
 * field (or parameter) it is about, so a client knows what to fix.
 */
import type { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';

/**
 * The error for `error`'s first issue; `whole` names the value itself when
 * the issue has no path (`(body)`, `(query)`), `unknownMessage` is said of
 * fields the schema does not know.
 */
export function issueError(error: z.ZodError, whole: string, unknownMessage: string): ValidationError {
  const issue = specificIssue(error.issues[0]!);
  const base = issue.path.map(String).join('.');
  const path =
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => (base ? `${base}.${k}` : k)).join(',')
      : base || whole;
  const message = issue.code === 'unrecognized_keys' ? unknownMessage : issue.message;
  return new ValidationError(`${path}: ${message}`, { path, cause: error });
}

type Issue = z.core.$ZodIssue;

/**
 * For a value that matched no branch of a union (`{ features } | { rows }`,
 * `number[] | Record<name, number>`), the issue of the branch the client
 * meant: the one whose shape fits (no unknown or missing fields, no wrong
 * type at its top), with its path under the union's.
 */
function specificIssue(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const misfit = (issues: Issue[]) =>
    issues.filter(
      (i) =>
        (i.path.length === 0 && (i.code === 'unrecognized_keys' || i.code === 'invalid_type')) ||
        (i.code === 'invalid_type' && i.message.endsWith('received undefined')),
    ).length;
  const best = [...issue.errors].sort((a, b) => misfit(a) - misfit(b))[0]!;
  if (best.length === 0) return issue;
  const inner = specificIssue(best[0]!);
  return { ...inner, path: [...issue.path, ...inner.path] } as Issue;
}
