import type { ModelManifest } from '../../shared/wire/models.js';

/**
 * What makes two signed messages the same model: its version and the
 * SHA-256s of its ONNX files. The aggregator signs a model anew each time it
 * publishes it (the signature covers `createdAt`), so a canary model
 * republished to the whole fleet, or a fleet model republished after a
 * canary, is recognised and not loaded a second time.
 */
export function modelIdentity(manifest: Pick<ModelManifest, 'version' | 'sha256' | 'band'>): string {
  const { band } = manifest;
  return [manifest.version, manifest.sha256, band?.p10.sha256, band?.p50.sha256, band?.p90.sha256].join('|');
}
