"""`lockstep completion bash|zsh`: a shell completion script, generated from the parser so it never goes stale."""

from __future__ import annotations

import argparse
from typing import Any

_BASH = """# lockstep completion for {shell}; install: lockstep completion {shell} > ~/.lockstep-completion && \\
#   echo 'source ~/.lockstep-completion' >> ~/.{shell}rc
{preamble}_lockstep() {{
  local cur path word i
  cur="${{COMP_WORDS[COMP_CWORD]}}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${{COMP_WORDS[i]}}"
    case "$word" in -*) ;; *) case " $(_lockstep_subs "$path") " in *" $word "*) path="$path $word" ;; esac ;; esac
  done
  local prev="${{COMP_WORDS[COMP_CWORD-1]}}"
  local choices
  choices="$(_lockstep_choices "$path" "$prev")"
  if [[ -n "$choices" ]]; then
    COMPREPLY=($(compgen -W "$choices" -- "$cur"))
  elif [[ "$prev" == --root || "$prev" == --output || "$prev" == --*-dir ]]; then
    COMPREPLY=($(compgen -d -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_lockstep_subs "$path") $(_lockstep_opts "$path")" -- "$cur"))
  fi
}}
_lockstep_subs() {{
  case "$1" in
{subs}
  esac
}}
_lockstep_opts() {{
  case "$1" in
{opts}
  esac
}}
_lockstep_choices() {{
  case "$1|$2" in
{choices}
  esac
}}
complete -F _lockstep lockstep
"""


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """Return the completion script for bash (zsh runs the same one through bashcompinit)."""
    subs: list[str] = []
    opts: list[str] = []
    choices: list[str] = []
    _walk(parser, "", subs, opts, choices)
    preamble = "autoload -U +X bashcompinit && bashcompinit\n" if shell == "zsh" else ""
    return _BASH.format(shell=shell, preamble=preamble, subs="\n".join(subs), opts="\n".join(opts),
                        choices="\n".join(choices))


def _walk(parser: argparse.ArgumentParser, path: str, subs: list[str], opts: list[str], choices: list[str]) -> None:
    children: dict[str, argparse.ArgumentParser] = {}
    flags: list[str] = []
    for action in parser._actions:  # argparse has no public walk of its tree
        if isinstance(action, argparse._SubParsersAction):
            children.update(action.choices)
        elif action.help != argparse.SUPPRESS:
            flags.extend(action.option_strings)
            if action.option_strings and action.choices:
                for flag in action.option_strings:
                    choices.append(f'    "{path}|{flag}") echo "{" ".join(map(str, action.choices))}" ;;')
    subs.append(f'    "{path}") echo "{" ".join(children)}" ;;')
    opts.append(f'    "{path}") echo "{" ".join(flags)}" ;;')
    for name, child in children.items():
        _walk(child, f"{path} {name}", subs, opts, choices)


def cmd_completion(args: argparse.Namespace) -> int:
    """Print the completion script for the chosen shell."""
    from infra.cli import build_parser

    print(script(build_parser(), args.shell), end="")
    return 0


def register(subparsers: Any) -> None:
    """Add the `completion` subcommand."""
    p = subparsers.add_parser("completion", help="print a shell completion script (bash or zsh)",
                              description="Print a completion script: `source <(lockstep completion bash)`.")
    p.add_argument("shell", choices=("bash", "zsh"), help="the shell to complete in")
    p.set_defaults(func=cmd_completion)
