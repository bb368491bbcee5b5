"""Every action and outcome the server audits has words on the Auditoria page (auditoria.js):
an action added without its label would show as its code name to the person reading the log."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).parent.parent / "balto" / "web"


def _audited(pattern: str) -> set[str]:
    found: set[str] = set()
    for source in WEB.glob("*.py"):
        found |= set(re.findall(pattern, source.read_text("utf-8")))
    return found


def _labels(table: str) -> set[str]:
    script = (WEB / "static" / "auditoria.js").read_text("utf-8")
    body = re.search(rf"const {table} = \{{(.*?)\}};", script, re.S)
    assert body is not None, table
    return set(re.findall(r"(\w+): \"", body.group(1)))


def test_every_audited_action_has_words() -> None:
    actions = _audited(r'\baudit\(\s*"(\w+)"')
    assert len(actions) > 20  # the pattern still finds the calls
    assert actions - _labels("ACOES") == set()


def test_every_audited_outcome_has_words() -> None:
    outcomes = _audited(r'\boutcome="(\w+)"')
    assert {"signed_in", "wrong_code"} <= outcomes
    assert outcomes - _labels("RESULTADOS") == set()
