// Packaging (npm run dist): electron-builder's configuration for Linux, macOS and Windows. Builds
// download Electron and their tools from GitHub; tests/unit/packaging.test.ts checks this file
// against electron-builder's own schema and the built output against `files` and `asarUnpack`.

/** @type {import('electron-builder').Configuration} */
module.exports = {
  appId: 'dev.porthole.app',
  productName: 'Porthole',
  copyright: 'Copyright © 2026 the Porthole developers',
  directories: { output: 'dist', buildResources: 'resources' },
  // What the app runs: the built main process (with its worker scripts), preload and renderer.
  // Production dependencies (koffi, systeminformation, ws) are added by electron-builder itself.
  files: [
    'out/main/**',
    'out/preload/**',
    'out/renderer/**',
    'package.json',
    '!out/bench/**',
    '!out/bench-renderer/**',
  ],
  // Outside the asar archive: koffi and its platform package's native library (koffi 3 loads
  // @koromix/koffi-<os>-<arch>/…/koffi.node; dlopen needs a real file). The worker scripts
  // (out/main/poll-worker.js, event-worker.js, recorder-worker.js …) stay inside: Electron loads worker_threads scripts
  // from the archive since Electron 18 (electron/electron#33216), and unpacked they could not
  // require the modules that stay packed.
  // libsql's platform package holds the history database's native library the same way.
  asarUnpack: [
    'node_modules/koffi/**',
    'node_modules/@koromix/koffi-*/**',
    'node_modules/libsql/**',
    'node_modules/@libsql/*/**',
  ],
  fileAssociations: [
    {
      ext: 'porthole.json',
      name: 'Porthole snapshot',
      description: 'A snapshot of the socket table (porthole snapshot, or Export in the app)',
      mimeType: 'application/vnd.porthole.snapshot+json',
      role: 'Viewer',
    },
    {
      ext: 'ndjson',
      name: 'Porthole recording',
      description: 'A recording of the delta stream (porthole watch --json, or Record in the app)',
      mimeType: 'application/x-ndjson',
      role: 'Viewer',
    },
  ],
  linux: {
    target: ['AppImage', 'deb', 'rpm'],
    icon: 'resources/icons',
    category: 'Development',
    synopsis: 'Which process holds which port, live',
    description: 'A desktop connection monitor for developers: listeners, per-port fan-out and TCP state transitions.',
    maintainer: 'Porthole developers <porthole@users.noreply.github.com>',
    executableName: 'porthole-desktop',
    desktop: { entry: { Keywords: 'port;socket;network;netstat;ss;EADDRINUSE;' } },
    // The privileged helper's wrapper and polkit action (resources/linux); deb and rpm install the action.
    extraResources: [
      { from: 'resources/linux/porthole-helper', to: 'porthole-helper' },
      { from: 'resources/linux/dev.porthole.helper.policy', to: 'dev.porthole.helper.policy' },
    ],
  },
  deb: {
    depends: ['libnotify4', 'libsecret-1-0', 'policykit-1 | pkexec'],
    afterInstall: 'resources/linux/after-install.sh',
    afterRemove: 'resources/linux/after-remove.sh',
  },
  rpm: {
    depends: ['libnotify', 'polkit'],
    afterInstall: 'resources/linux/after-install.sh',
    afterRemove: 'resources/linux/after-remove.sh',
  },
  mac: {
    target: ['dmg', 'zip'],
    icon: 'resources/icon.icns',
    category: 'public.app-category.developer-tools',
    hardenedRuntime: true,
    gatekeeperAssess: false,
    entitlements: 'resources/entitlements.mac.plist',
    entitlementsInherit: 'resources/entitlements.mac.plist',
  },
  dmg: { title: 'Porthole ${version}' },
  win: { target: ['nsis', 'portable'], icon: 'resources/icon.ico' },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  portable: { artifactName: '${productName}-${version}-portable.${ext}' },
};
