// The renderer part of `npm run bench`: the real App in Debian's Chromium, fed 20,000 rows and then
// a 1,000-change delta by the benchmark page (bench/renderer), timed until painted.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { launchBrowser } from '../tests/helpers/browser';

export interface RendererFigures {
  rows: number;
  firstRender: number;
  rowsInDom: number;
  rowCount: string;
  applied: number;
  rendered: number;
  painted: number;
  /** Typing in the filter: the slowest and the median keystroke until rendered (ms). */
  keystrokeMax: number;
  keystrokeMedian: number;
  /** A port's fan-out with 2,500 peers (hosts), from selecting it until painted (ms). */
  fanout: number;
  fanoutGroups: number;
  /** The page's JavaScript heap after the phases and a garbage collection (MB). */
  heapMb: number;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

export async function benchRenderer(pageDir: string, rows: number, runs: number): Promise<RendererFigures[]> {
  const root = normalize(pageDir + sep);
  const server = createServer((request, response) => {
    const path = normalize(join(root, new URL(request.url ?? '/', 'http://x').pathname.replace(/^\/$/, '/index.html')));
    if (!path.startsWith(root)) return void response.writeHead(404).end();
    readFile(path).then(
      (body) =>
        response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  const figures: RendererFigures[] = [];
  // Launched inside the try: without a browser the server is closed and the run ends with why.
  const browser = await launchBrowser().catch((error: unknown) => {
    server.close();
    throw error;
  });
  try {
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
      await page.goto(`http://127.0.0.1:${port}/?rows=${rows}`);
      await page.waitForFunction(
        () => (globalThis as unknown as { __bench?: unknown }).__bench !== undefined,
        undefined,
        { timeout: 60_000 },
      );
      const figure = await page.evaluate(() => (globalThis as unknown as { __bench: RendererFigures }).__bench);
      // The page's JavaScript heap holding the 50,000 rows, after a full garbage collection.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = await cdp.send('Runtime.getHeapUsage');
      figures.push({ ...figure, heapMb: usedSize / 1e6 });
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  return figures;
}
