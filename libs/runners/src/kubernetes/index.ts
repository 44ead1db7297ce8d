export * from './job-naming.js';
export * from './job-spec.builder.js';
export * from './k8s-api-error.js';
export * from './kube-client.factory.js';
export * from './kubernetes-job.runner.js';
export * from './kubernetes-runner.config.js';
export * from './memory-quantity.js';
