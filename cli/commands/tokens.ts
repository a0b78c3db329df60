/**
 * `cloudsense tokens create|list|revoke`: the REST API's bearer tokens, in
 * the data dir's credentials file. Works while the aggregator runs: it
 * re-reads the file when it changes (docs/security.md).
 */
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { type AggregatorConfig, AggregatorConfigSchema } from '../../aggregator/config.js';
import {
  API_ROLES,
  CREDENTIALS_FILE,
  CredentialStore,
  type ApiRole,
} from '../../aggregator/security/credential-store.js';
import { loadConfig } from '../../shared/config/load.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import { DATA_DIR_FLAGS } from '../data-dir.js';
import { configSources, exitOnConfigError } from '../options.js';

export function tokensCommand(): Command {
  const tokens = new Command('tokens')
    .summary('bearer tokens for the REST API')
    .description(
      'Bearer tokens for the REST API (Authorization: Bearer TOKEN) and for MQTT clients that log in as ' +
        '"token". Roles: read (GET), operate (also POST/PUT/DELETE), admin (also tokens and enrolment). ' +
        'Tokens are stored hashed in DATA_DIR/credentials.json; a token is shown only when created.',
    );
  withCredentials(
    tokens
      .command('create')
      .summary('create a token and print it once')
      .requiredOption('--role <role>', `${API_ROLES.join(' | ')}`, parseRole)
      .option('--name <text>', 'what the token is for, shown by tokens list'),
    async (store, options: { role: ApiRole; name?: string }) => {
      const { id, token } = await store.createApiToken(options.role, options.name);
      process.stdout.write(`${token}\n`);
      process.stderr.write(`token ${id} (${options.role}) created; it is not shown again\n`);
    },
  );
  withCredentials(
    tokens.command('list').summary('list tokens (id, role, name, created), never the secrets'),
    async (store) => {
      for (const t of await store.listApiTokens()) {
        process.stdout.write(
          `${t.id}  ${t.role.padEnd(7)}  ${new Date(t.createdAt).toISOString()}  ${t.name ?? ''}\n`,
        );
      }
    },
  );
  withCredentials(
    tokens.command('revoke').summary('revoke a token by its id').argument('<id>', 'the id tokens list shows'),
    async (store, _options, id?: string) => {
      if (!(await store.revokeApiToken(id!))) {
        throw new CloudSenseError('NOT_FOUND', `no token with id ${id}`, { permanent: true });
      }
      process.stdout.write(`token ${id} revoked\n`);
    },
  );
  return tokens;
}

/**
 * A credentials subcommand's shell: `--config` and `--data-dir`, the data
 * dir's credential store, one way to fail. The store (DuckDB) is not
 * opened, so the commands run beside a running aggregator.
 */
export function withCredentials<O extends Record<string, unknown>>(
  command: Command,
  run: (store: CredentialStore, options: O, argument?: string) => Promise<void>,
): Command {
  command.option('-c, --config <file>', 'YAML configuration file (env CLOUDSENSE_CONFIG)');
  for (const [flags, description] of DATA_DIR_FLAGS) command.option(flags, description);
  return command.action(async (...args: unknown[]) => {
    const argument = typeof args[0] === 'string' ? args[0] : undefined;
    const options = (argument === undefined ? args[0] : args[1]) as O;
    let config: AggregatorConfig;
    try {
      config = loadConfig(AggregatorConfigSchema, configSources(options, DATA_DIR_FLAGS));
    } catch (err) {
      exitOnConfigError(err);
    }
    try {
      await run(new CredentialStore(join(resolve(config.dataDir), CREDENTIALS_FILE)), options, argument);
    } catch (err) {
      process.stderr.write(`cloudsense ${command.parent?.name()} ${command.name()}: ${errorMessage(err)}\n`);
      process.exit(err instanceof CloudSenseError && err.permanent ? 2 : 1);
    }
  });
}

function parseRole(value: string): ApiRole {
  if (!(API_ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${API_ROLES.join(', ')}`);
  }
  return value as ApiRole;
}
