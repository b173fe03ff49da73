"""The code's shape, guarded: layers point one way, only the store speaks SQL, modules stay small.

Layers, lowest first: foundation (settings, errors, value types) -> risk engine and demo
data -> store -> encoders -> joint -> search and projection -> services -> presenters ->
faces (CLIs, job worker, the app). A module may import its own layer or lower ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        (
            "prometheus",
            "prometheus.config",
            "prometheus.errors",
            "prometheus.files",
            "prometheus.keys",
            "prometheus.lookup",
            "prometheus.progress",
            "prometheus.reports",
            "prometheus.report_files",
            "prometheus.report_rows",
            "prometheus.statistics",
            "prometheus.stress",
            "prometheus.top_k",
            "prometheus.values",
        ),
    ),
    ("risk engine and demo data", ("prometheus.risk", "prometheus.demo")),
    ("store", ("prometheus.store",)),
    ("encoders", ("prometheus.encoders",)),
    ("joint", ("prometheus.joint",)),
    ("search, projection and forecasting", ("prometheus.search", "prometheus.projection", "prometheus.forecasting")),
    ("services", ("prometheus.services",)),
    ("presenters", ("prometheus.presenters",)),
    ("faces", ("prometheus.jobs", "prometheus.scripts", "ui", "pages", "app")),
]
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _sources() -> list[Path]:
    paths = [*ROOT.joinpath("prometheus").rglob("*.py"), *ROOT.joinpath("ui").rglob("*.py")]
    paths += [*ROOT.joinpath("pages").glob("*.py"), ROOT / "app.py"]
    return sorted(paths)


def _layer(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), rank)
    return None if best is None else best[1]


def _imports(path: Path, text: str | None = None) -> list[tuple[int, str]]:
    """Every module imported anywhere in the file (functions included), with its line."""
    tree = ast.parse(path.read_text() if text is None else text, filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # "from pkg import module" imports the module too
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _violations(texts: dict[Path, str] | None = None) -> list[str]:
    """Imports against the layer order; ``texts`` stands in for some files' contents."""
    problems = []
    for path in _sources():
        mine = _layer(_module_name(path))
        assert mine is not None, f"{path} belongs to no layer: add it to LAYERS"
        for line, imported in _imports(path, (texts or {}).get(path)):
            theirs = _layer(imported)
            if theirs is not None and theirs > mine:
                problems.append(
                    f"{path.relative_to(ROOT)}:{line} imports {imported} "
                    f"({LAYERS[theirs][0]}) from the lower layer {LAYERS[mine][0]}"
                )
    return problems


def test_no_layer_imports_a_higher_one() -> None:
    assert _violations() == []


def test_the_guard_catches_an_import_that_runs_back() -> None:
    store_module = ROOT / "prometheus" / "store" / "reports.py"
    edited = store_module.read_text() + "\n\ndef later() -> None:\n    from prometheus.services import similar\n"
    assert _violations({store_module: edited}) == [
        "prometheus/store/reports.py:"
        f"{len(edited.splitlines())} imports prometheus.services (services) from the lower layer store",
        "prometheus/store/reports.py:"
        f"{len(edited.splitlines())} imports prometheus.services.similar (services) from the lower layer store",
    ]


@pytest.mark.parametrize("forbidden", ["sqlalchemy", "psycopg"])
def test_only_the_store_speaks_sql(forbidden: str) -> None:
    speakers = sorted(
        str(path.relative_to(ROOT))
        for path in _sources()
        if not _module_name(path).startswith("prometheus.store")
        and any(name == forbidden or name.startswith(forbidden + ".") for _, name in _imports(path))
    )
    assert speakers == []


def test_nothing_below_the_faces_imports_streamlit() -> None:
    importers = sorted(
        str(path.relative_to(ROOT))
        for path in _sources()
        if _module_name(path).startswith("prometheus.")
        and any(name == "streamlit" or name.startswith("streamlit.") for _, name in _imports(path))
    )
    assert importers == []


def test_pages_reach_data_only_through_services() -> None:
    direct = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in ROOT.joinpath("pages").glob("*.py")
        for _, name in _imports(path)
        if name.startswith(("prometheus.store", "prometheus.search", "prometheus.joint", "prometheus.encoders"))
    )
    assert direct == []


def test_no_module_is_over_the_size_limit() -> None:
    long = sorted(
        f"{path.relative_to(ROOT)}: {n} lines"
        for path in _sources()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    )
    assert long == []
