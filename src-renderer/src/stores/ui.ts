// What the user is looking at: the view, the filters, the selection.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Protocol, SocketState } from '../../../src-main/shared/contract';

export type View = 'listeners' | 'connections' | 'transitions' | 'doctor' | 'snapshots';
export type Selection =
  | { kind: 'port'; protocol: Protocol; port: number; netns: number | null }
  | { kind: 'connection'; key: string }
  | { kind: 'process'; pid: number }
  | null;

export const useUiStore = defineStore('ui', () => {
  const view = ref<View>('listeners');
  const text = ref('');
  const protocol = ref<Protocol | 'all'>('all');
  const state = ref<SocketState | 'all'>('all');
  const role = ref<'all' | 'listening' | 'connected'>('all');
  const pid = ref<number | null>(null);
  /** Which network namespace to show: 'all', or one by name ('host' is Porthole's own). */
  const namespace = ref<string>('all');
  const selection = ref<Selection>(null);
  /** The port the Port Doctor was opened for (`3000`, `53/udp`). */
  const doctorPort = ref<string | null>(null);
  function openDoctor(port: number, protocol: Protocol): void {
    doctorPort.value = protocol === 'udp' ? `${port}/udp` : String(port);
    view.value = 'doctor';
  }
  return { view, text, protocol, state, role, pid, namespace, selection, doctorPort, openDoctor };
});
