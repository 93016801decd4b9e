"""The Debian base image every machine boots from (built once, cached)."""
from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

from .config import LabConfig
from .system import apt_mirror, run

PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "python3", "python3-apt", "iproute2", "iputils-ping",
    "openssh-server", "ca-certificates", "procps", "kmod",
)

# Fixed up after debootstrap: every machine gets its own identity at boot time.
_SSHD_CONFIG = "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n"
_JOURNALD_CONFIG = "[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n"
_SYSTEM_CONFIG = "[Manager]\nDefaultTimeoutStopSec=10s\n"


def image_key(suite: str, packages=PACKAGES) -> str:
    digest = hashlib.sha256(" ".join([suite, *sorted(packages)]).encode()).hexdigest()[:12]
    return f"{suite}-{digest}"


def ensure(config: LabConfig, log=print) -> Path:
    """Return the root of the cached base image, building it if absent."""
    root = config.images_dir / image_key(config.suite) / "rootfs"
    if (root / "etc" / "os-release").exists():
        return root
    mirror = apt_mirror(config.suite)
    staging = root.parent / "rootfs.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    log(f"building the {config.suite} base image (debootstrap, about a minute)")
    started = time.monotonic()
    # debootstrap's progress goes straight to the terminal: it is the slow step of a cold start.
    run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", config.suite, str(staging), mirror],
        stdout=None, stderr=None)
    _customize(staging)
    staging.rename(root)
    log(f"base image ready in {time.monotonic() - started:.0f}s: {root}")
    return root


def _customize(root: Path) -> None:
    (root / "etc" / "machine-id").write_text("")
    for key in (root / "etc" / "ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc" / "ssh" / "sshd_config.d" / "lab.conf").write_text(_SSHD_CONFIG)
    journald = root / "etc" / "systemd" / "journald.conf.d"
    journald.mkdir(parents=True, exist_ok=True)
    (journald / "lab.conf").write_text(_JOURNALD_CONFIG)
    system = root / "etc" / "systemd" / "system.conf.d"
    system.mkdir(parents=True, exist_ok=True)
    (system / "lab.conf").write_text(_SYSTEM_CONFIG)
    run(["chroot", str(root), "systemctl", "enable", "systemd-networkd", "ssh"])
    # Nothing in a lab machine needs these, and they slow down or break boot in a container.
    run(["chroot", str(root), "systemctl", "mask", "systemd-networkd-wait-online", "apt-daily.timer",
         "apt-daily-upgrade.timer", "e2scrub_reap", "getty@tty1"], check=False)
    # `modprobe` of built-in modules works once depmod has a modules.builtin list.
    (root / "lib" / "modules").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "apt" / "apt.conf.d" / "99lab-no-recommends").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'
    )
