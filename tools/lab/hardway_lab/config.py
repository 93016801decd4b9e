"""Where the lab keeps things and which addresses it may use."""
from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]

# Lab hosts live in the RFC 2544 benchmark range only; nothing else is accepted.
ALLOWED_HOST_RANGE = ipaddress.ip_network("198.18.0.0/15")
DEFAULT_SUBNET = "198.18.0.0/24"


class LabError(Exception):
    """An error the user can act on; the CLI prints it without a traceback."""


def check_subnet(subnet: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(subnet)
    except ValueError as exc:
        raise LabError(f"lab subnet {subnet!r} is not a network in CIDR form ({exc}); use e.g. {DEFAULT_SUBNET}") from None
    if net.version != 4 or not net.subnet_of(ALLOWED_HOST_RANGE):
        raise LabError(
            f"lab subnet {subnet} is outside {ALLOWED_HOST_RANGE}; the lab only uses the RFC 2544 benchmark range "
            f"(set HARDWAY_LAB_SUBNET to a /24 inside it, e.g. {DEFAULT_SUBNET})"
        )
    if net.prefixlen > 26:
        raise LabError(f"lab subnet {subnet} is too small for a topology; use a /24 (e.g. {DEFAULT_SUBNET})")
    return net


def check_bridge(name: str) -> str:
    if not re.fullmatch(r"hwlab[0-9]{1,2}", name):
        raise LabError(f"lab bridge name {name!r} must be hwlab0 to hwlab99 (HARDWAY_LAB_BRIDGE)")
    return name


@dataclasses.dataclass(frozen=True)
class LabConfig:
    state_dir: Path
    cache_dir: Path
    subnet: ipaddress.IPv4Network
    bridge: str = "hwlab0"
    mirror_port: int = 8080
    apt_proxy_port: int = 3142
    vault_port: int = 8200
    suite: str = "bookworm"

    @classmethod
    def from_env(cls, environ=None) -> "LabConfig":
        environ = os.environ if environ is None else environ
        return cls(
            state_dir=Path(environ.get("HARDWAY_LAB_STATE", "/var/lib/hardway-lab")),
            cache_dir=Path(environ.get("HARDWAY_LAB_CACHE", "/var/cache/hardway-lab")),
            subnet=check_subnet(environ.get("HARDWAY_LAB_SUBNET", DEFAULT_SUBNET)),
            bridge=check_bridge(environ.get("HARDWAY_LAB_BRIDGE", "hwlab0")),
        )

    # Addresses -------------------------------------------------------------
    @property
    def gateway(self) -> str:
        """The host's address on the bridge: services listen here."""
        return str(self.subnet.network_address + 1)

    def host_address(self, index: int) -> str:
        address = self.subnet.network_address + 11 + index
        if address not in self.subnet or address == self.subnet.broadcast_address:
            raise LabError(f"topology has too many machines for lab subnet {self.subnet}")
        return str(address)

    # Service URLs ------------------------------------------------------------
    @property
    def mirror_url(self) -> str:
        return f"http://{self.gateway}:{self.mirror_port}"

    @property
    def apt_proxy_url(self) -> str:
        return f"http://{self.gateway}:{self.apt_proxy_port}"

    @property
    def vault_addr(self) -> str:
        return f"https://{self.gateway}:{self.vault_port}"

    # Names of host objects, distinct per lab so that two labs can run side by side ----
    @property
    def guard_chain(self) -> str:
        return f"HWLAB-GUARD-{self.bridge.removeprefix('hwlab')}"

    @property
    def cgroup_prefix(self) -> str:
        return f"{self.bridge}-"

    # Paths -----------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def machines_dir(self) -> Path:
        return self.state_dir / "machines"

    @property
    def ssh_key(self) -> Path:
        return self.state_dir / "ssh" / "id_ed25519"

    @property
    def inventory_file(self) -> Path:
        return self.state_dir / "inventory" / "hosts.yml"

    @property
    def admin_kubeconfig(self) -> Path:
        """Where site.yml writes the operator's admin kubeconfig for this lab (admin_kubeconfig_path)."""
        return self.state_dir / "kubeconfig" / "admin.kubeconfig"

    @property
    def vault_dir(self) -> Path:
        return self.state_dir / "openbao"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def mirror_dir(self) -> Path:
        return self.cache_dir / "mirror"

    @property
    def apt_cache_dir(self) -> Path:
        return self.cache_dir / f"apt-{self.bridge}"

    @property
    def images_dir(self) -> Path:
        return self.cache_dir / "images"

    @property
    def build_dir(self) -> Path:
        return self.cache_dir / "build"
