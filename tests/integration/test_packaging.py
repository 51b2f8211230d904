"""What ships: the wheel (one `paperbot` namespace with its data), a non-editable install used
from another directory, and the Docker build context and image layout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # builds and installs a wheel: started first
_NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the repo (so the build leaves nothing in the worktree)."""
    work = tmp_path_factory.mktemp("wheel")
    shutil.copytree(REPO, work / "src", ignore=_NOT_SOURCES)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(work / "dist"), str(work / "src")], check=True, capture_output=True)
    (built,) = (work / "dist").glob("paperbot-*.whl")
    return built


def _tracked(*folders: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", *folders], cwd=REPO, capture_output=True, text=True, check=True)
    return [line for line in listed.stdout.splitlines() if "__pycache__" not in line]


def test_the_wheel_holds_one_namespace_with_its_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {n.split("/")[0] for n in names} == {"paperbot", wheel.name.split("-py3")[0] + ".dist-info"}
    expected = {
        # folder in the repo -> where it lives in the wheel
        "data/corpus/": "paperbot/data/corpus/",
        "prompts/": "paperbot/prompts/",
        "retrieval/training/labels/": "paperbot/retrieval/training/labels/",
        "retrieval/training/fitted/": "paperbot/retrieval/training/fitted/",
        "bot/state/migrations/": "paperbot/bot/state/migrations/",
    }
    for folder, packaged in expected.items():
        files = _tracked(folder)
        assert files, f"nothing tracked under {folder}"
        missing = [f for f in files if packaged + f.removeprefix(folder) not in names]
        assert missing == [], f"not in the wheel: {missing}"
    assert any(re.fullmatch(r"paperbot/bot/state/migrations/versions/\d{4}_\w+\.py", n) for n in names)
    assert not any(n.startswith(("paperbot/tests", "tests/", "scripts/")) for n in names)


def test_an_installed_wheel_reads_its_corpus_and_answers_from_another_directory(wheel, shipped_data_dir, tmp_path):
    """A non-editable install run from elsewhere finds its shipped corpus, prompts and migrations.

    The data dir is a copy of an index built from the repo's corpus, so ingest embeds nothing: it
    reading all 64 papers from the installed package and finding each unchanged proves the install
    ships the same corpus (a missing corpus fails with "corpus path does not exist").
    """
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "PAPERBOT_DATA_DIR": str(shipped_data_dir)}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    where = json.loads(run("-c", "import json, paperbot.config.settings as s, paperbot.bot.state.migrate as m; "
                                 "print(json.dumps([s.__file__, str(s.SHIPPED_CORPUS), str(m.MIGRATIONS)]))"))
    assert all(Path(p).is_relative_to(site) for p in where), where  # the installed copy, not the repo
    assert "64 unchanged" in run("-m", "paperbot.bot.cli", "ingest", "-q")
    answer = json.loads(run("-m", "paperbot.bot.cli", "ask", "--json", "Who wrote the Reformer paper?"))
    assert "Nikita Kitaev" in answer["answer"] and answer["citations"]
    from paperbot.bot.state.migrate import head_revision

    assert f"schema revision {head_revision()}" in run("-m", "paperbot.bot.cli", "migrate")  # from the install


# -- Docker -------------------------------------------------------------------------------------

def _dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matches a path or any folder above it."""
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _docker_pattern(pattern.lstrip("!").strip("/"))
        parts = path.split("/")
        if any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            excluded = not negated
    return excluded


def _docker_pattern(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def test_dockerignore_keeps_secrets_history_tests_and_local_data_out_of_the_build():
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    kept_out = [".git/HEAD", ".env", ".env.production", ".venv/bin/python", "venv/lib/x.py", "tests/test_state.py",
                "tests/fixtures/a.txt", "paperbot-data/state.sqlite3", "paperbot-data/chroma/chroma.sqlite3",
                "chroma/chroma.sqlite3", "state.sqlite3", "bot/__pycache__/state.cpython-311.pyc",
                ".pytest_cache/README.md", "build/lib/x.py", "dist/paperbot.whl", "paperbot.egg-info/PKG-INFO"]
    assert [p for p in kept_out if not _dockerignore_excludes(patterns, p)] == []
    needed = ["pyproject.toml", "README.md", *_tracked("bot", "retrieval", "prompts", "config", "data")]
    assert [p for p in needed if _dockerignore_excludes(patterns, p)] == []


def _stages(dockerfile: str) -> list[list[str]]:
    instructions = re.sub(r"\\\n", " ", dockerfile)
    stages: list[list[str]] = []
    for line in instructions.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_the_image_gets_a_normal_install_and_no_sources():
    stages = _stages((REPO / "Dockerfile").read_text())
    copies = [line.split()[1:] for stage in stages for line in stage if line.upper().startswith(("COPY ", "ADD "))]
    assert not [c for c in copies if "." in c[:-1]], "the whole build context is never copied"
    runtime = stages[-1]
    runtime_copies = [line for line in runtime if line.upper().startswith(("COPY ", "ADD "))]
    assert runtime_copies == ["COPY --from=build /opt/venv /opt/venv"]  # the venv, nothing else
    installs = [line for stage in stages for line in stage if "pip install" in line]
    assert installs and not [line for line in installs if re.search(r"\s-e\s|--editable", line)]
