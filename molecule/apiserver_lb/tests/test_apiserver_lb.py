# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Verify the molecule "apiserver_lb" scenario on the lab machines.

The hosts of apiserver_lb run HAProxy and keepalived; the hosts of kube_apiserver run no
apiserver (no mock stands in for kube-apiserver), so HAProxy's health checks are refused and
both servers are DOWN. These tests check the load balancer itself; what needs a live
apiserver behind it (the TLS /readyz check, balancing, an unready apiserver taken out, the
API through the VIP) is tested on real kube-apiservers by
tests/integration/test_ha_control_plane.py. The tests run in the order they are written:
the later ones change state (drain, reload, failover) and put it back.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import testinfra.utils.ansible_runner

SCENARIO = Path(__file__).resolve().parents[1]
REPO = SCENARIO.parents[1]
sys.path.insert(0, str(REPO / "tools" / "lab"))
from hardway_lab.config import LabConfig  # noqa: E402

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
LBS = RUNNER.get_hosts("apiserver_lb")
APISERVERS = RUNNER.get_hosts("kube_apiserver")
SUBNET = LabConfig.from_env().subnet
VIP = str(SUBNET.network_address + 250)  # as in molecule.yml
SOCKET = "/run/haproxy/admin.sock"
MASTER_SOCKET = "/run/haproxy-master.sock"  # Debian's unit: haproxy -Ws ... -S /run/haproxy-master.sock
CA_FILE = "/etc/haproxy/pki/kubernetes-ca.crt"
BACKEND = "kube-apiserver"
CLUSTER = "molecule"  # vault_pki_cluster_name in molecule.yml
NO_WAIT = "apiserver_lb_server_state_timeout=0"  # server_state waits for nothing: the apiservers never come UP here


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def machine(name):
    return RUNNER.get_host(name)


def address(name):
    return RUNNER.get_variables(name)["ansible_host"]


def runtime_api(lb, command, sock=SOCKET):
    return machine(lb).check_output(f"echo '{command}' | socat -t 5 - UNIX-CONNECT:{sock}")


def servers(lb):
    """{server name: row of `show stat`} for the apiserver backend."""
    rows = csv.DictReader(runtime_api(lb, "show stat").lstrip("# ").splitlines())
    return {row["svname"]: row for row in rows if row["pxname"] == BACKEND and row["svname"] not in ("FRONTEND", "BACKEND")}


def admin_states(lb):
    """{server name: srv_admin_state} from `show servers state` (1 = maint, 8 = drain)."""
    lines = runtime_api(lb, f"show servers state {BACKEND}").splitlines()
    header = lines[1].lstrip("# ").split()
    rows = [dict(zip(header, line.split())) for line in lines[2:] if line.strip()]
    return {row["srv_name"]: int(row["srv_admin_state"]) for row in rows}


def master(lb):
    """(master PID, reload count) from the master CLI."""
    line = runtime_api(lb, "show proc", MASTER_SOCKET).splitlines()[1]
    pid, kind, reloads = line.split()[:3]
    assert kind == "master", line
    return int(pid), int(reloads)


def playbook(name, *args):
    """Run one of the scenario's playbooks with molecule's inventory and Ansible settings."""
    command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(SCENARIO / name), *args]
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=600, env=env)


def recap(output):
    """{host: {ok: n, changed: n, failed: n, ...}} from a PLAY RECAP."""
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", output, re.MULTILINE)}


def set_state(apiserver, state, *args):
    result = playbook("server_state.yml", "--limit", apiserver, "-e", f"apiserver_lb_server_state={state}", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"gave up after {timeout}s waiting for {what}")


@functools.lru_cache(maxsize=1)
def vault_ca_chain():
    """The chain the lab's OpenBao serves for the Kubernetes intermediate (public, no token)."""
    lab_env = subprocess.run([str(REPO / "tools" / "lab" / "lab"), "vault-env", "--json"],
                             capture_output=True, text=True, check=True, timeout=60)
    vault = json.loads(lab_env.stdout)
    context = ssl.create_default_context(cafile=vault["VAULT_CACERT"])
    with urllib.request.urlopen(f"{vault['VAULT_ADDR']}/v1/{CLUSTER}-pki-kubernetes/ca_chain", context=context,
                                timeout=10) as response:
        return response.read().decode()


def pem_certificates(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.DOTALL)


def monitor(target):
    """HTTP status of the monitor frontend (GET /healthz on port 8404) at target."""
    try:
        with urllib.request.urlopen(f"http://{target}:8404/healthz", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def frontend_accepts(target, port=6443):
    """Whether HAProxy's frontend at target accepts a TCP connection; with no apiserver up it then closes it."""
    try:
        connection = socket.create_connection((target, port), timeout=5)
    except OSError:
        return False
    with connection:
        connection.settimeout(10)
        try:
            assert connection.recv(1) == b"", f"{target}:{port} sent data with no apiserver behind it"
        except ConnectionResetError:
            pass
    return True


def task_output(output, task):
    """The lines a playbook run printed for the task whose name (after any role prefix) starts with task."""
    match = re.search(rf"^TASK \[(?:\S+ : )?{re.escape(task)}.*?(?=^TASK \[|^PLAY RECAP)", output, re.MULTILINE | re.DOTALL)
    assert match, f"no task {task!r} in the output"
    return match.group(0)


def all_down(lb):
    """The servers of lb once every one of them is DOWN because its health check was refused, else None."""
    state = servers(lb)
    if state and all(row["status"] == "DOWN" and row["check_status"] == "L4CON" for row in state.values()):
        return state
    return None


def vip_holders():
    return [lb for lb in LBS if re.search(rf"\binet {re.escape(VIP)}/", machine(lb).check_output("ip -o -4 addr show"))]


# --------------------------------------------------------------------------
# The converged load balancers
# --------------------------------------------------------------------------
def test_haproxy_runs_master_worker_with_a_valid_configuration():
    for lb in LBS:
        host = machine(lb)
        assert host.service("haproxy").is_running and host.service("haproxy").is_enabled
        check = host.run("haproxy -c -f /etc/haproxy/haproxy.cfg")
        assert check.rc == 0, check.stderr
        # `haproxy -c` also reads the servers' state saved at the last reload: it warns about each
        # server that was DOWN then (here they all are), or that there is no such file (after a start).
        findings = [line for line in (check.stdout + check.stderr).splitlines()
                    if ("WARNING" in line or "ALERT" in line)
                    and "changed from server-state after a reload" not in line and "server state file" not in line]
        assert not findings, check.stdout + check.stderr
        pid = master(lb)[0]
        assert " -Ws " in host.file(f"/proc/{pid}/cmdline").content_string.replace("\0", " ")
        config = host.file("/etc/haproxy/haproxy.cfg").content_string
        assert re.search(r"stats socket \S+ mode 660 level admin expose-fd listeners", config)
        assert "option httpchk GET /readyz" in config and "http-check expect status 200" in config
        for apiserver in APISERVERS:
            assert f"server {apiserver} {address(apiserver)}:6443 verifyhost {apiserver} check-sni {apiserver}" in config
        assert f"check check-ssl verify required ca-file {CA_FILE}" in config


def test_the_ca_file_is_the_kubernetes_intermediate_and_its_root():
    chain = pem_certificates(vault_ca_chain())
    assert len(chain) == 2, "the lab's OpenBao serves the intermediate and the root"
    intermediate, root = "/tmp/alb-intermediate.crt", "/tmp/alb-root.crt"
    for lb in LBS:
        host = machine(lb)
        ca = host.file(CA_FILE)
        assert ca.mode == 0o644 and ca.user == "root"
        assert pem_certificates(ca.content_string) == chain, "the CA file is the chain Vault serves, in its order"
        subjects = host.check_output(f"openssl crl2pkcs7 -nocrl -certfile {CA_FILE} | openssl pkcs7 -print_certs -noout")
        assert re.search(r"subject=CN ?= ?molecule kubernetes CA\s+issuer=CN ?= ?molecule root CA", subjects)
        assert re.search(r"subject=CN ?= ?molecule root CA\s+issuer=CN ?= ?molecule root CA", subjects)
        host.run_expect([0], f"cat > {intermediate} <<'EOF'\n{chain[0]}\nEOF")
        host.run_expect([0], f"cat > {root} <<'EOF'\n{chain[1]}\nEOF")
        # What HAProxy's OpenSSL does with the file: the last certificate is a self-signed root, and
        # the intermediate (the issuer of the apiservers' certificates) verifies up to it.
        host.run_expect([0], f"openssl verify -CAfile {root} -check_ss_sig {root}")
        verify = host.run(f"openssl verify -CAfile {CA_FILE} {intermediate}")
        assert verify.rc == 0 and verify.stdout.strip().endswith(": OK"), verify.stdout + verify.stderr
        # The intermediate alone is not enough for OpenSSL without a partial-chain mode, which
        # HAProxy does not have: this is why the root is in the file.
        alone = host.run(f"openssl verify -CAfile {intermediate} {intermediate}")
        assert alone.rc != 0, alone.stdout
        host.run_expect([0], f"openssl verify -partial_chain -CAfile {intermediate} {intermediate}")


def test_the_apiservers_are_down_their_checks_refused():
    for lb in LBS:
        state = wait_for(lambda lb=lb: all_down(lb), 30, f"both apiservers DOWN (L4CON) on {lb}")
        assert sorted(state) == sorted(APISERVERS)


def test_the_runtime_api_answers_and_is_private():
    for lb in LBS:
        assert sorted(admin_states(lb)) == sorted(APISERVERS)
        sock = machine(lb).file(SOCKET)
        assert sock.is_socket and sock.mode == 0o660 and sock.user == "root"


def test_the_monitor_frontend_reports_no_apiserver_up():
    for lb in LBS:
        assert monitor(address(lb)) == 503
    assert monitor(VIP) == 503


def test_the_frontend_accepts_and_closes_without_an_apiserver():
    for target in [VIP] + [address(lb) for lb in LBS]:
        # The frontend binds the VIP (non-local on the backup) and the loopback only.
        assert frontend_accepts(target) == (target == VIP), target


def test_check_mode_on_the_converged_hosts_changes_nothing():
    result = playbook("converge.yml", "--check")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    totals = recap(result.stdout)
    assert set(LBS) <= set(totals)
    assert all(totals[lb]["changed"] == 0 for lb in LBS), totals


def test_bad_input_stops_every_load_balancer_before_any_change():
    before = {lb: (machine(lb).file("/etc/haproxy/haproxy.cfg").md5sum, master(lb)) for lb in LBS}
    off_subnet = str(SUBNET.network_address + 256 + 250)
    result = playbook("converge.yml", "-e", f"apiserver_lb_vip={off_subnet}")
    assert result.returncode != 0
    assert f"the virtual IP {off_subnet} is not on the network of interface host0" in result.stderr
    # A load balancer without a route to an apiserver fails the run for both.
    unroutable = str(SUBNET.network_address + 512 + 9)
    machine(LBS[0]).run_expect([0], f"ip route add blackhole {unroutable}/32")
    try:
        result = playbook("converge.yml", "-e", f"kube_apiserver_advertise_address={unroutable}")
    finally:
        machine(LBS[0]).run(f"ip route del blackhole {unroutable}/32")
    assert result.returncode != 0
    assert f"{LBS[0]} has no route to apiserver {APISERVERS[0]} ({unroutable}" in result.stderr
    assert all(counts["changed"] == 0 for counts in recap(result.stdout).values())
    assert before == {lb: (machine(lb).file("/etc/haproxy/haproxy.cfg").md5sum, master(lb)) for lb in LBS}


# --------------------------------------------------------------------------
# Draining through the runtime API (tasks_from: server_state)
# --------------------------------------------------------------------------
def test_drain_maint_and_ready_through_the_runtime_api():
    apiserver, other = APISERVERS
    set_state(apiserver, "drain", "-e", NO_WAIT)
    for lb in LBS:
        assert admin_states(lb) == {apiserver: 0x08, other: 0}, "drain flag on the apiserver only"
        # `show stat` reports a server that is down as DOWN whatever its admin state.
        assert servers(lb)[apiserver]["status"] == "DOWN"

    set_state(apiserver, "maint")  # waits for MAINT
    for lb in LBS:
        assert admin_states(lb)[apiserver] & 0x01, "maintenance flag"
        assert servers(lb)[apiserver]["status"] == "MAINT"
        assert servers(lb)[other]["status"] == "DOWN"

    result = set_state(apiserver, "ready", "-e", NO_WAIT)
    waited = task_output(result.stdout, "Wait until the health checks pass on every load balancer")
    assert "skipping:" in waited and "ok:" not in waited, waited
    for lb in LBS:
        assert admin_states(lb) == {apiserver: 0, other: 0}
        # Checked again: DOWN once its health checks have been refused.
        wait_for(lambda lb=lb: all_down(lb), 30, f"{apiserver} checked and DOWN again on {lb}")


def test_a_configuration_change_reloads_without_refusing_a_connection():
    lb = LBS[0]
    host = machine(lb)
    drained = APISERVERS[1]
    set_state(drained, "drain", "-e", NO_WAIT)  # runtime state that must survive the reload
    host.run_expect([0], "cat > /tmp/reload_probe.py <<'EOF'\n" + (SCENARIO / "files" / "reload_probe.py").read_text() + "EOF")
    host.run("rm -f /tmp/probe.stop /tmp/probe.json /tmp/probe.json.started")
    masters = {each: master(each) for each in LBS}
    host.run_expect([0], "setsid nohup python3 /tmp/reload_probe.py 6443 /tmp/probe.stop /tmp/probe.json >/tmp/probe.log 2>&1 &")
    wait_for(lambda: host.file("/tmp/probe.json.started").exists, 30, "the probe to connect")
    try:
        result = playbook("converge.yml", "-e", "apiserver_lb_check_interval=3s")
    finally:
        host.run("touch /tmp/probe.stop")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "RUNNING HANDLER [hardway.kubernetes.apiserver_lb : Reload HAProxy]" in result.stdout
    probe = json.loads(wait_for(lambda: host.file("/tmp/probe.json").exists and host.file("/tmp/probe.json").content_string,
                                30, "the probe's result"))
    assert probe["attempts"] > 100 and probe["refused"] == 0, probe
    for each in LBS:
        pid, reloads = masters[each]
        assert master(each) == (pid, reloads + 1), f"{each} reloaded once, by the same master (no restart)"
        assert "inter 3s" in machine(each).file("/etc/haproxy/haproxy.cfg").content_string
        assert admin_states(each)[drained] == 0x08, f"the drain of {drained} survived the reload on {each}"
    set_state(drained, "ready", "-e", NO_WAIT)
    for each in LBS:
        assert admin_states(each)[drained] == 0


# --------------------------------------------------------------------------
# The virtual IP
# --------------------------------------------------------------------------
def test_keepalived_holds_the_vip_on_exactly_one_load_balancer():
    for lb in LBS:
        host = machine(lb)
        assert host.service("keepalived").is_running and host.service("keepalived").is_enabled
        assert host.file("/etc/keepalived/keepalived.conf").mode == 0o600
        host.run_expect([0], "keepalived --config-test -f /etc/keepalived/keepalived.conf")
    assert len(wait_for(lambda: len(vip_holders()) == 1 and vip_holders(), 20, "one holder of the VIP")) == 1


def test_the_vip_moves_when_haproxy_stops_on_its_holder():
    holder = vip_holders()[0]
    other = next(lb for lb in LBS if lb != holder)
    machine(holder).run_expect([0], "systemctl stop haproxy")
    try:
        wait_for(lambda: vip_holders() == [other], 20, f"the VIP to move from {holder} to {other}")
        # HAProxy on the new holder answers at the VIP (the one on the old holder is stopped).
        wait_for(lambda: frontend_accepts(VIP) and monitor(VIP) == 503, 20, f"{other}'s HAProxy to answer at the VIP")
    finally:
        machine(holder).run_expect([0], "systemctl start haproxy")
    # The VIP stays where it is (no preemption) and never sits on both.
    last_transition = "journalctl -u keepalived --no-pager | grep 'Entering' | tail -n 1"
    wait_for(lambda: "BACKUP" in machine(holder).check_output(last_transition), 20,
             f"keepalived on {holder} to leave the fault state")
    assert vip_holders() == [other]
