/**
 * Imported first by agent-entry.ts, for its effect: the agent's V8 heap
 * settings (agent/v8-heap.ts) apply before the bundle evaluates the other
 * modules, whose loading would otherwise grow the young generation.
 */
import { useAgentHeapSettings } from '../../agent/v8-heap.js';

useAgentHeapSettings();
