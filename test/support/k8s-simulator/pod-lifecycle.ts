import { condition, type Obj, now, setCondition } from './k8s-objects.js';

/** Status transitions of a pod, written the way the scheduler and kubelet write them. */
export const PodStatus = {
  unschedulable(pod: Obj, message: string): void {
    pod.status.phase = 'Pending';
    setCondition(pod.status.conditions, condition('PodScheduled', 'False', 'Unschedulable', message));
  },

  scheduled(pod: Obj, container: Obj): void {
    pod.spec.nodeName = 'sim-node-1';
    pod.status.hostIP = '10.0.0.1';
    pod.status.hostIPs = [{ ip: '10.0.0.1' }];
    pod.status.startTime = now();
    const conditions = pod.status.conditions as Obj[];
    setCondition(conditions, condition('PodScheduled', 'True'));
    setCondition(conditions, condition('Initialized', 'True'));
    setCondition(conditions, condition('Ready', 'False', 'ContainersNotReady', `containers with unready status: [${container.name}]`));
    setCondition(conditions, condition('ContainersReady', 'False', 'ContainersNotReady', `containers with unready status: [${container.name}]`));
    pod.status.containerStatuses = [
      {
        name: container.name,
        image: container.image,
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
      },
    ];
  },

  waiting(pod: Obj, reason: string, message: string): void {
    pod.status.containerStatuses[0].state = { waiting: { reason, message } };
  },

  running(pod: Obj): void {
    pod.status.phase = 'Running';
    pod.status.podIP = '10.1.0.7';
    pod.status.podIPs = [{ ip: '10.1.0.7' }];
    const status = pod.status.containerStatuses[0];
    Object.assign(status, { ready: true, started: true, containerID: `containerd://${pod.metadata.uid.replace(/-/g, '')}` });
    status.state = { running: { startedAt: now() } };
    setCondition(pod.status.conditions, condition('Ready', 'True'));
    setCondition(pod.status.conditions, condition('ContainersReady', 'True'));
  },

  terminated(pod: Obj, exitCode: number, reason: string, phase: 'Succeeded' | 'Failed'): void {
    const status = pod.status.containerStatuses[0];
    const startedAt = status.state.running?.startedAt ?? now();
    Object.assign(status, { ready: false, started: false });
    status.state = { terminated: { exitCode, reason, startedAt, finishedAt: now(), containerID: status.containerID } };
    pod.status.phase = phase;
    const why = phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
    setCondition(pod.status.conditions, condition('Ready', 'False', why));
    setCondition(pod.status.conditions, condition('ContainersReady', 'False', why));
  },

  evicted(pod: Obj, message: string): void {
    PodStatus.terminated(pod, 137, 'Error', 'Failed');
    pod.status.reason = 'Evicted';
    pod.status.message = message;
    setCondition(pod.status.conditions, condition('DisruptionTarget', 'True', 'TerminationByKubelet', message));
  },
};
