// Names of remote hosts (reverse DNS), asked of the host for the addresses the views show, in
// batches, never on the way of a render: a row shows its address at once and its name when known.
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { MAX_NAMES_ASKED, type NamesAnswer, type ReverseDnsMode } from '../../../src-main/shared/ipc';
import { useSocketStore } from './sockets';

/** How often the addresses asked for since the last batch are sent. */
const BATCH_MS = 300;
/** An address the host had no answer for yet ("not known yet") is asked again after this. */
const ASK_AGAIN_MS = 5000;
/** Names remembered at most (the host keeps its own cache with lifetimes); the oldest go first. */
const MAX_NAMES = 4096;

export const useNamesStore = defineStore('names', () => {
  const sockets = useSocketStore();
  /** The user's switch: off shows addresses only and asks for nothing. Kept across runs. */
  const enabled = ref(localStorage.getItem('porthole.names') !== 'off');
  watch(enabled, (on) => localStorage.setItem('porthole.names', on ? 'on' : 'off'));
  /** The host's setting, once it has answered (`serve --reverse-dns`). */
  const mode = ref<ReverseDnsMode | null>(null);
  /** Bumped when names arrive: what reads a name is redrawn. */
  const version = ref(0);
  const known = new Map<string, string | null>();
  /** Addresses asked for, and when (not asked again before ASK_AGAIN_MS unless answered). */
  const asked = new Map<string, number>();
  const wanted = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  async function flush(): Promise<void> {
    timer = null;
    const addresses = [...wanted].slice(0, MAX_NAMES_ASKED);
    for (const address of addresses) wanted.delete(address);
    if (addresses.length === 0) return;
    const now = Date.now();
    for (const address of addresses) asked.set(address, now);
    try {
      const answer = await sockets.call<NamesAnswer>({ type: 'names', addresses });
      mode.value = answer.mode;
      for (const [address, name] of Object.entries(answer.names)) {
        known.delete(address);
        known.set(address, name);
        asked.delete(address);
      }
      while (known.size > MAX_NAMES) known.delete(known.keys().next().value!);
      while (asked.size > MAX_NAMES) asked.delete(asked.keys().next().value!);
      version.value++;
    } catch {
      // Not connected, or an older host: the addresses stay as they are, asked again later.
    }
    if (wanted.size > 0) schedule();
  }
  function schedule(): void {
    timer ??= setTimeout(() => void flush(), BATCH_MS);
  }

  /**
   * The name of a remote address of this machine's table, when it has one and it is known; asks
   * for it otherwise (once per ASK_AGAIN_MS). Reading it in a render redraws when names arrive.
   */
  function nameOf(address: string | null): string | null {
    void version.value;
    if (!enabled.value || address === null || mode.value === 'off') return null;
    const name = known.get(address);
    if (name !== undefined) return name;
    const when = asked.get(address);
    if ((when === undefined || Date.now() - when > ASK_AGAIN_MS) && wanted.size < MAX_NAMES_ASKED * 4) {
      wanted.add(address);
      schedule();
    }
    return null;
  }

  return { enabled, mode, nameOf };
});
