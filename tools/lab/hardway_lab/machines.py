"""Booting and stopping machines: overlay roots, cgroups and systemd-nspawn."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .config import LabConfig, LabError
from .system import alive, run
from .topology import Machine, Topology

CGROUP_ROOT = Path("/sys/fs/cgroup")


def machine_dir(config: LabConfig, name: str) -> Path:
    return config.machines_dir / name


def nspawn_command(config: LabConfig, machine: Machine, root: Path) -> list[str]:
    cmd = [
        "systemd-nspawn", "--register=no", "--keep-unit", "--boot",
        f"--directory={root}", f"--machine={machine.name}", f"--hostname={machine.name}",
        f"--network-bridge={config.bridge}", "--resolv-conf=off", "--link-journal=no",
        "--timezone=off", "--console=read-only",
    ]
    if machine.is_node:
        # Containers inside the machine need these (see DESIGN.md, "Containers inside a machine").
        containerd = machine_dir(config, machine.name) / "containerd"
        cmd += [
            "--capability=all", "--system-call-filter=@keyring bpf", "--bind-ro=/dev/kmsg",
            f"--bind={containerd}:/var/lib/containerd",
        ]
    return cmd


def hosts_file(topology: Topology) -> str:
    lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
    lines += [f"{m.address} {m.name}" for m in topology.machines]
    return "\n".join(lines) + "\n"


def network_file(config: LabConfig, machine: Machine) -> str:
    # A Gateway is required: without a default route ansible_default_ipv4 is empty.
    return (
        "[Match]\nName=host0\n\n[Network]\n"
        f"Address={machine.address}/{config.subnet.prefixlen}\nGateway={config.gateway}\n"
        "LinkLocalAddressing=no\nIPv6AcceptRA=no\n"
    )


def _cgroup_hierarchies() -> list[tuple[Path, str]]:
    """(mount point, our own path inside it) for every cgroup v1 hierarchy."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        controllers, path = line.split(":", 2)[1:]
        if controllers:
            own[controllers] = path
    result = []
    for mount in sorted(CGROUP_ROOT.iterdir()):
        if not mount.is_dir() or mount.is_symlink() or not (mount / "cgroup.procs").exists():
            continue
        key = "name=systemd" if mount.name == "systemd" else mount.name
        match = next((path for ctrls, path in own.items() if key in ctrls.split(",")), None)
        if match is not None:
            result.append((mount, match))
    return result


def cgroup_dirs(config: LabConfig, name: str) -> list[Path]:
    return [mount / path.lstrip("/") / f"{config.cgroup_prefix}{name}" for mount, path in _cgroup_hierarchies()]


def make_cgroups(config: LabConfig, name: str) -> list[Path]:
    """One cgroup per v1 hierarchy for the machine, under the lab's own (so its limits still apply)."""
    dirs = cgroup_dirs(config, name)
    for directory in dirs:
        directory.mkdir(exist_ok=True)
        # A v1 cpuset cgroup accepts no task until it has CPUs and memory nodes.
        for knob in ("cpuset.cpus", "cpuset.mems"):
            if (directory / knob).exists() and not (directory / knob).read_text().strip():
                (directory / knob).write_text((directory.parent / knob).read_text())
    return dirs


def _enter_cgroups(dirs: list[Path]):
    def preexec() -> None:
        os.setsid()
        for directory in dirs:
            with open(directory / "cgroup.procs", "w") as procs:
                procs.write(str(os.getpid()))
    return preexec


def prepare_root(config: LabConfig, topology: Topology, machine: Machine, image: Path, public_key: str) -> Path:
    base = machine_dir(config, machine.name)
    upper, work, root = base / "upper", base / "work", base / "root"
    for directory in (upper, work, root):
        directory.mkdir(parents=True, exist_ok=True)
    if machine.is_node:
        (base / "containerd").mkdir(exist_ok=True)
    if not os.path.ismount(root):
        run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={image},upperdir={upper},workdir={work}", str(root)])
    (root / "etc" / "hostname").write_text(machine.name + "\n")
    machine_id = root / "etc" / "machine-id"
    if not machine_id.read_text().strip():
        machine_id.write_text(secrets.token_hex(16) + "\n")
    (root / "etc" / "hosts").write_text(hosts_file(topology))
    (root / "etc" / "systemd" / "network" / "10-lab.network").write_text(network_file(config, machine))
    (root / "etc" / "apt" / "apt.conf.d" / "01lab-proxy").write_text(f'Acquire::http::Proxy "{config.apt_proxy_url}";\n')
    ssh = root / "root" / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    (ssh / "authorized_keys").write_text(public_key)
    host_key = root / "etc" / "ssh" / "ssh_host_ed25519_key"
    if not host_key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", machine.name, "-f", str(host_key)])
    return root


def boot(config: LabConfig, machine: Machine, root: Path) -> int:
    log = config.logs_dir / f"{machine.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            nspawn_command(config, machine, root), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=_enter_cgroups(make_cgroups(config, machine.name)), close_fds=True,
        )
    return process.pid


def stop(config: LabConfig, name: str, pid: int | None, timeout: float = 30.0) -> None:
    """Power a machine off (SIGTERM to nspawn), kill what is left, then release its cgroups."""
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    for directory in cgroup_dirs(config, name):
        _kill_cgroup(directory)


def _kill_cgroup(directory: Path) -> None:
    if not directory.exists():
        return
    for _attempt in range(50):
        pids = _cgroup_pids(directory)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    # Children first: systemd inside the machine makes its own sub-cgroups.
    for sub in sorted((p for p in directory.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        _rmdir(sub)
    _rmdir(directory)


def _cgroup_pids(directory: Path) -> list[int]:
    pids = []
    for procs in directory.rglob("cgroup.procs"):
        try:
            pids += [int(p) for p in procs.read_text().split()]
        except OSError:
            pass
    return pids


def _rmdir(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass


def release_root(config: LabConfig, name: str) -> None:
    base = machine_dir(config, name)
    root = base / "root"
    if os.path.ismount(root):
        # Lazy unmount: a process that is still exiting must not keep the lab from going down.
        run(["umount", "--lazy", str(root)])
    if base.exists():
        shutil.rmtree(base)


def leftover_cgroups(config: LabConfig) -> list[Path]:
    found = []
    for mount, path in _cgroup_hierarchies():
        parent = mount / path.lstrip("/")
        if parent.is_dir():
            found += sorted(parent.glob(f"{config.cgroup_prefix}*"))
    return found


def leftover_mounts(config: LabConfig) -> list[str]:
    prefix = str(config.machines_dir) + "/"
    mounts = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1]
        if target.startswith(prefix):
            mounts.append(target)
    return mounts


def wait_for_ssh(config: LabConfig, machines: list[Machine], timeout: float = 120.0) -> None:
    pending = {m.name: m for m in machines}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name, machine in list(pending.items()):
            if ssh_probe(config, machine.address):
                del pending[name]
        if pending:
            time.sleep(0.3)
    if pending:
        raise LabError(
            f"machines not reachable over SSH after {timeout:.0f}s: {', '.join(sorted(pending))} "
            f"(see {config.logs_dir}/<name>.log)"
        )


def ssh_args(config: LabConfig) -> list[str]:
    return [
        "-i", str(config.ssh_key), "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
        "-o", "ConnectTimeout=2",
    ]


def ssh_probe(config: LabConfig, address: str) -> bool:
    result = run(["ssh", *ssh_args(config), f"root@{address}", "systemctl is-system-running --wait >/dev/null; true"],
                 check=False, timeout=60)
    return result.returncode == 0
