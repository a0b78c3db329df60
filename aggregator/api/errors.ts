import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BusyError, CloudSenseError, NotFoundError, ValidationError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { RetrainingStoppedError, RollbackError } from '../retraining/retraining-loop.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; path?: string };
}

function statusOf(err: CloudSenseError): ContentfulStatusCode {
  if (err instanceof ValidationError) return 400;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof BusyError) return 503;
  // Nothing to roll back to: the state of the models conflicts with the request.
  if (err instanceof RollbackError) return 409;
  if (err instanceof RetrainingStoppedError) return 503;
  return 500;
}

/** The one place that turns errors into HTTP responses. */
export function errorResponder(log: Logger) {
  return (err: Error, c: Context): Response => {
    if (err instanceof CloudSenseError) {
      const status = statusOf(err);
      if (status >= 500) log.error({ err: err.message, code: err.code }, 'request failed');
      const body: ErrorBody = { error: { code: err.code, message: err.message } };
      if (err instanceof ValidationError && err.path !== undefined) body.error.path = err.path;
      return c.json(body, status);
    }
    log.error({ err: err.message, stack: err.stack }, 'unexpected error in request');
    return c.json({ error: { code: 'INTERNAL', message: 'internal error' } } satisfies ErrorBody, 500);
  };
}
