// The Kubernetes runner is its own entry, `#osa/runners-kubernetes`: its client costs ~80 MB of
// memory, which services on the local runner should not pay.
export * from './local/index.js';
export * from './port/index.js';
