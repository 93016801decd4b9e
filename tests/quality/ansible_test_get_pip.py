# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates its sanity virtual environments without pip and then
runs a get-pip.py script, which it downloads from a host of its own (not a
package index) and caches as ~/.ansible/test/cache/get_pip_<version>.py. On
machines that reach only the package indexes that download fails, so
tests/quality/sanity.sh puts this file at that path inside a private HOME.

It does what get-pip.py does, from the standard library plus the package
index: install the bundled pip with ensurepip, then `pip install --upgrade
--force-reinstall` the requested packages (ansible-test asks for its pinned
pip version). The --no-setuptools/--no-wheel flags that get-pip.py
understands are honoured by not asking for those packages.
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY_FLAGS = ("--no-setuptools", "--no-wheel")


def main(argv: list[str]) -> int:
    args = [arg for arg in argv if arg not in GET_PIP_ONLY_FLAGS]
    # In a child process: ensurepip clears pip's settings (PIP_CONFIG_FILE,
    # PIP_* variables) in its own environment, and the install below needs
    # them (index, certificates).
    bootstrap = subprocess.call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    if bootstrap != 0:
        return bootstrap
    command = [sys.executable, "-m", "pip", "install", "--upgrade", "--force-reinstall", *args]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
