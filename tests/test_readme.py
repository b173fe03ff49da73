"""The README is the contract: its feature table and commands must match the code."""

import re
from pathlib import Path

from prometheus.encoders.feature_schema import schema_markdown

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")


def test_feature_table_matches_the_schema() -> None:
    assert schema_markdown() in README


def test_ci_runs_exactly_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    test_command = next(b for b in blocks if "pytest" in b and "venv" in b)
    assert test_command.strip() in CI


def test_every_documented_command_exists() -> None:
    scripts = Path(__file__).resolve().parent.parent / "prometheus" / "scripts"
    for name in set(re.findall(r"python -m prometheus\.scripts\.([a-z_]+)", README)):
        assert (scripts / f"{name}.py").exists(), name
