"""The Ansible inventory of a running lab (YAML, groups from DESIGN.md)."""
from __future__ import annotations

import json

from .config import LabConfig
from .topology import Topology


LAB_POD_CIDR = "100.64.0.0/16"
LAB_SERVICE_CIDR = "100.96.0.0/16"


def render(config: LabConfig, topology: Topology) -> str:
    """Inventory text. JSON is valid YAML, so no YAML library is needed."""
    hosts = {
        m.name: {"ansible_host": m.address} for m in topology.machines
    }
    children = {group: {"hosts": {name: {} for name in names}} for group, names in topology.groups().items()}
    inventory = {
        "all": {
            "hosts": hosts,
            "children": children,
            "vars": {
                "ansible_user": "root",
                "ansible_python_interpreter": "/usr/bin/python3",
                "ansible_ssh_private_key_file": str(config.ssh_key),
                "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes",
                # The lab's mirror has the official layout; only the base URLs differ.
                "download_kubernetes_base_url": f"{config.mirror_url}/kubernetes",
                "download_etcd_base_url": f"{config.mirror_url}/etcd",
                "hardway_lab_vault_addr": config.vault_addr,
                "hardway_lab_vault_cacert": str(config.vault_dir / "ca.crt"),
                "hardway_lab_audit_log": str(config.vault_dir / "audit.log"),
                # Test ranges only (100.64.0.0/10): pods 100.64.0.0/16, services 100.96.0.0/16.
                "kube_apiserver_service_cidr": LAB_SERVICE_CIDR,
                "static_routes_cluster_cidr": LAB_POD_CIDR,
                "static_routes_service_cidr": LAB_SERVICE_CIDR,
                "admin_kubeconfig_path": str(config.admin_kubeconfig),
            },
        }
    }
    return "# Written by `lab up`; regenerated on every run.\n" + json.dumps(inventory, indent=2, sort_keys=True) + "\n"
