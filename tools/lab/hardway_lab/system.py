"""Running commands, and the few facts about the host the lab relies on."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .config import LabError


def run(cmd: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    kwargs.setdefault("text", True)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    try:
        result = subprocess.run(cmd, check=False, **kwargs)
    except FileNotFoundError:
        raise LabError(f"{cmd[0]} is not installed; run tools/bootstrap to install the lab's packages") from None
    if check and result.returncode != 0:
        err = (result.stderr or result.stdout or "").strip()
        raise LabError(f"command failed ({result.returncode}): {' '.join(cmd)}\n{err}")
    return result


def alive(pid: int | None) -> bool:
    """Whether ``pid`` runs (a zombie does not; one that is our own child is reaped)."""
    if not pid:
        return False
    try:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
    except ChildProcessError:
        pass
    try:
        return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError(
            "the lab needs root: it creates a bridge, iptables rules, overlay mounts and cgroups, "
            "and boots machines with systemd-nspawn. Run it as root (e.g. sudo tools/lab/lab ...)."
        )


def apt_mirror(suite: str, sources_dirs=(Path("/etc/apt"),)) -> str:
    """The first Debian mirror URI the host's apt uses for ``suite`` (main component).

    Reads deb822 ``*.sources`` files and one-line ``sources.list`` entries, so the
    lab uses whatever mirror this machine is configured with.
    """
    for base in sources_dirs:
        files = [base / "sources.list"] + sorted((base / "sources.list.d").glob("*.list"))
        files += sorted((base / "sources.list.d").glob("*.sources"))
        for path in files:
            if not path.is_file():
                continue
            text = path.read_text()
            uri = _deb822_uri(text, suite) if path.suffix == ".sources" else _one_line_uri(text, suite)
            if uri:
                return uri.rstrip("/")
    raise LabError(f"no apt source for Debian {suite} (main) found under /etc/apt; the lab builds its image from it")


def _one_line_uri(text: str, suite: str) -> str | None:
    for line in text.splitlines():
        words = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()  # drop "[option=value ...]"
        if len(words) >= 4 and words[0] == "deb" and words[2] == suite and "main" in words[3:]:
            return words[1]
    return None


def _deb822_uri(text: str, suite: str) -> str | None:
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" in fields.get("types", "").split() and suite in fields.get("suites", "").split() \
                and "main" in fields.get("components", "").split():
            return fields.get("uris", "").split()[0] if fields.get("uris") else None
    return None
