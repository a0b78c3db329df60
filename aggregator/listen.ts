import type { Server as NetServer } from 'node:net';
import { CloudSenseError } from '../shared/errors.js';

/**
 * Binds a server and resolves with the port it got (useful with port 0).
 * Failures become a permanent LISTEN_FAILED error naming the setting to change.
 */
export function listen(
  server: NetServer,
  endpoint: { host: string; port: number; url: string },
  setting: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'EADDRINUSE' ? `; the port is taken: set ${setting} to a free port` : '';
      reject(
        new CloudSenseError('LISTEN_FAILED', `cannot listen on ${endpoint.url}: ${err.message}${hint}`, {
          cause: err,
          permanent: true,
        }),
      );
    });
    server.listen(endpoint.port, endpoint.host, () => {
      const address = server.address();
      resolve(address && typeof address === 'object' ? address.port : endpoint.port);
    });
  });
}
