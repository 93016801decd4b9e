"""``lab``: bring the lab up and down, look at it, and get into its machines."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from . import artifacts, image, inventory, machines, network, services, state, topology
from .config import LabConfig, LabError
from .system import alive, require_root, run


def _ensure_ssh_key(config: LabConfig) -> str:
    key = config.ssh_key
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hardway-lab", "-f", str(key)])
    return key.with_suffix(".pub").read_text()


def _running(config: LabConfig) -> dict:
    current = state.load(config)
    if not current:
        raise LabError("the lab is not up; start it with `lab up --topology minimal` (or ha)")
    return current


def cmd_up(config: LabConfig, args) -> int:
    require_root()
    topo = topology.load(args.topology, config)
    current = state.load(config)
    running = [name for name, pid in current.get("machines", {}).items() if alive(pid)]
    if current and running:
        if current["topology"] == topo.to_dict() and len(running) == len(topo.machines):
            print(f"lab already up with topology {topo.name}")
            return 0
        raise LabError(f"a lab with topology {current['topology']['name']!r} is already up; run `lab down` first")
    if current or leftovers(config):
        # Whatever a killed session left behind (no machine runs any more) is cleared first.
        print("clearing what an earlier lab left behind")
        cmd_down(config, args)
    started = time.monotonic()
    if not args.no_build:
        artifacts.build_all(config)
    base = image.ensure(config)
    public_key = _ensure_ssh_key(config)
    lab = {"topology": topo.to_dict(), "machines": {}, "services": {}}
    state.save(config, lab)  # saved before anything starts, so `lab down` can always clean up
    network.up(config)
    for name in services.NAMES:
        lab["services"][name] = services.start(config, name)
        state.save(config, lab)
        services.wait_ready(config, name, lab["services"][name])
    for machine in topo.machines:
        root = machines.prepare_root(config, topo, machine, base, public_key)
        lab["machines"][machine.name] = machines.boot(config, machine, root)
        state.save(config, lab)
    machines.wait_for_ssh(config, list(topo.machines))
    config.inventory_file.parent.mkdir(parents=True, exist_ok=True)
    config.inventory_file.write_text(inventory.render(config, topo))
    print(f"lab up: {len(topo.machines)} machines of topology {topo.name} in {time.monotonic() - started:.1f}s")
    print(f"inventory: {config.inventory_file}")
    return 0


def cmd_down(config: LabConfig, args) -> int:
    require_root()
    current = state.load(config)
    names = set(current.get("machines", {}))
    if config.machines_dir.exists():
        names |= {p.name for p in config.machines_dir.iterdir()}
    for name, pid in current.get("machines", {}).items():
        if alive(pid):
            os.kill(pid, 15)
    for name in sorted(names):
        machines.stop(config, name, current.get("machines", {}).get(name))
        machines.release_root(config, name)
    for name, pid in current.get("services", {}).items():
        services.stop(pid)
    # A process whose PID never made it into the state file (a crash mid-way) is found by its command line.
    for pid, _command in _lab_processes(config):
        services.stop(pid)
    network.down(config)
    # A lab's Vault lives and dies with the lab: the next one starts from an empty Vault.
    shutil.rmtree(config.vault_dir, ignore_errors=True)
    # The admin credential belongs to that Vault's cluster: it goes with it.
    shutil.rmtree(config.admin_kubeconfig.parent, ignore_errors=True)
    state.clear(config)
    config.inventory_file.unlink(missing_ok=True)
    left = leftovers(config)
    if left:
        raise LabError("lab down left these behind: " + "; ".join(left))
    print("lab down: nothing left behind")
    return 0


def leftovers(config: LabConfig) -> list[str]:
    found = network.leftovers(config)
    found += [f"cgroup {p}" for p in machines.leftover_cgroups(config)]
    found += [f"mount {m}" for m in machines.leftover_mounts(config)]
    found += [f"process {pid} ({cmd})" for pid, cmd in _lab_processes(config)]
    return found


def _lab_processes(config: LabConfig) -> list[tuple[int, str]]:
    """Processes that still run something of this lab's (nspawn on a lab root, a lab service).

    The mirror serves the shared cache, so it is recognised by the address it binds, which is this lab's own.
    """
    markers = (str(config.state_dir) + "/", f"--bind {config.gateway} ")
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{entry}/stat") as handle:
                if handle.read().split(") ", 1)[1].startswith("Z"):
                    continue
        except OSError:
            continue
        if any(marker in cmdline for marker in markers):
            found.append((int(entry), cmdline[:120]))
    return found


def cmd_status(config: LabConfig, args) -> int:
    current = state.load(config)
    if not current:
        print("lab is down")
        return 1
    topo = topology.Topology.from_dict(current["topology"])
    print(f"topology {topo.name}")
    for machine in topo.machines:
        up = "running" if alive(current["machines"].get(machine.name)) else "stopped"
        print(f"  {machine.name:<16} {machine.address:<15} {up:<8} {','.join(machine.groups)}")
    for name, pid in current["services"].items():
        up = "running" if alive(pid) else "stopped"
        print(f"  service {name:<8} {services.port(config, name):<6} {up}")
    return 0


def cmd_inventory(config: LabConfig, args) -> int:
    _running(config)
    print(config.inventory_file)
    return 0


def cmd_kubeconfig(config: LabConfig, args) -> int:
    _running(config)
    if not config.admin_kubeconfig.exists():
        print(f"no admin kubeconfig yet: run playbooks/site.yml on the lab (it writes {config.admin_kubeconfig})",
              file=sys.stderr)
        return 1
    print(config.admin_kubeconfig)
    return 0


def cmd_ssh(config: LabConfig, args) -> int:
    current = _running(config)
    machine = topology.Topology.from_dict(current["topology"]).machine(args.host)
    os.execvp("ssh", ["ssh", *machines.ssh_args(config), f"root@{machine.address}", *args.command])
    return 0  # not reached


def cmd_stop(config: LabConfig, args) -> int:
    require_root()
    current = _running(config)
    topology.Topology.from_dict(current["topology"]).machine(args.host)
    machines.stop(config, args.host, current["machines"].get(args.host))
    current["machines"][args.host] = None
    state.save(config, current)
    print(f"{args.host} stopped")
    return 0


def cmd_start(config: LabConfig, args) -> int:
    require_root()
    current = _running(config)
    topo = topology.Topology.from_dict(current["topology"])
    machine = topo.machine(args.host)
    if alive(current["machines"].get(args.host)):
        print(f"{args.host} already running")
        return 0
    current["machines"][args.host] = machines.boot(config, machine, machines.machine_dir(config, args.host) / "root")
    state.save(config, current)
    machines.wait_for_ssh(config, [machine])
    print(f"{args.host} started")
    return 0


def cmd_service(config: LabConfig, args) -> int:
    require_root()
    current = _running(config)
    pid = current["services"].get(args.name)
    if args.action == "stop":
        services.stop(pid)
        current["services"][args.name] = None
    elif not alive(pid):
        current["services"][args.name] = services.start(config, args.name)
        state.save(config, current)
        services.wait_ready(config, args.name, current["services"][args.name])
    state.save(config, current)
    print(f"service {args.name}: {args.action} done")
    return 0


def cmd_vault_env(config: LabConfig, args) -> int:
    _running(config)
    env = services.vault_env(config)
    if args.json:
        print(json.dumps(env))
    else:
        for key, value in env.items():
            print(f"export {key}={value}")
    return 0


def cmd_build(config: LabConfig, args) -> int:
    started = time.monotonic()
    versions = artifacts.build_all(config, force=args.force)
    print(f"mirror ready ({', '.join(f'{k} {v}' for k, v in versions.items())}) in {time.monotonic() - started:.0f}s: "
          f"{config.mirror_dir}")
    return 0


def cmd_image(config: LabConfig, args) -> int:
    require_root()
    print(image.ensure(config))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="lab", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build what is missing, then boot a topology")
    up.add_argument("--topology", default="minimal", help="minimal, ha, or a JSON topology file")
    up.add_argument("--no-build", action="store_true", help="do not build missing binaries for the mirror")
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop everything and remove what the lab made").set_defaults(func=cmd_down)
    sub.add_parser("status", help="machines and services of the running lab").set_defaults(func=cmd_status)
    sub.add_parser("inventory", help="print the path of the lab's Ansible inventory").set_defaults(func=cmd_inventory)
    sub.add_parser("kubeconfig", help="print the path of the admin kubeconfig site.yml wrote").set_defaults(func=cmd_kubeconfig)
    ssh = sub.add_parser("ssh", help="open a shell (or run a command) on a machine")
    ssh.add_argument("host")
    ssh.add_argument("command", nargs=argparse.REMAINDER)
    ssh.set_defaults(func=cmd_ssh)
    for name, func, text in (("stop", cmd_stop, "power one machine off (its disk is kept)"),
                             ("start", cmd_start, "boot a stopped machine again")):
        action = sub.add_parser(name, help=text)
        action.add_argument("host")
        action.set_defaults(func=func)
    service = sub.add_parser("service", help="stop or start one lab service (fault tests)")
    service.add_argument("action", choices=("stop", "start"))
    service.add_argument("name", choices=services.NAMES)
    service.set_defaults(func=cmd_service)
    vault_env = sub.add_parser("vault-env", help="print VAULT_ADDR, VAULT_CACERT and VAULT_TOKEN exports")
    vault_env.add_argument("--json", action="store_true", help="one JSON object instead of shell exports")
    vault_env.set_defaults(func=cmd_vault_env)
    build = sub.add_parser("build", help="build the Kubernetes and etcd binaries into the mirror")
    build.add_argument("--force", action="store_true", help="rebuild even when the mirror has them")
    build.set_defaults(func=cmd_build)
    sub.add_parser("image", help="build the base image if missing and print its path").set_defaults(func=cmd_image)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = LabConfig.from_env()
        return args.func(config, args)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 2
