import path from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { describeFailure, parseMemory } from '#osa/domain';
import type { CapacityReport, ContainerRunner, ContainerRunRequest, ContainerRunResult } from '#osa/runners';
import { OsaAttributes } from './osa-attributes.js';
import { inSpan } from './span.js';
import { tracingEnabled } from './tracing.js';

/**
 * A container runner whose every run is a span (`container.run ingester`, `container.run hook
 * <name>`) under the job that asked for it: run, batch, stage, hook, attempt and step, the
 * container, the memory it was given, and how it ended.
 */
export class TracedContainerRunner implements ContainerRunner {
  constructor(private readonly runner: ContainerRunner) {}

  run(request: ContainerRunRequest): Promise<ContainerRunResult> {
    const name = request.role === 'hook' ? `container.run hook ${request.hook ?? ''}` : 'container.run ingester';
    return inSpan(name, requestAttributes(request), async (span) => {
      try {
        const result = await this.runner.run(request);
        span.setAttributes({ [OsaAttributes.Outcome]: 'succeeded', [OsaAttributes.Reused]: result.reused });
        return result;
      } catch (err) {
        span.setAttributes({ [OsaAttributes.Outcome]: 'failed', [OsaAttributes.ExitKind]: describeFailure(err).kind });
        throw err;
      }
    });
  }

  capacity(): Promise<CapacityReport> {
    return this.runner.capacity();
  }
}

/** The runner itself while tracing is off; traced while it is on. */
export function traceContainerRunner(runner: ContainerRunner): ContainerRunner {
  return tracingEnabled() ? new TracedContainerRunner(runner) : runner;
}

function requestAttributes(request: ContainerRunRequest): Attributes {
  const attributes: Attributes = {
    [OsaAttributes.RunId]: request.runId,
    [OsaAttributes.BatchIndex]: request.batchIndex,
    [OsaAttributes.Stage]: request.role === 'hook' ? 'hooks' : 'ingester',
    [OsaAttributes.Attempt]: request.attempt,
    [OsaAttributes.Step]: request.step ?? 0,
    [OsaAttributes.Container]: containerName(request),
  };
  if (request.hook !== undefined) attributes[OsaAttributes.Hook] = request.hook;
  const memory = request.memoryBytes ?? parseMemory(request.limits.memory);
  if (memory !== undefined) attributes[OsaAttributes.MemoryBytes] = memory;
  return attributes;
}

/** The image; for a local process, its program and first argument (`node flag-hook.mjs`). */
function containerName(request: ContainerRunRequest): string {
  const name =
    request.image ??
    request.command
      .slice(0, 2)
      .map((part) => path.basename(part))
      .join(' ');
  return name.slice(0, 200);
}
