export { CONTAINER_ID_ENV } from './container-marker.js';
export * from './local-process.runner.js';
export type { ReapReport } from './orphan-containers.reaper.js';
export * from './process-supervisor.js';
