// Saving and opening files from the renderer, whichever host it runs under: Electron saves through
// the main process (a native dialog, written atomically); a browser downloads.
import { useSocketStore } from './stores/sockets';

export async function saveText(name: string, text: string, type: string): Promise<string> {
  const sockets = useSocketStore();
  if (sockets.transport() === 'electron') return sockets.call<string>({ type: 'save', name, text });
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return `Downloaded ${name}.`;
}

/** A file the user picked, as text (the parsers check size and content). */
export function pickFile(accept: string): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = accept;
    input.onchange = () => resolve(input.files?.[0] ?? null);
    input.click();
  });
}

export function stamp(date = new Date()): string {
  return date.toISOString().slice(0, 19).replace(/[:T]/g, '-');
}
