"""``mnistkit completion bash|zsh|tcsh``: the shell completion script, made by shtab from the parser itself.

shtab reads the argparse parser once and writes a static script, so the
shell never runs Python to complete and nothing hooks into mnistkit at run
time; the script is only as fresh as the mnistkit that printed it.
"""

from __future__ import annotations

import argparse

from mnistkit.errors import ConfigError

SHELLS = ("bash", "zsh", "tcsh")

INSTALL = {
    "bash": 'eval "$(mnistkit completion bash)"  # in ~/.bashrc',
    "zsh": 'eval "$(mnistkit completion zsh)"  # in ~/.zshrc, after compinit',
    "tcsh": "mnistkit completion tcsh > ~/.mnistkit.tcsh && echo 'source ~/.mnistkit.tcsh' >> ~/.tcshrc",
}
"""The one line that installs each shell's completion (README: The command line)."""


def add_to(commands) -> None:
    completion = commands.add_parser("completion", help="print the shell completion script (bash, zsh or tcsh)",
                                     description="Print the completion script for a shell. Install it with one line: "
                                                 + "; ".join(f"{shell}: {line}" for shell, line in INSTALL.items()))
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    completion.set_defaults(handler=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> int:
    print(completion_script(args.shell), end="")
    return 0


def completion_script(shell: str) -> str:
    """The completion script for ``shell``, naming every command and option of ``mnistkit``."""
    try:
        import shtab
    except ImportError:
        raise ConfigError("`mnistkit completion` needs shtab, which is not installed here: pip install 'shtab>=1.7'") from None

    from mnistkit.cli import build_parser

    script = shtab.complete(build_parser(), shell=shell)
    return script if script.endswith("\n") else script + "\n"
