"""The external corpus loaders read what they should, checked on tiny repositories made here (a
real git repository in a temporary folder, with files written by this test, not fetched): the
Semgrep loader's markers and secrets, and Kingfisher's helper rules left out."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secret_corpora import load_external

pytest.importorskip("yaml", reason="the loaders read YAML rules")
pytest.importorskip("regex", reason="Semgrep's (?<SECRET>...) groups need the regex module")

_FAKE = "Zq8" + "Lm3vR7tW2yB9nK4pX6cD1fH5jG0sA"  # 32 characters, assembled so no scanner flags it

_SEMGREP_RULE = r"""rules:
- id: detected-acme-token
  patterns:
  - pattern-regex: acme_token\s*=\s*"(?<SECRET>[A-Za-z0-9]{32})"
  - pattern-not-regex: EXAMPLE
  languages: [regex]
  message: Acme token
  severity: ERROR
"""
_SEMGREP_TEST = f"""# ruleid: detected-acme-token
acme_token = "{_FAKE}"
# ok: detected-acme-token
acme_token = "EXAMPLE"

# todoruleid: detected-acme-token
acme-token: {_FAKE[::-1]}
"""
_KINGFISHER_RULES = """rules:
  - name: Acme Host
    id: kingfisher.acme.host.1
    pattern: '([a-z0-9-]+\\.acme\\.example)'
    visible: false
    examples:
      - tenant-one.acme.example
  - name: Acme Key
    id: kingfisher.acme.1
    pattern: 'acme_key\\s*=\\s*([A-Za-z0-9]{32})'
    examples:
      - acme_key = PLACEHOLDER
"""


def _external(name: str) -> Any:
    load_external()  # registers the package under its import name
    return importlib.import_module(f"forge_external_secrets.{name}")


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    work = tmp_path / "work"
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "fixture"], check=True)
    return work / ".git"


def test_semgrep_markers_give_positives_and_look_alikes(tmp_path: Path) -> None:
    common = _external("common")
    semgrep = _external("semgrep")
    git_dir = _repo(
        tmp_path,
        {
            "generic/secrets/security/detected-acme-token.yaml": _SEMGREP_RULE,
            "generic/secrets/security/detected-acme-token.txt": _SEMGREP_TEST,
        },
    )
    cases, skipped = semgrep.cases(common.Snapshot(git_dir, [semgrep.RULES]))
    positives = [c for c in cases if c.positive]
    negatives = [c for c in cases if not c.positive]
    assert [c.secrets for c in positives] == [(_FAKE,)]  # the SECRET group, not the key name
    assert positives[0].text == f'acme_token = "{_FAKE}"'
    assert [c.text for c in negatives] == ['acme_token = "EXAMPLE"']
    assert skipped["todo_marker"] == 1  # a known miss of the rule is not a label


def test_kingfisher_helper_rules_are_not_secrets(tmp_path: Path) -> None:
    common = _external("common")
    noseyparker = _external("noseyparker")
    rules = _KINGFISHER_RULES.replace("PLACEHOLDER", _FAKE)
    git_dir = _repo(tmp_path, {"data/rules/acme.yml": rules})
    cases, skipped = noseyparker.cases(
        common.Snapshot(git_dir, ["data/rules/"]), source="kingfisher", rules_dir="data/rules/"
    )
    assert [c.secrets for c in cases] == [(_FAKE,)]
    assert skipped["helper_rule"] == 1  # the host a validation needs, never reported
