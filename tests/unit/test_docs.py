"""The repository's docs cannot rot silently: every path they name exists, and none leaves the repo.

README.md, CONTRIBUTING.md and every file under docs/ are read as text. A problem is:
- a mention of `../shared` (the team's notes outside the repository are not documentation);
- a `src/pocketkube/...` path that does not exist;
- a path in inline code (`agent/pleg.py`, `replicaset/`, `tests/unit/storage/`) that names no file
  or directory of the repository — docs may name a module relative to the package they describe,
  so it must be the tail of some existing path;
- a relative markdown link whose target does not exist, or lies outside the repository.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Top-level directories whose paths are checked even without a telling suffix (`tests/e2e`).
CHECKED_ROOTS = ("src", "tests", "bench", "scripts", "docs", ".ci")
SKIPPED_DIRS = {"__pycache__", "build", "node_modules"}

SRC_PATH = re.compile(r"src/pocketkube(?:/[\w.-]+)*/?")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
PATH_LIKE = re.compile(r"[\w.-]+(?:/[\w.-]+)*/?")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def doc_files() -> list[Path]:
    found = [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    docs = ROOT / "docs"
    if docs.is_dir():
        found += sorted(p for p in docs.rglob("*") if p.is_file())
    return found


@cache
def repo_paths() -> frozenset[str]:
    """Every file and directory of the repository, relative to its root ('src/pocketkube/clock.py')."""
    out: set[str] = set()
    for top, dirs, files in os.walk(ROOT):
        rel = Path(top).relative_to(ROOT)
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                   and (not d.startswith(".") or (rel == Path(".") and d in CHECKED_ROOTS))]
        for name in [*dirs, *files]:
            out.add((rel / name).as_posix())
    return frozenset(out)


def names_existing_path(token: str) -> bool:
    """Whether `token` is a repository path, or the tail of one (`status/podstatus.py`)."""
    tail = token.rstrip("/")
    return any(path == tail or path.endswith("/" + tail) for path in repo_paths())


def _checked_inline(token: str) -> bool:
    if not PATH_LIKE.fullmatch(token) or token.startswith(("..", "./")):
        return False
    return token.endswith((".py", ".md", ".toml", "/")) or token.split("/")[0] in CHECKED_ROOTS


def problems(text: str, where: Path) -> list[str]:
    found: list[str] = []
    if "../shared" in text:
        found.append("mentions ../shared, which is outside the repository")
    for match in SRC_PATH.finditer(text):
        path = match.group(0).rstrip(".")
        if not (ROOT / path).exists():
            found.append(f"names {path}, which does not exist")
    for token in INLINE_CODE.findall(FENCED.sub("", text)):
        token = token.strip()
        if _checked_inline(token) and not token.startswith("src/pocketkube") and not names_existing_path(token):
            found.append(f"names `{token}`, which is no path of the repository")
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        resolved = (where.parent / target).resolve()
        if not resolved.is_relative_to(ROOT):
            found.append(f"links {target}, outside the repository")
        elif not resolved.exists():
            found.append(f"links {target}, which does not exist")
    return found


@pytest.mark.parametrize("doc", doc_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_doc_names_only_what_exists(doc: Path) -> None:
    assert doc.is_file(), f"{doc.relative_to(ROOT)} is missing"
    assert problems(doc.read_text(), doc) == []


def test_readme_links_the_architecture_and_contributing() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "](docs/architecture.md)" in readme
    assert "](CONTRIBUTING.md)" in readme


def test_the_checker_catches_rot() -> None:
    text = ("See ../shared/DESIGN.md, `src/pocketkube/agent/nope.py`, `agent/nope.py`, `tests/nowhere`,\n"
            "[gone](docs/gone.md) and [out](../outside.md); but `agent/pleg.py`, `replicaset/`,\n"
            "`status/podstatus.py`, `kubelet.needs_sync`, `pods/<name>/status` and [here](README.md) are fine.\n"
            "```\nsrc/pocketkube/\n```\n")
    found = problems(text, ROOT / "README.md")
    assert found == [
        "mentions ../shared, which is outside the repository",
        "names src/pocketkube/agent/nope.py, which does not exist",
        "names `agent/nope.py`, which is no path of the repository",
        "names `tests/nowhere`, which is no path of the repository",
        "links docs/gone.md, which does not exist",
        "links ../outside.md, outside the repository",
    ], found
