"""Nothing leaks, nothing runs (issue 4, section 4).

Program text only ever goes through the grammar: a scan of the package's
syntax trees fails on any call that could run text or load objects, outside
a reviewed allow-list.  adiff keeps no cache (its Lark parser is rebuilt in
process from the parse tables shipped as JSON inside the package, or compiled
from the grammar if they cannot be read), so it writes nothing but its outputs: whatever the cache
folders hold or allow, a run works and leaves HOME, the working directory
and TMPDIR as they were, and a planted Lark cache file is never loaded.
"""

from __future__ import annotations

import ast
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from support import ADIFF, ROOT

PACKAGE = ROOT / "autodiff_cli"

# Calls by bare name that run or load text.
FORBIDDEN_NAMES = {"eval", "exec", "compile", "__import__", "breakpoint", "input"}
# module -> attributes that run code, load objects or start a shell.
FORBIDDEN_ATTRIBUTES = {
    "os": {"system", "popen", "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp",
           "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp",
           "spawnvpe", "startfile"},
    "importlib": {"import_module", "reload", "__import__"},
    "builtins": FORBIDDEN_NAMES,
    "pickle": {"load", "loads", "Unpickler"},
    "marshal": {"load", "loads"},
    "shelve": {"open"},
    "runpy": {"run_path", "run_module"},
    "code": {"interact", "InteractiveInterpreter", "InteractiveConsole"},
}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "runpy", "code", "pty"}
SUBPROCESS_CALLS = {"run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"}

# Reviewed exceptions: (path relative to the package, "what") -> why it is safe.
# Nothing needs one today.  Rendering with Graphviz (`subprocess.run([...dot...])`,
# no shell) is allowed by the rules below without an entry.
ALLOWED: dict[tuple[str, str], str] = {}


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _is_true(node: ast.AST) -> bool:
    return not (isinstance(node, ast.Constant) and not node.value)


def findings(path: Path) -> list[tuple[str, int, str]]:
    """Every risky construct in one file: (what, line, why)."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    aliases: dict[str, str] = {}  # local name -> dotted origin (import x as y, from x import y)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append((f"import {alias.name}", node.lineno, "loads or runs objects"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append((f"from {node.module} import", node.lineno, "loads or runs objects"))
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if not name:
                continue
            head, _, rest = name.partition(".")
            full = f"{aliases.get(head, head)}.{rest}" if rest else aliases.get(head, head)
            module, _, attribute = full.rpartition(".")
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            if not module and full in FORBIDDEN_NAMES:
                found.append((f"{full}()", node.lineno, "runs or reads text as code"))
            elif attribute in FORBIDDEN_ATTRIBUTES.get(module, ()):
                found.append((f"{full}()", node.lineno, "runs code or loads objects"))
            elif module == "subprocess" and attribute in SUBPROCESS_CALLS:
                if attribute in ("getoutput", "getstatusoutput"):
                    found.append((f"{full}()", node.lineno, "always uses a shell"))
                elif "shell" in keywords and _is_true(keywords["shell"]):
                    found.append((f"{full}(shell=...)", node.lineno, "a shell reads the command"))
                elif node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
                    found.append((f"{full}(text)", node.lineno, "the command should be a list of words"))
            elif attribute == "Lark" or full == "Lark":
                if "cache" in keywords and _is_true(keywords["cache"]):
                    found.append(("Lark(cache=...)", node.lineno,
                                  "Lark's cache is a pickle in the shared temporary folder"))
    return found


def test_the_package_runs_no_text_and_loads_no_objects():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = str(path.relative_to(PACKAGE))
        for what, line, why in findings(path):
            if (relative, what) not in ALLOWED:
                problems.append(f"autodiff_cli/{relative}:{line}: {what}: {why}")
    assert not problems, ("calls outside the reviewed allow-list (tests/test_safety.py ALLOWED):\n"
                          + "\n".join(problems))


@pytest.mark.parametrize("source, caught", [
    ("eval(text)", "eval()"), ("exec(text)", "exec()"), ("compile(text, 'f', 'exec')", "compile()"),
    ("__import__(name)", "__import__()"), ("import builtins\nbuiltins.eval(t)", "builtins.eval()"),
    ("import importlib\nimportlib.import_module(name)", "importlib.import_module()"),
    ("from importlib import import_module as im\nim(name)", "importlib.import_module()"),
    ("import os\nos.system('dot')", "os.system()"), ("import os as o\no.popen('x')", "os.popen()"),
    ("import pickle", "import pickle"), ("from marshal import loads", "from marshal import"),
    ("import subprocess\nsubprocess.run('dot -Tsvg', shell=True)", "subprocess.run(shell=...)"),
    ("import subprocess as sp\nsp.Popen(cmd, shell=flag)", "subprocess.Popen(shell=...)"),
    ("from subprocess import check_output\ncheck_output('ls')", "subprocess.check_output(text)"),
    ("from lark import Lark\nLark(g, cache=True)", "Lark(cache=...)"),
    ("import lark\nlark.Lark(g, cache='/tmp/x')", "Lark(cache=...)"),
])
def test_the_scan_catches_each_forbidden_form(tmp_path, source, caught):
    path = tmp_path / "sample.py"
    path.write_text(source + "\n")
    assert caught in [what for what, _, _ in findings(path)]


@pytest.mark.parametrize("source", [
    "import subprocess\nsubprocess.run(['dot', '-Tsvg'], input=data, capture_output=True)",
    "import subprocess\nsubprocess.run([dot, '-Tpng'], check=True, shell=False)",
    "import re\nre.compile(r'x')", "from lark import Lark\nLark(g, parser='lalr', cache=False)",
    "from importlib import resources\nresources.files('autodiff_cli')",
])
def test_the_scan_allows_safe_forms(tmp_path, source):
    path = tmp_path / "sample.py"
    path.write_text(source + "\n")
    assert findings(path) == []


# ---- no cache, no writes ----------------------------------------------------------------------

def _snapshot(*folders: Path) -> dict:
    """Every path under the folders, with its size, mode and modification time."""
    seen = {}
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                path = Path(root, name)
                stat = path.lstat()
                seen[str(path)] = (stat.st_size, stat.st_mode, stat.st_mtime_ns)
        stat = folder.lstat()
        seen[str(folder)] = (stat.st_mode, stat.st_mtime_ns)
    return seen


def _adiff(env: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    full = {key: value for key, value in os.environ.items()
            if key not in ("XDG_CACHE_HOME", "HOME", "TMPDIR", "ADIFF_DEBUG")}
    full.update({"NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}, **env)
    return subprocess.run([*ADIFF, *args], env=full, cwd=cwd, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def sandbox(tmp_path):
    """A home, a working directory and a temporary folder of the run's own."""
    folders = {name: tmp_path / name for name in ("home", "cwd", "tmp")}
    for folder in folders.values():
        folder.mkdir()
    return folders


def _check_run(sandbox, env, *watched: Path):
    before = _snapshot(sandbox["home"], sandbox["cwd"], sandbox["tmp"], *watched)
    done = _adiff({"HOME": str(sandbox["home"]), "TMPDIR": str(sandbox["tmp"]), **env},
                  sandbox["cwd"], "eval", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1",
                  "--y", "5", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert '"value": 4.0' in done.stdout
    assert _snapshot(sandbox["home"], sandbox["cwd"], sandbox["tmp"], *watched) == before


def test_a_run_writes_nothing_to_home_the_working_directory_or_tmpdir(sandbox):
    _check_run(sandbox, {})


def test_a_missing_cache_folder(sandbox):
    _check_run(sandbox, {"XDG_CACHE_HOME": str(sandbox["home"] / "no" / "such" / "cache")})
    assert not (sandbox["home"] / "no").exists()


def test_a_cache_folder_that_is_a_file(sandbox):
    cache = sandbox["home"] / "cache"
    cache.write_text("not a folder")
    _check_run(sandbox, {"XDG_CACHE_HOME": str(cache)})


def test_a_read_only_cache_folder_and_home(sandbox):
    cache = sandbox["home"] / ".cache"
    (cache / "adiff").mkdir(parents=True)
    for folder in (cache / "adiff", cache, sandbox["home"]):
        folder.chmod(0o500)
    try:
        _check_run(sandbox, {"XDG_CACHE_HOME": str(cache)})
        _check_run(sandbox, {})  # ~/.cache by default
    finally:
        for folder in (sandbox["home"], cache, cache / "adiff"):
            folder.chmod(0o700)


@pytest.mark.parametrize("content", [b"", b"\x80\x04garbage", pickle.dumps({"parser": None})[:7],
                                     b"\x00" * 4096])
def test_a_corrupt_or_truncated_file_in_the_cache_folder(sandbox, content):
    cache = sandbox["home"] / ".cache" / "adiff"
    cache.mkdir(parents=True)
    for name in ("parser.pickle", "grammar.cache", "lark.tmp"):
        (cache / name).write_bytes(content)
    _check_run(sandbox, {"XDG_CACHE_HOME": str(cache.parent)})


def test_a_cache_folder_owned_by_someone_else(sandbox):
    """World-writable and, when the tests run as root, owned by another user."""
    cache = sandbox["tmp"].parent / "shared-cache"
    (cache / "adiff").mkdir(parents=True)
    (cache / "adiff" / "parser.pickle").write_bytes(_planted_pickle(sandbox["tmp"].parent / "pwned"))
    for folder in (cache, cache / "adiff"):
        folder.chmod(0o777)
    if os.geteuid() == 0:
        os.chown(cache, 65534, 65534)
        os.chown(cache / "adiff", 65534, 65534)
    _check_run(sandbox, {"XDG_CACHE_HOME": str(cache)}, cache)
    assert not (sandbox["tmp"].parent / "pwned").exists()


class _Planted:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _planted_pickle(marker: Path) -> bytes:
    return pickle.dumps(_Planted(marker))


_FORCE_CACHE = r"""
import sys, lark
original = lark.Lark.__init__
def with_cache(self, *args, **options):
    options["cache"] = True
    original(self, *args, **options)
lark.Lark.__init__ = with_cache
# the parser usually comes from the shipped tables (no Lark() at all): take the
# fallback that compiles the grammar, the one path where a cache could be read
import autodiff_cli.parser
autodiff_cli.parser._from_tables = lambda grammar: None
from autodiff_cli.cli import run
sys.argv = ["adiff", *sys.argv[1:]]
run()
"""


def test_a_planted_lark_cache_file_in_the_temporary_folder_is_never_loaded(sandbox, tmp_path):
    """Lark's cache=True reads `$TMPDIR/.lark_cache_<user>_<hash>_<python>.tmp`,
    a pickle another local user could have written.  Find the exact name adiff
    would use with the cache on, plant a pickle there that leaves a marker when
    loaded, and check adiff never loads it; with the cache forced on, it would."""
    probe = tmp_path / "probe"
    probe.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "ADIFF_DEBUG"}
    args = ["eval", "x*2", "--x", "1"]
    forced = subprocess.run([sys.executable, "-c", _FORCE_CACHE, *args], capture_output=True,
                            text=True, env={**env, "TMPDIR": str(probe)}, timeout=60)
    assert forced.returncode == 0, forced.stderr
    names = [p.name for p in probe.iterdir() if p.name.startswith(".lark_cache_")]
    assert len(names) == 1, names

    marker = tmp_path / "loaded"
    (sandbox["tmp"] / names[0]).write_bytes(b"not the grammar's hash\n" + _planted_pickle(marker))
    _check_run(sandbox, {})
    assert not marker.exists(), "adiff loaded a pickle from the shared temporary folder"

    # the plant is real: a parser built with cache=True loads it
    subprocess.run([sys.executable, "-c", _FORCE_CACHE, *args], capture_output=True,
                   env={**env, "TMPDIR": str(sandbox["tmp"])}, timeout=60)
    assert marker.exists()


def test_the_parser_is_built_without_a_cache():
    from autodiff_cli import parser
    parser._parser = None
    try:
        lark_parser = parser._lark()
        assert not lark_parser.options.cache
    finally:
        parser._parser = None


def test_no_module_mentions_a_cache_folder():
    """adiff keeps no cache today; if one is added, these tests must grow
    (private folder, owner check, corrupt files) before this one is changed."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text("utf-8")
        assert "XDG_CACHE_HOME" not in text and ".cache" not in text, path
