// `porthole completion bash|zsh|fish`: a completion script for the shell, made from the verbs'
// own declarations (their names, summaries and options), so it never lists what a verb does not take.

import { UsageError } from './args';
import { defineVerb, EXIT_OK, type OptionSpecs, type Verb } from './io';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

interface VerbWords {
  name: string;
  summary: string;
  options: string[];
}

/** Quoted for a POSIX shell's single quotes. */
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function completionScript(shell: Shell, verbs: readonly VerbWords[]): string {
  const names = verbs.map((v) => v.name);
  if (shell === 'bash')
    return `# porthole completion for bash: eval "$(porthole completion bash)" in ~/.bashrc
_porthole() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" verb="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${quote([...names, 'help', '--help', '--version'].join(' '))} -- "$cur"))
    return
  fi
  case "$verb" in
${verbs.map((v) => `    ${v.name}) COMPREPLY=($(compgen -W ${quote([...v.options, '--help'].join(' '))} -- "$cur")) ;;`).join('\n')}
    help) COMPREPLY=($(compgen -W ${quote(names.join(' '))} -- "$cur")) ;;
  esac
}
complete -o default -F _porthole porthole
`;
  if (shell === 'zsh')
    return `#compdef porthole
# porthole completion for zsh: eval "$(porthole completion zsh)" in ~/.zshrc
_porthole() {
  local -a verbs
  verbs=(
${verbs.map((v) => `    ${quote(`${v.name}:${v.summary.replace(/:/g, '\\:')}`)}`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'verb' verbs
    return
  fi
  case "$words[2]" in
${verbs.map((v) => `    ${v.name}) _arguments ${[...v.options, '--help'].map((o) => quote(`${o}[]`)).join(' ')} '*:file:_files' ;;`).join('\n')}
  esac
}
compdef _porthole porthole
`;
  return `# porthole completion for fish: porthole completion fish > ~/.config/fish/completions/porthole.fish
complete -c porthole -f
${verbs.map((v) => `complete -c porthole -n '__fish_use_subcommand' -a ${v.name} -d ${quote(v.summary)}`).join('\n')}
${verbs
  .flatMap((v) =>
    v.options.map((o) => `complete -c porthole -n '__fish_seen_subcommand_from ${v.name}' -l ${o.slice(2)}`),
  )
  .join('\n')}
`;
}

/** The completion verb; it reads the other verbs' declarations, which the dispatcher hands it. */
export function completionVerb(verbs: () => readonly Verb[]) {
  return defineVerb({
    name: 'completion',
    arguments: 'bash|zsh|fish',
    summary: 'A completion script for your shell',
    description: `Prints a completion script for bash, zsh or fish: eval "$(porthole completion bash)" in
~/.bashrc, the same with zsh in ~/.zshrc, or porthole completion fish >
~/.config/fish/completions/porthole.fish.`,
    options: {},
    async run({ positionals }, io) {
      const shell = positionals[0];
      if (positionals.length !== 1 || !(SHELLS as readonly string[]).includes(shell))
        throw new UsageError(`completion takes one shell: ${SHELLS.join(', ')}.`);
      const words = verbs().map((v) => ({
        name: v.name,
        summary: v.summary,
        options: Object.keys(v.options as OptionSpecs).map((o) => `--${o}`),
      }));
      io.stdout(completionScript(shell as Shell, words));
      return EXIT_OK;
    },
  });
}
