// Makes every icon the packages need from the one source drawing, resources/icon.svg, with
// icon-gen (which renders through sharp): PNGs of each size for Linux (resources/icons/NxN.png,
// as electron-builder reads a folder of them), resources/icon.icns (macOS) and resources/icon.ico
// (Windows). Run after changing the drawing: npm run icons. The outputs are committed.
const { mkdirSync, readdirSync, renameSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const icongen = require('icon-gen');

const RESOURCES = join(__dirname, '..', 'resources');
const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

async function main() {
  const pngs = join(RESOURCES, 'icons');
  rmSync(pngs, { recursive: true, force: true });
  mkdirSync(pngs, { recursive: true });
  await icongen(join(RESOURCES, 'icon.svg'), RESOURCES, {
    report: false,
    ico: { name: 'icon', sizes: [16, 24, 32, 48, 64, 128, 256] },
    icns: { name: 'icon', sizes: [16, 32, 64, 128, 256, 512, 1024] },
    favicon: { name: 'png-', pngSizes: LINUX_SIZES, icoSizes: [] },
  });
  // icon-gen names its PNGs png-<size>.png beside the others (and adds a favicon.ico, not used):
  // electron-builder wants NxN.png in a folder.
  rmSync(join(RESOURCES, 'favicon.ico'), { force: true });
  for (const name of readdirSync(RESOURCES)) {
    const m = /^png-(\d+)\.png$/.exec(name);
    if (m) renameSync(join(RESOURCES, name), join(pngs, `${m[1]}x${m[1]}.png`));
  }
  process.stdout.write(`icons written: ${readdirSync(pngs).length} PNGs, icon.icns, icon.ico\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
