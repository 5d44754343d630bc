// The renderer applies the stream's messages once a frame: in order, all that came since the last
// frame together, none lost to one that throws, and never more than its bound held back.
import { describe, expect, it } from 'vitest';
import { frameQueue, MAX_QUEUED_TASKS } from '../../src-renderer/src/frames';

/** A stand-in for requestAnimationFrame: frames run when the test says. */
function frames() {
  const waiting: (() => void)[] = [];
  return {
    schedule: (run: () => void) => void waiting.push(run),
    frame: () => waiting.splice(0).forEach((run) => run()),
    get requested() {
      return waiting.length;
    },
  };
}

describe('frameQueue', () => {
  it('runs what came between two frames at the next frame, in order, asking for one frame', () => {
    const clock = frames();
    const defer = frameQueue(clock.schedule);
    const ran: number[] = [];
    for (let i = 0; i < 5; i++) defer(() => ran.push(i));
    expect(ran).toEqual([]);
    expect(clock.requested).toBe(1);
    clock.frame();
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    defer(() => ran.push(5));
    expect(clock.requested).toBe(1);
    clock.frame();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('runs the tasks after one that throws, and reports the error', async () => {
    const clock = frames();
    const defer = frameQueue(clock.schedule);
    const ran: string[] = [];
    const reported: unknown[] = [];
    const onError = (error: unknown) => reported.push(error);
    process.on('uncaughtException', onError);
    try {
      defer(() => ran.push('a'));
      defer(() => {
        throw new Error('bad message');
      });
      defer(() => ran.push('c'));
      clock.frame();
      expect(ran).toEqual(['a', 'c']);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(reported).toEqual([new Error('bad message')]);
    } finally {
      process.off('uncaughtException', onError);
    }
  });

  it('holds back no more than its bound when frames stop: the rest run at once, none dropped', () => {
    const clock = frames();
    const defer = frameQueue(clock.schedule);
    let ran = 0;
    for (let i = 0; i < MAX_QUEUED_TASKS * 2 + 10; i++) defer(() => ran++);
    expect(ran).toBe(MAX_QUEUED_TASKS * 2);
    clock.frame();
    expect(ran).toBe(MAX_QUEUED_TASKS * 2 + 10);
  });

  it('runs tasks at once where there are no frames (Node)', () => {
    const defer = frameQueue(undefined);
    let ran = 0;
    defer(() => ran++);
    expect(ran).toBe(1);
  });
});
