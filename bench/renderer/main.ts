// The renderer benchmark page: the real App and stores, fed a resync of
// ?rows= rows (50,000 in `npm run bench`) and then a 1,000-change delta, timing each until the
// browser has painted it; then typing in the filter, a key at a time.
import { createApp, nextTick } from 'vue';
import { createPinia } from 'pinia';
import App from '../../src-renderer/src/App.vue';
import type { PortholeClient } from '../../src-renderer/src/api/client';
import { useSocketStore } from '../../src-renderer/src/stores/sockets';
import { useTransitionStore } from '../../src-renderer/src/stores/transitions';
import { useUiStore } from '../../src-renderer/src/stores/ui';
import '../../src-renderer/src/styles.css';
import type { Socket } from '../../src-main/shared/contract';
import { socketKey } from '../../src-main/track/identity';
import { syntheticConnection } from '../synthetic';

const ROWS = Number(new URLSearchParams(location.search).get('rows') ?? 20000);
const CHANGES = 1000;
// Messages are given to the store's receive() itself, not through the client (which applies them
// at the next animation frame): each phase times the applying and rendering of one message.
const client: PortholeClient = {
  transport: 'websocket',
  onMessage: () => {},
  onStatus: (listener) => listener(true),
  onCommand: () => {},
  onHost: () => {},
  onHosts: () => {},
  onLoop: () => {},
  onHistory: () => {},
  send: () => {},
  call: () => Promise.reject(new Error('the benchmark host takes no actions')),
};

const stats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 50 };
const sockets: Socket[] = Array.from({ length: ROWS }, (_, i) => syntheticConnection(i));

const painted = () => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

async function run(): Promise<void> {
  const app = createApp(App).use(createPinia());
  const store = useSocketStore();
  const transitions = useTransitionStore();
  store.onDelta((delta) => transitions.apply(delta));
  store.connect(client);
  useUiStore().view = 'connections';
  app.mount('#app');
  await painted();

  const t0 = performance.now();
  store.receive({ type: 'resync', resync: { seq: 1, at: new Date().toISOString(), sockets, processes: [], stats } });
  await nextTick();
  await painted();
  const firstRender = performance.now() - t0;
  const rowsInDom = document.querySelectorAll('[data-testid=connection-row]').length;
  const rowCount = document.querySelector('[data-testid=row-count]')?.textContent ?? '';

  const phases = {
    delta: () => deltaPhase(),
    typing: () => typingPhase(),
    fanout: () => fanoutPhase(),
  };
  // ?phases=1 (for a profiler): the page waits after the first render, and each phase is run by name.
  if (new URLSearchParams(location.search).has('phases')) {
    Object.assign(window, {
      __ready: true,
      __type: async (text: string) => {
        const t = performance.now();
        useUiStore().text = text;
        await nextTick();
        const rendered = performance.now() - t;
        await painted();
        return rendered;
      },
      __runPhase: async (name: keyof typeof phases) =>
        ((window as unknown as { __bench: unknown }).__bench = await phases[name]()),
    });
    return;
  }
  (window as unknown as { __bench: unknown }).__bench = {
    rows: ROWS,
    firstRender,
    rowsInDom,
    rowCount,
    ...(await phases.delta()),
    ...(await phases.typing()),
    ...(await phases.fanout()),
  };
}

async function deltaPhase() {
  const changed = sockets
    .slice(0, CHANGES)
    .map((s) => ({ key: socketKey(s), from: { state: s.state }, to: { ...s, state: 'CLOSE_WAIT' as const } }));
  const delta = {
    seq: 2,
    since: 1,
    at: new Date().toISOString(),
    added: [],
    removed: [],
    changed,
    processes: [],
    stats,
  };
  const t1 = performance.now();
  useSocketStore().receive({ type: 'delta', delta });
  const applied = performance.now() - t1;
  await nextTick();
  const rendered = performance.now() - t1;
  await painted();
  return { applied, rendered, painted: performance.now() - t1 };
}

/**
 * Typing in the filter, a key at a time: each keystroke filtered, sorted and rendered (not yet
 * painted: painting waits for the next frame whatever the work) within one frame.
 */
async function typingPhase() {
  const ui = useUiStore();
  // A person looks at the table before typing: half a second, in which the view builds each
  // row's search text while idle (the first keystroke right after a 50,000-row resync builds it).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const typed = 'server-13 10.0';
  const keystrokes: number[] = [];
  for (let k = 1; k <= typed.length; k++) {
    const t = performance.now();
    ui.text = typed.slice(0, k);
    await nextTick();
    keystrokes.push(performance.now() - t);
    await painted();
  }
  ui.text = '';
  await nextTick();
  await painted();
  return {
    keystrokes,
    keystrokeMax: Math.max(...keystrokes),
    keystrokeMedian: [...keystrokes].sort((a, b) => a - b)[Math.floor(keystrokes.length / 2)],
  };
}

/** A port's fan-out: 2,500 connections from as many hosts (each port of the table has that many). */
async function fanoutPhase() {
  const ui = useUiStore();
  const t3 = performance.now();
  ui.selection = { kind: 'port', protocol: 'tcp', port: 3000, netns: null, host: null };
  await nextTick();
  await painted();
  return {
    fanout: performance.now() - t3,
    fanoutGroups: document.querySelectorAll('[data-testid=fanout-group]').length,
  };
}

void run();
