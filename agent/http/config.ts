import { isIP } from 'node:net';
import { z } from 'zod';
import { PortSchema } from '../../shared/config/common.js';

/**
 * The local endpoint's default port. Prometheus's exporter range 9100-9999 is
 * all allocated (9101 is HAProxy's exporter, 9100 node_exporter's), and the
 * 10000s hold Webmin (10000), Zabbix (10050/10051), the kubelet (10250) and
 * kube-proxy (10256); 10466 is in none of their lists and below Linux's
 * ephemeral range (32768+), so a client's outgoing port cannot take it.
 */
export const DEFAULT_AGENT_HTTP_PORT = 10466;
export const DEFAULT_AGENT_HTTP_HOST = '127.0.0.1';

/**
 * True for an address that only this host can reach: `localhost`, 127.0.0.0/8,
 * `::1` and IPv4-mapped 127.x. A host name other than `localhost` is not
 * loopback: what it resolves to can change.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * `/healthz` and `/metrics` on a local port, for the host's own monitoring
 * (a node-local Prometheus, a systemd or Kubernetes probe). Off by default.
 */
export const AgentHttpSectionSchema = z
  .object({
    /** Serve `/healthz` and `/metrics`. Default false: the agent listens on no port. */
    enabled: z.boolean().default(false),
    /** Address to bind, a loopback one unless `allowRemote`. Default 127.0.0.1. */
    host: z.string().min(1).default(DEFAULT_AGENT_HTTP_HOST),
    /** TCP port; 0 picks a free one. Default 10466. */
    port: PortSchema.default(DEFAULT_AGENT_HTTP_PORT),
    /** Allow a non-loopback `host`. Default false (see the refinement's message for why). */
    allowRemote: z.boolean().default(false),
  })
  .strict()
  .superRefine((section, ctx) => {
    if (!section.enabled || section.allowRemote || isLoopbackHost(section.host)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['host'],
      message:
        `${section.host} is not a loopback address: /healthz and /metrics have no authentication and ` +
        "show this host's state (models, queue, forecasts) to anyone who can reach the port; bind " +
        '127.0.0.1 or ::1, or set agent.http.allowRemote: true to expose them on purpose (behind a firewall)',
    });
  })
  .prefault({});
export type AgentHttpSection = z.infer<typeof AgentHttpSectionSchema>;
