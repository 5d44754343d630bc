// The `porthole` command line: commander reads the arguments (each verb's options, its --help,
// --version, "did you mean" for a misspelt verb or option); one file per verb does the work (as
// git's builtin/). A verb only moves bytes and words; the engine, the Port Doctor and the actions
// do the rest.

import * as commanderModule from 'commander';
import type { Command as CommandType } from 'commander';
import { ExportError, ExportRefused, HistoryUnavailable, ImportError } from '../export/errors';
import { printable } from '../shared/printable';
import { UsageError } from './args';
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  packageVersion,
  type CliIo,
  type OptionSpecs,
  type OptionValues,
  type Verb,
} from './io';

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io';

/**
 * Each verb's module, loaded when asked for: `porthole who 3000` loads the Port Doctor, not the web
 * server, the exporter's password hashing or the charts of `serve` (a verb's start is most of a
 * short command's time). In the order the help lists them.
 */
const VERB_MODULES: Record<string, () => Promise<Verb>> = {
  snapshot: () => import('./snapshot').then((m) => m.snapshot as Verb),
  who: () => import('./who').then((m) => m.who as Verb),
  kill: () => import('./kill').then((m) => m.kill as Verb),
  close: () => import('./close').then((m) => m.close as Verb),
  wait: () => import('./wait').then((m) => m.wait as Verb),
  diff: () => import('./diff').then((m) => m.diff as Verb),
  watch: () => import('./watch').then((m) => m.watch as Verb),
  history: () => import('./history').then((m) => m.history as Verb),
  record: () => import('./record').then((m) => m.record as Verb),
  serve: () => import('./serve').then((m) => m.serve as Verb),
  exporter: () => import('./exporter').then((m) => m.exporter as Verb),
  // Made from every verb's declarations: it is given them all.
  completion: () => import('./completion').then((m) => m.completionVerb(() => loaded) as Verb),
};
const VERB_NAMES = Object.keys(VERB_MODULES);
let loaded: Verb[] = [];

/**
 * The verbs a command line needs: the one it names, or all of them (for the help, a suggestion,
 * or the completion scripts).
 */
async function verbsFor(argv: string[]): Promise<Verb[]> {
  const named = argv.length === 0 ? 'snapshot' : argv[0];
  const names = VERB_NAMES.includes(named) && named !== 'completion' ? [named] : VERB_NAMES;
  return (loaded = await Promise.all(names.map((name) => VERB_MODULES[name]())));
}

const ABOUT = `Which process listens where, what is connected to it, and every state change.
Run "porthole VERB --help" for a verb's options.`;

type Commander = typeof import('commander');

/** Collects a repeated option's values (`--source a=… --source b=…`). */
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The commander command of one verb; its action runs the verb and records its exit code. */
function command(
  { Command, Option }: Commander,
  verb: Verb,
  io: CliIo,
  done: (code: Promise<number>) => void,
): CommandType {
  const cmd = new Command(verb.name)
    .summary(verb.summary)
    // One paragraph: the help wraps it to the terminal's width.
    .description(verb.description.replace(/\s*\n\s*/g, ' '))
    .usage(`${verb.arguments ? `${verb.arguments} ` : ''}[options]`)
    .helpOption('-h, --help', 'Print this help');
  if (verb.arguments) cmd.argument('[arguments...]');
  // Commander's attribute → the long names it stands for (`--history P` and `--no-history` share one).
  const names = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(verb.options as OptionSpecs)) {
    const option = new Option(
      spec.type === 'boolean' ? `--${name}` : `--${name} <${spec.value ?? 'value'}>`,
      spec.description,
    );
    if (spec.multiple) option.argParser(collect);
    cmd.addOption(option);
    names.set(option.attributeName(), [...(names.get(option.attributeName()) ?? []), name]);
  }
  cmd.action((...args: unknown[]) => {
    const self = args.at(-1) as CommandType;
    // The values by their long names (`event-buffer-kb`), as the verbs and their help name them.
    const values: Record<string, string | boolean | string[] | undefined> = {};
    // A `--no-X` option is true when given; its positive twin then reads as not given.
    for (const [attribute, value] of Object.entries(self.opts()))
      for (const name of names.get(attribute) ?? [attribute])
        if (name.startsWith('no-') && names.get(attribute)!.length > 1)
          values[name] = value === false ? true : undefined;
        else values[name] = value === false && (names.get(attribute)?.length ?? 0) > 1 ? undefined : value;
    // Each value has its spec's type: commander parsed it from that spec.
    done(verb.run({ values: values as OptionValues<OptionSpecs>, positionals: self.args }, io));
  });
  return cmd;
}

/** A commander error as one line: what, and what to do ("did you mean" on the same line). */
function oneLine(error: { message: string }, verb: string | undefined): string {
  const text = error.message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.+)\?\)/, ' (did you mean $1?)')
    .replace(/\s*\n\s*/g, ' ');
  const help = verb ? `porthole ${verb} --help` : 'porthole --help';
  return `porthole: ${printable(text)}; see "${help}".\n`;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  // The version needs no verb loaded.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  let running: Promise<number> | null = null;
  // Imported at the top, not with import(): a dynamic import of a package goes through Node's ESM
  // loader, ~10 ms of a short command's start.
  const commander: Commander = commanderModule;
  const { Command, CommanderError } = commander;
  const VERBS = await verbsFor(argv);
  const program = new Command('porthole')
    .description(ABOUT)
    .usage('VERB [options]')
    .version(packageVersion(), '-V, --version', 'Print the version')
    .helpOption('-h, --help', 'Print this help')
    .helpCommand('help [verb]', "Print a verb's help")
    .showSuggestionAfterError(true)
    // A verb in the list as its usage names it: `who PORT[/tcp|/udp]`.
    .configureHelp({
      subcommandTerm: (cmd) => {
        const verb = VERBS.find((v) => v.name === cmd.name());
        return verb?.arguments ? `${verb.name} ${verb.arguments}` : cmd.name();
      },
    })
    .exitOverride()
    // Errors are said in one line below; help and the version go to stdout.
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} });
  for (const verb of VERBS) program.addCommand(command(commander, verb, io, (code) => (running = code)));
  // Errors inside a verb's command go through the program's handling too.
  for (const cmd of program.commands)
    cmd.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} });
  const verb = VERB_NAMES.includes(argv[0]) ? argv[0] : undefined;
  try {
    // `porthole` alone answers the first question, as `porthole snapshot` does.
    await program.parseAsync(argv.length === 0 ? ['snapshot'] : argv, { from: 'user' });
    return running === null ? EXIT_OK : await running;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) return EXIT_OK;
      io.stderr(oneLine(error, verb));
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      const who = verb ? `porthole ${verb}` : 'porthole';
      io.stderr(`${who}: ${error.message} See "${who} --help".\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ImportError || error instanceof ExportRefused) {
      io.stderr(`${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ExportError) {
      io.stderr(`${error.message}\n`);
      return EXIT_FAILURE;
    }
    if (error instanceof HistoryUnavailable) {
      io.stderr(`porthole ${verb ?? ''}: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}
