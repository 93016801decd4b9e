"""The lab bridge and the guard rules that keep lab traffic on it."""
from __future__ import annotations

from .config import LabConfig
from .system import run


def guard_rules(config: LabConfig) -> list[list[str]]:
    """iptables rules of the guard chain, in order.

    Traffic between machines on the bridge passes (it crosses FORWARD when
    br_netfilter is active); anything that would be routed off the bridge, in
    either direction, is dropped, so a machine's default route via the host
    leads nowhere.
    """
    br = config.bridge
    return [
        ["-i", br, "-o", br, "-j", "ACCEPT"],
        ["-i", br, "-j", "DROP"],
        ["-o", br, "-j", "DROP"],
    ]


def up(config: LabConfig) -> None:
    br = config.bridge
    if run(["ip", "link", "show", br], check=False).returncode != 0:
        run(["ip", "link", "add", br, "type", "bridge"])
    run(["ip", "addr", "replace", f"{config.gateway}/{config.subnet.prefixlen}", "dev", br])
    run(["ip", "link", "set", br, "up"])
    # The chain is rebuilt from scratch so a second `up` leaves exactly one copy.
    if run(["iptables", "-w", "-n", "-L", config.guard_chain], check=False).returncode != 0:
        run(["iptables", "-w", "-N", config.guard_chain])
    run(["iptables", "-w", "-F", config.guard_chain])
    for rule in guard_rules(config):
        run(["iptables", "-w", "-A", config.guard_chain, *rule])
    if run(["iptables", "-w", "-C", "FORWARD", "-j", config.guard_chain], check=False).returncode != 0:
        run(["iptables", "-w", "-I", "FORWARD", "1", "-j", config.guard_chain])


def down(config: LabConfig) -> None:
    while run(["iptables", "-w", "-C", "FORWARD", "-j", config.guard_chain], check=False).returncode == 0:
        run(["iptables", "-w", "-D", "FORWARD", "-j", config.guard_chain])
    if run(["iptables", "-w", "-n", "-L", config.guard_chain], check=False).returncode == 0:
        run(["iptables", "-w", "-F", config.guard_chain])
        run(["iptables", "-w", "-X", config.guard_chain])
    if run(["ip", "link", "show", config.bridge], check=False).returncode == 0:
        run(["ip", "link", "del", config.bridge])


def leftovers(config: LabConfig) -> list[str]:
    found = []
    if run(["ip", "link", "show", config.bridge], check=False).returncode == 0:
        found.append(f"bridge {config.bridge}")
    if run(["iptables", "-w", "-n", "-L", config.guard_chain], check=False).returncode == 0:
        found.append(f"iptables chain {config.guard_chain}")
    return found
