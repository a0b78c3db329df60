/**
 * The remediation part of the agent, built from `agent.remediation`: the
 * engine with its lease client, or nothing when no playbook is evaluated.
 */
import { join, resolve } from 'node:path';
import type { Logger } from '../../shared/log.js';
import { ActionHistoryFile } from './action-history-file.js';
import { leaseUrlOf, modeOf, type RemediationSection } from './config.js';
import { LeaseClient } from './lease-client.js';
import type { EventBuilder } from './remediation-events.js';
import { RemediationEngine } from './remediation-engine.js';

export function buildRemediation(
  config: {
    dataDir: string;
    http: { host: string; port: number };
    agent: { hostId: string; remediation: RemediationSection };
  },
  emit: (build: EventBuilder) => Promise<void>,
  log: Logger,
): RemediationEngine | undefined {
  const section = config.agent.remediation;
  const url = leaseUrlOf(config);
  const playbooks = section.playbooks.map((p) => ({
    name: p.name,
    resource: p.resource,
    mode: modeOf(section.mode, p),
  }));
  if (playbooks.every((p) => p.mode === 'off')) {
    log.info(
      { mode: section.mode, playbooks: playbooks.length },
      'remediation is off: no playbook to evaluate',
    );
    return undefined;
  }
  const history = new ActionHistoryFile(remediationHistoryFileOf(config), log);
  history.prepare();
  log.info(
    { mode: section.mode, playbooks, leaseUrl: url, history: history.path },
    'remediation playbooks loaded',
  );
  return new RemediationEngine({
    restored: history.load(),
    onActed: (actions) => history.save(actions),
    hostId: config.agent.hostId,
    mode: section.mode,
    playbooks: section.playbooks,
    leases: new LeaseClient({ url, timeoutMs: section.lease.timeout, token: section.lease.token, log }),
    leaseRetryMs: section.lease.retryAfter,
    emit,
    log,
  });
}

/** Where the agent keeps its playbooks' past actions across restarts: `{dataDir}/remediation/{hostId}.json`. */
export function remediationHistoryFileOf(config: { dataDir: string; agent: { hostId: string } }): string {
  return resolve(join(config.dataDir, 'remediation', `${config.agent.hostId}.json`));
}
