// A concurrency limiter with two priorities: the block a reader waits for goes before
// read-ahead. Queued jobs can be withdrawn (a reader went away) without ever starting.

export type Priority = 'demand' | 'ahead';

/** How often a full limiter with queued jobs looks whether capacity grew. */
const RECHECK_MS = 100;

interface Job {
  run: () => void;
  priority: Priority;
}

export class Limiter {
  private active = 0;
  private recheck: NodeJS.Timeout | null = null;
  private readonly demand: Job[] = [];
  private readonly ahead: Job[] = [];

  constructor(private readonly capacity: () => number) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.demand.length + this.ahead.length;
  }

  /** Runs `task` when a slot is free; `withdraw()` drops it if it has not started. */
  schedule<T>(priority: Priority, task: () => Promise<T>): { result: Promise<T>; withdraw: () => boolean; promote: () => void } {
    let started = false;
    let job!: Job;
    const result = new Promise<T>((resolve, reject) => {
      job = {
        priority,
        run: () => {
          started = true;
          this.active++;
          task().then(resolve, reject).finally(() => {
            this.active--;
            this.next();
          });
        },
      };
    });
    (priority === 'demand' ? this.demand : this.ahead).push(job);
    this.next();
    return {
      result,
      withdraw: () => {
        if (started) return false;
        for (const q of [this.demand, this.ahead]) {
          const i = q.indexOf(job);
          if (i >= 0) q.splice(i, 1);
        }
        return true;
      },
      promote: () => {
        if (started || job.priority === 'demand') return;
        const i = this.ahead.indexOf(job);
        if (i >= 0) this.ahead.splice(i, 1);
        job.priority = 'demand';
        this.demand.push(job);
      },
    };
  }

  private next(): void {
    while (this.active < Math.max(1, this.capacity())) {
      const job = this.demand.shift() ?? this.ahead.shift();
      if (!job) return;
      job.run();
    }
    // Jobs wait and every slot is taken. Capacity can grow with no job ending (a worker's
    // FLOOD_WAIT runs out), and the running jobs may take long (a call waits for its worker to
    // reconnect, or for its timeout): look again shortly instead of only when a job ends.
    if (this.queued > 0 && !this.recheck) {
      this.recheck = setTimeout(() => {
        this.recheck = null;
        this.next();
      }, RECHECK_MS);
      this.recheck.unref();
    }
  }
}
