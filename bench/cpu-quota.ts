// A CPU quota for one bench process (PG_REPLICA_CPU): the process is moved into a cgroup of its own
// whose CFS quota is `cores` CPUs. On this 2-core machine two replicas, their PostgreSQL and the load
// generator share the same cores, so "two replicas vs one" measures the cores, not the replicas. With
// each replica capped below what the rest of the machine can feed, a replica is the bottleneck, as it
// is when every replica has a machine of its own, and the ratio shows whether replicas scale or
// contend in the shared catalog.
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const V2 = '/sys/fs/cgroup';
const V1 = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100_000;

/** Caps `pid` (all its threads) at `cores` CPUs; returns the cleanup that removes the cgroup. */
export function capCpu(pid: number, cores: number, name: string): () => void {
  if (!(cores > 0)) throw new Error(`a CPU cap must be a positive number of cores, not ${cores}`);
  const quota = String(Math.round(cores * PERIOD_US));
  const v2 = existsSync(join(V2, 'cgroup.controllers'));
  const dir = join(v2 ? V2 : V1, `odas-bench-${name}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  if (v2) writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
  else {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), quota);
  }
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  return () => {
    // The process has exited (or is moved back) before the group can go.
    try {
      writeFileSync(join(v2 ? V2 : V1, 'cgroup.procs'), String(pid));
    } catch {
      // already gone
    }
    try {
      rmdirSync(dir);
    } catch {
      // a process still inside: left for the next boot
    }
  };
}
