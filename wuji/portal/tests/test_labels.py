"""Every action code the platform records has a customer-facing name, so the instruction log never shows a raw
code. Generated from the source, so a new action cannot be missed."""

import pathlib
import re

from wuji.compute.choices import Operation
from wuji.portal.labels import ACTION_LABELS, action_label

ROOT = pathlib.Path(__file__).resolve().parents[2]


def recorded_actions() -> set[str]:
    codes = set()
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        codes.update(re.findall(r'action="([a-z_]+\.[a-z_.]+)"', path.read_text()))
    return codes


def test_every_recorded_action_has_a_label():
    codes = recorded_actions()
    assert len(codes) > 40  # the scan itself works
    unlabelled = sorted(code for code in codes if action_label(code) == code)
    assert unlabelled == []


def test_server_operations_use_their_operation_names():
    assert action_label(f"server.{Operation.REINSTALL}") == str(Operation.label(Operation.REINSTALL))
    assert "server.reinstall" not in ACTION_LABELS
