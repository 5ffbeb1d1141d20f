/**
 * @module factory
 * Picks the host for an isolation class. The class is a deployment decision: the same driver
 * module runs in any of them.
 */
import type { ContainerHostFactory, ContainerStartOptions, IContainerHost } from '../../framework/container-host.js';
import type { IsolationClass } from '../../framework/platform/types.js';
import { ChildProcessHost } from './child-host.js';
import { InProcessHost } from './in-process-host.js';
import { KernelPage } from '../../devices/ipc/kernel-page.js';
import { WorkerHost } from './worker-host.js';

export function createHostFactory(page = new KernelPage()): ContainerHostFactory {
  return (isolation: IsolationClass, opts: ContainerStartOptions): IContainerHost => {
    switch (isolation) {
      case 'ic0': return new InProcessHost(opts, page.budget);
      case 'ic1': return new WorkerHost(opts, page);
      case 'ic2': return new ChildProcessHost(opts, page);
    }
  };
}
