"""Every Python block in docs/ and the README runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
SNIPPETS = [
    pytest.param(code, id=f"{doc.name}-{i}")
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for i, code in enumerate(BLOCK.findall(doc.read_text()))
]


@pytest.mark.parametrize("code", SNIPPETS)
def test_doc_snippet_runs(code, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(code, "<doc>", "exec"), {})
    assert capsys.readouterr().out  # every snippet shows something
