// What a worker thread sends its subscribers, gathered until the current task ends: the same text
// for several subscribers crosses to the main thread once, with the list of them, not a copy each.
// A second message for a subscriber already waiting flushes first, so each one's order holds.

export function outbox<Id>(post: (ids: Id[], json: string) => void): (id: Id, json: string) => void {
  let pending: Map<string, Id[]> | null = null;
  const waiting = new Set<Id>();
  const flush = (): void => {
    if (!pending) return;
    for (const [json, ids] of pending) post(ids, json);
    pending = null;
    waiting.clear();
  };
  return (id, json) => {
    if (waiting.has(id)) flush();
    if (!pending) {
      pending = new Map();
      queueMicrotask(flush);
    }
    const ids = pending.get(json);
    if (ids) ids.push(id);
    else pending.set(json, [id]);
    waiting.add(id);
  };
}
