#!/usr/bin/env python
"""Which control-plane programs pick up a new certificate from disk without a restart, and how fast.

On a lab deployed with playbooks/site.yml (tools/demo leaves one up): raise the log level of the
Kubernetes components to 2 (their reload messages are logged at levels 1 and 2), re-issue every
certificate of the table with bench/reissue_certificates.yml, which restarts nothing, then watch:

- serving certificates: the serial each server presents on a new TLS connection (etcd client and
  peer ports of both clusters, kube-apiserver) against the serial of the file on disk;
- client certificates of kube-controller-manager and kube-scheduler: client-go's
  "Certificate rotation detected" message (it then closes its connections and dials again with
  the new pair);
- kube-apiserver's front-proxy client certificate: the aggregator's
  "Loaded a new cert/key pair" message for aggregator-proxy-cert.

Prints one line per certificate and host with the seconds until it was picked up, or "not picked
up" after --timeout. Figures only, no thresholds: the result is recorded in the certificate table
(roles/cluster_certs/vars/main.yml, after_change) and in docs/certificates.md.

    python bench/cert_reload.py [--timeout 420] [--skip-log-level]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAB = [sys.executable, str(REPO / "tools" / "lab" / "lab")]
PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")

SERVED = [  # (group, port, file)
    ("etcd", 2379, "/etc/etcd/pki/server.crt"),
    ("etcd", 2380, "/etc/etcd/pki/peer.crt"),
    ("etcd_events", 2379, "/etc/etcd-events/pki/server.crt"),
    ("etcd_events", 2380, "/etc/etcd-events/pki/peer.crt"),
    ("kube_apiserver", 6443, "/etc/kubernetes/pki/apiserver.crt"),
]
LOGGED = [  # (group, unit, message, certificate)
    ("kube_controller_manager", "kube-controller-manager", "Certificate rotation detected", "controller-manager-client"),
    ("kube_scheduler", "kube-scheduler", "Certificate rotation detected", "scheduler-client"),
    ("kube_apiserver", "kube-apiserver", 'Loaded a new cert/key pair" name="aggregator-proxy-cert', "front-proxy-client"),
]


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def inventory() -> tuple[str, dict]:
    path = run([*LAB, "inventory"]).stdout.strip()
    listing = json.loads(run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", path, "--list"]).stdout)
    return path, listing


def ssh(host: str, command: str) -> str:
    return run([*LAB, "ssh", host, command]).stdout


def served_serial(address: str, port: int) -> str:
    result = run(["bash", "-c", f"openssl s_client -connect {address}:{port} </dev/null 2>/dev/null"
                                f" | openssl x509 -noout -serial"])
    return result.stdout.strip().partition("=")[2]


def disk_serial(host: str, path: str) -> str:
    return ssh(host, f"openssl x509 -noout -serial -in {path}").strip().partition("=")[2]


def playbook(inventory_path: str, name: str, *args: str) -> float:
    env = {**os.environ, **json.loads(run([*LAB, "vault-env", "--json"]).stdout)}
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".cache" / "collections"))
    env.setdefault("ANSIBLE_HOST_KEY_CHECKING", "false")
    started = time.monotonic()
    result = run([PLAYBOOK, "-i", inventory_path, name, *args], env=env, cwd=REPO)
    if result.returncode != 0:
        sys.exit(f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--timeout", type=float, default=420.0, help="seconds to watch after the re-issue")
    parser.add_argument("--skip-log-level", action="store_true", help="the components already log at level 2")
    args = parser.parse_args()

    inventory_path, listing = inventory()
    hostvars = listing["_meta"]["hostvars"]

    def group(name: str) -> list[str]:
        return listing.get(name, {}).get("hosts", [])

    if not args.skip_log_level:
        seconds = playbook(inventory_path, "playbooks/site.yml", "-e", "kube_apiserver_log_level=2",
                           "-e", "kube_controller_manager_log_level=2", "-e", "kube_scheduler_log_level=2")
        print(f"site.yml with log level 2: {seconds:.1f} s", flush=True)

    since = run(["date", "-u", "+%Y-%m-%d %H:%M:%S"]).stdout.strip()
    seconds = playbook(inventory_path, "bench/reissue_certificates.yml")
    print(f"re-issued every certificate without a restart: {seconds:.1f} s", flush=True)
    started = time.monotonic()

    pending = {}
    for group_name, port, path in SERVED:
        for host in group(group_name):
            pending[(path, host, "served")] = (host, port, disk_serial(host, path))
    for group_name, unit, message, certificate in LOGGED:
        for host in group(group_name):
            pending[(certificate, host, "logged")] = (host, unit, message)
    picked = {}
    while pending and time.monotonic() - started < args.timeout:
        for key, check in list(pending.items()):
            if key[2] == "served":
                host, port, serial = check
                done = served_serial(hostvars[host].get("ansible_host", host), port) == serial
            else:
                host, unit, message = check
                done = message in ssh(host, f"journalctl -u {unit} --since '{since}' --utc -o cat")
            if done:
                picked[key] = time.monotonic() - started
                del pending[key]
        time.sleep(5)

    print(f"\n{'certificate':<40} {'host':<18} {'seen as':<8} picked up")
    for key in sorted(list(picked) + list(pending)):
        when = f"after {picked[key]:.0f} s" if key in picked else f"not within {args.timeout:.0f} s"
        print(f"{key[0]:<40} {key[1]:<18} {key[2]:<8} {when}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
