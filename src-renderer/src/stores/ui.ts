// What the user is looking at: the view, the filters, the selection.
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { Protocol, SocketState } from '../../../src-main/shared/contract';
import { markedWords } from '../filter';

export type View = 'map' | 'listeners' | 'connections' | 'transitions' | 'doctor' | 'snapshots';
export type Selection =
  /** `host`: the source it is on (`serve --source`), null for this machine. */
  | { kind: 'port'; protocol: Protocol; port: number; netns: number | null; host: string | null }
  | { kind: 'connection'; key: string }
  | { kind: 'process'; pid: number; host: string | null }
  | null;

export type Theme = 'system' | 'light' | 'dark';
const VIEWS: readonly View[] = ['map', 'listeners', 'connections', 'transitions', 'doctor', 'snapshots'];
const THEMES: readonly Theme[] = ['system', 'light', 'dark'];

/** A remembered choice, if it is still one of the choices (localStorage is the user's to edit). */
function remembered<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
  try {
    const value = localStorage.getItem(key);
    return allowed.includes(value as T) ? (value as T) : fallback;
  } catch {
    return fallback;
  }
}

export const useUiStore = defineStore('ui', () => {
  // The last view and the theme are remembered across runs (the window's size: the Electron host).
  // The map first: "what talks to what" is the first thing to see.
  const view = ref<View>(remembered('porthole.view', VIEWS, 'map'));
  const theme = ref<Theme>(remembered('porthole.theme', THEMES, 'system'));
  const dark = window.matchMedia?.('(prefers-color-scheme: dark)');
  const applyTheme = () => {
    const resolved = theme.value === 'system' ? (dark?.matches ? 'dark' : 'light') : theme.value;
    document.documentElement.dataset.theme = resolved;
  };
  applyTheme();
  dark?.addEventListener('change', applyTheme);
  watch(theme, (value) => {
    localStorage.setItem('porthole.theme', value);
    applyTheme();
  });
  watch(view, (value) => localStorage.setItem('porthole.view', value));
  const text = ref('');
  /** The filter's words to mark in what the views show (its field terms excepted). */
  const marks = computed(() => markedWords(text.value));
  /** Connections shows TCP and UDP first: a desktop's thousands of Unix sockets are asked for. */
  const protocol = ref<Protocol | 'all' | 'inet'>('inet');
  const state = ref<SocketState | 'all'>('all');
  const role = ref<'all' | 'listening' | 'connected'>('all');
  const pid = ref<number | null>(null);
  /** The Transitions feed lists every change, or (the default) folds Unix sockets and TIME_WAIT running out. */
  const feedAll = ref(false);
  /** Connections grouped by the process that owns them (the default), or flat. Kept across runs. */
  const groupByProcess = ref(localStorage.getItem('porthole.groupByProcess') !== 'flat');
  watch(groupByProcess, (on) => localStorage.setItem('porthole.groupByProcess', on ? 'grouped' : 'flat'));
  /** Which network namespace to show: 'all', or one by name ('host' is Porthole's own). */
  const namespace = ref<string>('all');
  /** Which machine to show, where the host merges sources: null for all, '' for this one, else a source's name. */
  const host = ref<string | null>(null);
  /**
   * What each view's details panel shows: a panel belongs to its view, so switching views shows
   * that view's own (or none), and switching back brings it back.
   */
  const selections = ref<Record<View, Selection>>({
    map: null,
    listeners: null,
    connections: null,
    transitions: null,
    doctor: null,
    snapshots: null,
  });
  const selection = computed<Selection>({
    get: () => selections.value[view.value],
    set: (value) => (selections.value[view.value] = value),
  });
  /** The details panel's width (px), kept across runs. */
  const panelWidth = ref<number>(Number(localStorage.getItem('porthole.panelWidth')) || 440);
  watch(panelWidth, (value) => localStorage.setItem('porthole.panelWidth', String(value)));
  /** The port the Port Doctor was opened for (`3000`, `53/udp`). */
  const doctorPort = ref<string | null>(null);
  function openDoctor(port: number, protocol: Protocol): void {
    doctorPort.value = protocol === 'udp' ? `${port}/udp` : String(port);
    view.value = 'doctor';
  }
  return {
    view,
    theme,
    text,
    marks,
    protocol,
    state,
    role,
    pid,
    groupByProcess,
    feedAll,
    namespace,
    host,
    selection,
    panelWidth,
    doctorPort,
    openDoctor,
  };
});
