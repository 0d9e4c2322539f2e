// One run at a time, and never a wake-up lost: the shape of every loop that
// reacts to change events (the bus's read, durable consumers, the webhook
// dispatcher, the purge drain). A call while a run is in progress returns that
// run's promise and makes it run once more when it ends, because what the run
// read may predate the news the caller brings.

export interface Rerunning<T> {
  (): Promise<T>;
  /** The run in progress, if any (what a stop waits for). */
  readonly running: Promise<T> | undefined;
}

export function rerunning<T>(
  fn: () => Promise<T>,
  opts: {
    /** How the results of a run and its reruns add up (default: the last one). */
    combine?: (a: T, b: T) => T;
    /** Whether an asked-for rerun still happens (false once stopping). */
    repeat?: () => boolean;
  } = {},
): Rerunning<T> {
  let running: Promise<T> | undefined;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        again = false;
        let result: T = await fn();
        while (again && (opts.repeat?.() ?? true)) {
          again = false;
          const next = await fn();
          result = opts.combine ? opts.combine(result, next) : next;
        }
        return result;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  return Object.defineProperty(run, "running", { get: () => running }) as Rerunning<T>;
}

export const sum = (a: number, b: number) => a + b;
