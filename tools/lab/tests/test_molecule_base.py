"""Molecule scenarios reach the lab's services at the lab's default addresses."""
from pathlib import Path

import yaml

from hardway_lab.config import REPO_ROOT, LabConfig


def test_molecule_base_config_uses_the_lab_default_urls():
    base = yaml.safe_load(Path(REPO_ROOT / ".config" / "molecule" / "config.yml").read_text())
    group_vars = base["provisioner"]["inventory"]["group_vars"]["all"]
    config = LabConfig.from_env({})
    assert group_vars["download_kubernetes_base_url"] == f"{config.mirror_url}/kubernetes"
    assert group_vars["download_etcd_base_url"] == f"{config.mirror_url}/etcd"
