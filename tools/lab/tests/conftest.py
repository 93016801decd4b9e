import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardway_lab.config import LabConfig, check_subnet  # noqa: E402


@pytest.fixture
def config(tmp_path):
    return LabConfig(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache", subnet=check_subnet("198.18.0.0/24"))
