"""What is running: the topology and the PIDs of machines and services."""
from __future__ import annotations

import json
import os
from pathlib import Path

from .config import LabConfig


def load(config: LabConfig) -> dict:
    try:
        return json.loads(config.state_file.read_text())
    except FileNotFoundError:
        return {}


def save(config: LabConfig, state: dict) -> None:
    config.state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = config.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    os.replace(tmp, config.state_file)


def clear(config: LabConfig) -> None:
    Path(config.state_file).unlink(missing_ok=True)
