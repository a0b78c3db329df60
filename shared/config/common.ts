import { z } from 'zod';
import { LOG_FORMATS, LOG_LEVELS } from '../log.js';
import { ExhaustionConfigSchema } from '../resources/exhaustion.js';

/** Default data directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_MQTT_PORT = 1883;
/** Both listeners bind to loopback unless told otherwise. */
export const DEFAULT_BIND_HOST = '127.0.0.1';

export const PortSchema = z
  .number()
  .int()
  .min(0, 'port must be 0..65535')
  .max(65535, 'port must be 0..65535');

const ListenerSchema = (defaultPort: number) =>
  z
    .object({
      /** Interface address to bind (aggregator) or connect to (agent). Default 127.0.0.1. */
      host: z.string().min(1).default(DEFAULT_BIND_HOST),
      /** TCP port; 0 picks a free one. */
      port: PortSchema.default(defaultPort),
    })
    .strict()
    .prefault({});

/** Settings both the agent and the aggregator read. */
export const CommonConfigShape = {
  /** Directory for the store, queues and keys. Default `./data`. */
  dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
  log: z
    .object({
      level: z.enum(LOG_LEVELS).default('info'),
      /** `auto`: pretty on a terminal, JSON lines otherwise. */
      format: z.enum(LOG_FORMATS).default('auto'),
    })
    .strict()
    .prefault({}),
  /** The aggregator's HTTP listener (REST, WebSocket, dashboard, /metrics). */
  http: ListenerSchema(DEFAULT_HTTP_PORT),
  /** The MQTT broker: where the embedded broker listens, and where agents connect by default. */
  mqtt: ListenerSchema(DEFAULT_MQTT_PORT),
  /**
   * What "exhausted" means, per resource kind or resource id: threshold,
   * horizon, sustain (docs/features.md). The agent alerts and the trainer
   * labels with the same numbers. Default: the built-in definitions.
   */
  exhaustion: ExhaustionConfigSchema,
};
