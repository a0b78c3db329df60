/** Called for each message on a subscribed topic; the payload is raw bytes, untrusted. */
export type MessageHandler = (topic: string, payload: Buffer) => void;

/**
 * The aggregator's side of the broker, whether the broker runs inside the
 * aggregator (aedes) or outside it (Mosquitto, EMQX…). Ingest and model
 * distribution speak only this.
 */
export interface BrokerConnection {
  /** Where agents connect, for logs and the banner, e.g. `mqtt://127.0.0.1:1883`. */
  readonly url: string;
  start(): Promise<void>;
  /** Safe to call twice and before start. */
  stop(): Promise<void>;
  /** Registers a handler for a topic filter (`+`/`#` allowed). Call before start. */
  subscribe(filter: string, handler: MessageHandler): void;
  publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
}
