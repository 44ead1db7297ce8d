export { CONTAINER_ID_ENV, containerScope } from './container-marker.js';
export * from './local-process.runner.js';
export { type ReapReport, reapOrphanContainers } from './orphan-containers.reaper.js';
export * from './process-supervisor.js';
