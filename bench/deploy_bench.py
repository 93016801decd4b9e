#!/usr/bin/env python
"""Boot a lab topology, deploy playbooks/site.yml, deploy it again: print the times.

The second run must change nothing; its changed count is printed next to the
time. Prints figures only (no thresholds): copy them into notes and compare.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB = [sys.executable, str(REPO / "tools" / "lab" / "lab")]
BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-5000:] + result.stderr[-3000:])
        raise SystemExit(f"failed ({result.returncode}): {' '.join(cmd)}")
    return elapsed, result.stdout


def changed(recap: str) -> int:
    return sum(int(n) for n in re.findall(r"\bchanged=(\d+)", recap))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--topology", default="ha")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    args = parser.parse_args()

    boot = timed([*LAB, "up", "--topology", args.topology])[0]
    inventory = subprocess.run([*LAB, "inventory"], capture_output=True, text=True, check=True).stdout.strip()
    vault = json.loads(subprocess.run([*LAB, "vault-env", "--json"], capture_output=True, text=True, check=True).stdout)
    env = {**os.environ, **vault, "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".cache" / "collections"),
           "ANSIBLE_HOST_KEY_CHECKING": "false", "ANSIBLE_PIPELINING": "true", "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s"}
    playbook = [str(BIN / "ansible-playbook"), "-i", inventory, str(REPO / "playbooks" / "site.yml")]
    first, first_out = timed(playbook, env)
    second, second_out = timed(playbook, env)
    print(f"{'step':<28}{'seconds':>9}{'changed':>9}")
    print(f"{'lab up --topology ' + args.topology:<28}{boot:>9.1f}{'':>9}")
    print(f"{'site.yml, first run':<28}{first:>9.1f}{changed(first_out):>9}")
    print(f"{'site.yml, second run':<28}{second:>9.1f}{changed(second_out):>9}")
    if not args.keep:
        subprocess.run([*LAB, "down"], check=True, capture_output=True)
    return 0 if changed(second_out) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
