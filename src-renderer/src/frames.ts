// Stream messages applied once an animation frame, all that came since the last one together.
//
// A host in event mode sends a message as often as every 16 ms, and each message applied on
// arrival was rendered on its own: the page re-rendered its views for every one of them, and
// acknowledged each before rendering it, so the host never held one back: once rendering a
// message took longer than the next took to come, the browser's queue of them could grow
// without end. Applied at the frame, just before the browser paints, messages cost one render a
// frame whatever their rate, and each is acknowledged only when applied, so a page that cannot
// keep up leaves its deltas with the host, which composes them into one.

/**
 * Tasks queued before the next frame runs them regardless: the host holds each stream to a few
 * unacknowledged messages (DeltaStream's window), so the queue stays far below this; a page
 * whose frames stop (hidden) is paused by the host. Past it the tasks run at once: never dropped,
 * which would be a gap in the stream.
 */
export const MAX_QUEUED_TASKS = 1_000;

export type Schedule = (run: () => void) => void;

/**
 * Returns `defer(task)`: the task runs, in order with the others, at the next `schedule` (the
 * next animation frame in a browser). Without a schedule (Node, tests) tasks run at once.
 */
export function frameQueue(schedule: Schedule | undefined = browserFrame()): (task: () => void) => void {
  const queue: (() => void)[] = [];
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    // One at a time: a task that throws loses none of those after it (its error is reported).
    while (queue.length > 0) {
      const task = queue.shift()!;
      try {
        task();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };
  return (task) => {
    if (!schedule) return task();
    queue.push(task);
    if (queue.length >= MAX_QUEUED_TASKS) return drain();
    if (!scheduled) {
      scheduled = true;
      schedule(drain);
    }
  };
}

function browserFrame(): Schedule | undefined {
  const raf = (globalThis as { requestAnimationFrame?: (f: () => void) => number }).requestAnimationFrame;
  return raf ? (run) => void raf(run) : undefined;
}
