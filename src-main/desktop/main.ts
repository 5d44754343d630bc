// The Electron entry: one window with the secure settings of docs/architecture.md (the desktop
// host), the app menu, a single instance, and the wiring of the poll worker to the window. No logic: this file cannot run here
// (no Electron runtime), so everything it calls lives in modules tested under plain Node.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { app, BrowserWindow, dialog, ipcMain, Menu, screen, session, shell, Tray } from 'electron';
import { restoredState } from './window-state';
import type { TrayModel } from '../track/tray';
import { createHostActions } from '../viewer/actions';
import { writeFileAtomic } from '../export/write-atomic';
import { IPC, type MenuCommand } from '../shared/ipc';
import { registerIpc } from './ipc';
import { Poller } from '../poll/poller';
import { RecordingControl } from '../history/subscriber';
import { defaultHistoryPath } from '../history/store';
import { connectBackChannel, helperProcessChannel } from '../poll/channel';
import { consentCommand } from './consent';
import { reverseDnsModeFrom } from '../collect';

const RENDERER = join(__dirname, '../renderer/index.html');
const APP_URL = pathToFileURL(RENDERER).href;
const HIDDEN_INTERVAL_MS = 5000;
const VISIBLE_INTERVAL_MS = 1000;

const TRAY_EVERY_MS = 5000;
const stateFile = () => join(app.getPath('userData'), 'window-state.json');
/** The app's settings kept by the main process: whether the flight recorder records. */
const settingsFile = () => join(app.getPath('userData'), 'settings.json');

function recordingWanted(): boolean {
  try {
    return (JSON.parse(readFileSync(settingsFile(), 'utf8')) as { recording?: unknown }).recording !== false;
  } catch {
    return true; // none yet, or unreadable: the default
  }
}

function rememberRecording(on: boolean): void {
  try {
    writeFileAtomic(settingsFile(), JSON.stringify({ recording: on }));
  } catch {
    // not remembered: the next run records by default
  }
}

function savedState(): unknown {
  try {
    return JSON.parse(readFileSync(stateFile(), 'utf8'));
  } catch {
    return null;
  }
}

function createWindow(poller: Poller, recording: RecordingControl): BrowserWindow {
  const state = restoredState(
    savedState(),
    screen.getAllDisplays().map((d) => d.workArea),
  );
  const window = new BrowserWindow({
    x: state.x,
    y: state.y,
    width: state.width,
    height: state.height,
    title: 'Porthole',
    show: false,
    webPreferences: {
      preload: join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      // A middle click must not open links in a new window (navigation is blocked anyway).
      disableBlinkFeatures: 'Auxclick',
    },
  });
  const contents = window.webContents;
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://github.com/')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const actions = createHostActions(
    poller,
    {
      async save(name, text) {
        const choice = await dialog.showSaveDialog(window, { defaultPath: name });
        if (choice.canceled || !choice.filePath) return 'Not saved.';
        writeFileAtomic(choice.filePath, text);
        return `Saved ${choice.filePath}.`;
      },
      async openFolder(path) {
        const error = await shell.openPath(path);
        if (error) throw new Error(error);
      },
      async showAllOwners() {
        if (poller.kind === 'helper') return 'The privileged helper is already polling: every owner is shown.';
        const consent = consentCommand({
          platform: process.platform,
          packaged: app.isPackaged,
          resourcesPath: process.resourcesPath,
          execPath: process.execPath,
          helperScript: join(__dirname, 'helper.js'),
        });
        if ('unsupported' in consent) return `Not available: ${consent.unsupported}.`;
        const started = await poller.switchTo({
          factory:
            consent.kind === 'pipes'
              ? helperProcessChannel(consent.command, consent.args)
              : connectBackChannel(consent.launch),
          restart: true,
        });
        return started
          ? 'Every owner is shown: the privileged helper polls (it ends when Porthole does).'
          : 'Nothing changed: the administrator’s consent was not given (or the prompt could not be shown).';
      },
    },
    { reverseDns: reverseDnsModeFrom(process.env.PORTHOLE_REVERSE_DNS), recording },
  );
  const ipc = registerIpc(ipcMain, contents, APP_URL, poller, (line) => console.warn(line), actions);
  // Hidden: poll less often; the renderer also pauses its stream (visibility request).
  window.on('hide', () => poller.setInterval(HIDDEN_INTERVAL_MS));
  window.on('minimize', () => poller.setInterval(HIDDEN_INTERVAL_MS));
  window.on('show', () => poller.setInterval(VISIBLE_INTERVAL_MS));
  window.on('restore', () => poller.setInterval(VISIBLE_INTERVAL_MS));
  window.on('closed', () => ipc.dispose());
  // Its size and place for the next run (the view and theme the renderer keeps itself).
  window.on('close', () => {
    const bounds = window.getNormalBounds();
    try {
      writeFileAtomic(stateFile(), JSON.stringify({ ...bounds, maximized: window.isMaximized() }));
    } catch {
      // not saved: the next run opens at the default size
    }
  });
  if (state.maximized) window.once('ready-to-show', () => window.maximize());
  window.once('ready-to-show', () => window.show());
  void window.loadURL(APP_URL);
  return window;
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let window: BrowserWindow | null = null;
  app.on('second-instance', () => {
    if (window?.isMinimized()) window.restore();
    window?.focus();
  });
  void app.whenReady().then(() => {
    // Notifications (alerts on watched ports) for Porthole's own page; every other permission refused.
    session.defaultSession.setPermissionRequestHandler((contents, permission, callback) =>
      callback(permission === 'notifications' && contents.getURL() === APP_URL),
    );
    session.defaultSession.setPermissionCheckHandler(
      (contents, permission) => permission === 'notifications' && contents?.getURL() === APP_URL,
    );
    // File menu items are commands the renderer carries out (the same as its own buttons).
    const command = (name: MenuCommand) => () =>
      window?.webContents.send(IPC.stream, JSON.stringify({ type: 'command', command: name }));
    Menu.setApplicationMenu(
      Menu.buildFromTemplate([
        { role: 'appMenu' as const, visible: process.platform === 'darwin' },
        {
          label: 'File',
          submenu: [
            { label: 'Export Snapshot…', accelerator: 'CmdOrCtrl+E', click: command('export') },
            { label: 'Open Snapshot or Recording…', accelerator: 'CmdOrCtrl+O', click: command('import') },
            { label: 'Start/Stop Recording', accelerator: 'CmdOrCtrl+Alt+R', click: command('record') },
            { label: 'Port Doctor', accelerator: 'CmdOrCtrl+D', click: command('doctor') },
            { label: 'Show All Owners…', click: command('showAllOwners') },
            { type: 'separator' },
            { role: 'quit' },
          ],
        },
        { role: 'editMenu' },
        { role: 'viewMenu' },
        { role: 'windowMenu' },
      ]),
    );
    const poller = new Poller({ intervalMs: VISIBLE_INTERVAL_MS });
    // The flight recorder, on by default as in `porthole serve`; PORTHOLE_HISTORY names another
    // file, or "off". (Its state is said on stderr; the status bar does not show it yet.)
    const historyPath = process.env.PORTHOLE_HISTORY;
    const recording = new RecordingControl(
      poller,
      historyPath === 'off' ? null : historyPath || defaultHistoryPath(),
      (line) => console.error(line),
    );
    // The UI's setting (on or off) is remembered between runs; on unless turned off.
    if (recordingWanted()) void recording.start(); // said, and shown, when it cannot record
    recording.onStatus((status) => {
      if (status.state === 'off' || status.state === 'recording') rememberRecording(status.state === 'recording');
    });
    window = createWindow(poller, recording);
    // The tray: the number of listening ports and the busiest, read from the table every few seconds.
    const tray = new Tray(join(app.getAppPath(), 'resources/icons/32x32.png'));
    const show = () => {
      if (window?.isMinimized()) window.restore();
      window?.show();
      window?.focus();
    };
    tray.on('click', show);
    const drawTray = async () => {
      // Worked out where the table is: this thread gets a few hundred bytes, not the table.
      const model = JSON.parse(await poller.tray()) as TrayModel;
      tray.setToolTip(model.tooltip);
      tray.setContextMenu(
        Menu.buildFromTemplate([
          { label: model.tooltip, enabled: false },
          { type: 'separator' },
          ...model.items.map((item) => ({ label: item.label, click: show })),
          { type: 'separator' },
          { label: 'Show Porthole', click: show },
          { role: 'quit' as const },
        ]),
      );
    };
    const trayTimer = setInterval(() => void drawTray().catch(() => undefined), TRAY_EVERY_MS);
    app.on('before-quit', () => clearInterval(trayTimer));
    app.on('window-all-closed', () => app.quit());
    // Every way out (last window closed, the Quit menu item) stops the poller first: its worker
    // removes Porthole's tracefs instance, which an exiting process would leave behind.
    let pollerStopped = false;
    app.on('will-quit', (event) => {
      if (pollerStopped) return;
      event.preventDefault();
      void Promise.all([recording?.stop(), poller.stop()]).finally(() => {
        pollerStopped = true;
        app.quit();
      });
    });
  });
}
