import { ValidationError } from '../../../shared/errors.js';

/** InfluxDB's HTTP port unless the URL names another. */
export const DEFAULT_INFLUX_PORT = 8086;

/** Where an InfluxDB 1.x store lives, parsed from `influx://[user:pass@]host:port/database`. */
export interface InfluxLocation {
  protocol: 'http' | 'https';
  host: string;
  port: number;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
}

/** `influx://` speaks plain HTTP, `influxs://` HTTPS. */
const SCHEMES: Readonly<Record<string, InfluxLocation['protocol']>> = {
  'influx:': 'http',
  'influxs:': 'https',
};

/**
 * Parses an InfluxDB store URL. The database is the path's one segment;
 * user and password are percent-decoded. Anything else (a query, a second
 * path segment, another scheme) is refused with a message that shows the
 * expected form, so a typo stops start-up instead of writing elsewhere.
 */
export function parseInfluxUrl(text: string): InfluxLocation {
  const form = 'expected influx://[user:password@]host[:port]/database (influxs:// for HTTPS)';
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new ValidationError(`not a URL: ${form}`, { cause: err });
  }
  const protocol = SCHEMES[url.protocol];
  if (!protocol) throw new ValidationError(`unknown scheme ${url.protocol}//: ${form}`);
  if (!url.hostname) throw new ValidationError(`no host: ${form}`);
  if (url.search || url.hash) throw new ValidationError(`no query or fragment allowed: ${form}`);
  const segments = url.pathname.split('/').filter((s) => s !== '');
  if (segments.length !== 1) throw new ValidationError(`the path must name one database: ${form}`);
  const database = decodeURIComponent(segments[0]!);
  return {
    protocol,
    // URL keeps IPv6 literals in brackets; the HTTP client wants the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : DEFAULT_INFLUX_PORT,
    database,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

/** The location for logs, the banner and /healthz: the URL with the password left out. */
export function describeInfluxLocation(location: InfluxLocation): string {
  const scheme = location.protocol === 'https' ? 'influxs' : 'influx';
  const user = location.username ? `${encodeURIComponent(location.username)}@` : '';
  const host = location.host.includes(':') ? `[${location.host}]` : location.host;
  return `${scheme}://${user}${host}:${location.port}/${encodeURIComponent(location.database)}`;
}
