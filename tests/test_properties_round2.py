"""Round 2 of the generated-input suite (hypothesis): the faces' parsers, maskers, escapers and writers.

Each property feeds one boundary with what an adversary would send: numbers in any script and
of any length, settings and secrets of any shape, database URLs with secrets in every place,
ids full of Markdown, HTML and spreadsheet formulas, browser-sent row numbers, job params of
any JSON, damaged cache files, CLI flags and environments. Every case must end in a value or a
one-line domain error: no traceback, no other exception, no secret fragment, no markup, no
partial write. The number of cases is summed at the end of the run (conftest.py), under the
deterministic "ci" profile.
"""

from __future__ import annotations

import csv
import html
import io
import re
import string
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prometheus.config import FALSE_WORDS, TRUE_WORDS, Settings
from prometheus.errors import InvalidInput, PrometheusError
from prometheus.numbers import MAX_DIGITS, InvalidNumber, parse_whole, row_number, whole_or_none
from prometheus.presenters.csv_files import FORMULA_STARTS, csv_text, neutralise
from prometheus.presenters.markup import WORD_JOINER, markdown_text, plotly_text
from prometheus.urls import MIN_FRAGMENT, check_database_url, mask_url, redact, url_secrets


def cases(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


numberish = st.one_of(
    st.text(max_size=25),
    st.text(alphabet="0123456789-+ _.²¹³٣١۲߁〇", max_size=25),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
)


@cases(2000)
@given(value=numberish, low=st.one_of(st.none(), st.integers(-100, 100)), span=st.integers(0, 10**6))
def test_numbers_from_outside_are_whole_ascii_numbers_or_one_line_refusals(
    value: object, low: int | None, span: int
) -> None:
    high = None if low is None else low + span
    try:
        parsed = parse_whole(value, low, high)
    except InvalidNumber as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400
        assert whole_or_none(value, low, high) is None
        return
    assert isinstance(parsed, int) and not isinstance(parsed, bool)
    assert (low is None or parsed >= low) and (high is None or parsed <= high)
    if isinstance(value, str):
        assert re.fullmatch(rf"-?[0-9]{{1,{MAX_DIGITS}}}", value) and parsed == int(value)


@cases(1000)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), st.integers(), st.none()))
def test_row_numbers_sent_by_a_browser(value: object) -> None:
    row = row_number(value)
    assert row is None or (isinstance(row, int) and row >= 0)


switch_words = st.one_of(
    st.sampled_from([*TRUE_WORDS, *FALSE_WORDS, "y", "enabled", "2", "TRUE", " on "]), st.text(max_size=8)
)
secret_values = st.one_of(
    st.text(max_size=8), st.booleans(), st.integers(-5, 10**20), st.none(), st.floats(allow_nan=True)
)


@cases(1000)
@given(
    read_only=st.one_of(st.none(), switch_words),
    approximate=st.one_of(st.none(), numberish.map(str)),
    top=st.dictionaries(
        st.sampled_from(["access_code", "read_only", "db_url", "approximate_above", "backfill_chunk", "other"]),
        secret_values,
        max_size=3,
    ),
    table=st.one_of(
        st.none(),
        st.dictionaries(st.sampled_from(["access_code", "read_only", "cache_dir"]), secret_values, max_size=3),
        st.integers(),
    ),
)
def test_settings_are_understood_exactly_or_refused_in_one_line(
    read_only: str | None, approximate: str | None, top: dict[str, object], table: object
) -> None:
    environ = {
        k: v for k, v in {"PROMETHEUS_READ_ONLY": read_only, "PROMETHEUS_APPROXIMATE_ABOVE": approximate}.items() if v
    }
    secrets: dict[str, object] = dict(top)
    if table is not None:
        secrets["prometheus"] = table
    try:
        resolved = Settings.from_sources(environ=environ, secrets=secrets)
    except InvalidInput as exc:
        assert "\n" not in str(exc)
        return
    assert resolved.backfill_chunk >= 1
    if read_only:
        assert resolved.read_only is (read_only.strip().lower() in TRUE_WORDS)
        assert read_only.strip().lower() in (*TRUE_WORDS, *FALSE_WORDS)
    if isinstance(table, dict) and "access_code" in table and table["access_code"] not in (None, False, ""):
        assert resolved.access_code is not None  # a code in either place is never dropped
    if isinstance(top.get("access_code"), str) and top["access_code"]:
        assert resolved.access_code is not None


# Secrets from an alphabet no other part of the URL uses, so any leaked fragment is found.
SECRET_ALPHABET = "QZXJKVY!#%^~"  # not "*" (the mask itself), no digits (the port)
secrets_text = st.text(alphabet=SECRET_ALPHABET, min_size=MIN_FRAGMENT, max_size=16)
plain = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)


@st.composite
def hostile_urls(draw: st.DrawFn) -> tuple[str, set[str]]:
    password = draw(secrets_text)
    kind = draw(st.sampled_from(["userinfo", "query", "at-in-password", "bad-port", "not-a-url", "upper-query"]))
    user, host, db = draw(plain), draw(plain), draw(plain)
    if kind == "userinfo":
        return f"postgresql+psycopg://{user}:{password}@{host}:5432/{db}", {password}
    if kind == "query":
        name = draw(st.sampled_from(["password", "sslpassword", "Password", "token", "sslkeypassword"]))
        return f"postgresql://{user}@{host}/{db}?sslmode=require&{name}={password}", {password}
    if kind == "upper-query":
        return f"postgresql://{user}@{host}/{db}?PASSWORD={password}&application_name={db}", {password}
    if kind == "at-in-password":
        cut = draw(st.integers(1, len(password) - 1))
        return f"postgresql://{user}:{password[:cut]}@{password[cut:]}@{host}/{db}", {password}
    if kind == "bad-port":
        return f"postgresql://{user}:{password}@{host}:{draw(plain)}/{db}", {password}
    return password, {password}


def _fragments(secret: str) -> list[str]:
    return [secret[i : i + MIN_FRAGMENT] for i in range(len(secret) - MIN_FRAGMENT + 1)]


@cases(1500)
@given(case=hostile_urls())
def test_no_fragment_of_a_secret_survives_masking_checking_or_redaction(case: tuple[str, set[str]]) -> None:
    url, secrets = case
    shown_texts = [mask_url(url)]
    try:
        check_database_url(url)
    except PrometheusError as exc:
        assert "\n" not in str(exc)
        shown_texts.append(str(exc))
    # a driver's message that echoes the whole URL and what it took for the host
    host_guess = url.split("@")[1] if url.count("@") > 1 else "db"
    echoed = f'connection to "{url}" failed: could not translate host name "{host_guess}" to address'
    shown_texts.append(redact(echoed, url_secrets(url)))
    for text in shown_texts:
        for secret in secrets:
            leaked = [f for f in _fragments(secret) if f in text]
            assert not leaked, (text, secret)


@cases(2000)
@given(
    text=st.one_of(
        st.text(max_size=60),
        st.sampled_from(
            [
                "[x](http://e)",
                "![p](http://e/p.png)",
                "**b**",
                ":red[c]",
                "$x$",
                "www.e.org",
                "a@b.org",
                "`c`",
                "<b>h</b>",
            ]
        ),
    )
)
def test_markdown_text_shows_the_characters_it_was_given(text: str) -> None:
    out = markdown_text(text)
    assert "\n" not in out and "\r" not in out
    i = 0
    while i < len(out):  # every ASCII punctuation mark is escaped: no construct can start
        if out[i] == "\\":
            assert i + 1 < len(out) and out[i + 1] in string.punctuation, out
            i += 2
            continue
        assert out[i] not in string.punctuation, f"unescaped {out[i]!r} in {out!r}"
        i += 1
    assert not re.search(r"(https?:/|www\.|@[\w-])", re.sub(r"\\(.)", r"\1", out))  # no autolink can match
    visible = re.sub(r"\\(.)", r"\1", out).replace(WORD_JOINER, "")
    assert visible == " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else visible == text


@cases(1500)
@given(text=st.text(max_size=60))
def test_plotly_text_has_no_tags(text: str) -> None:
    out = plotly_text(text)
    assert "<" not in out and ">" not in out and html.unescape(out) == text


cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from(FORMULA_STARTS).flatmap(lambda s: st.text(max_size=10).map(lambda t: s + t)),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers().map(str),
)


@cases(1200)
@given(rows=st.lists(st.lists(cells, min_size=2, max_size=2), max_size=5))
def test_csv_never_carries_a_formula_and_raw_csv_round_trips(rows: list[list[str]]) -> None:
    safe = list(csv.reader(io.StringIO(csv_text(["a", "b"], rows), newline="")))
    assert len(safe) == len(rows) + 1
    for written, given_row in zip(safe[1:], rows, strict=True):
        assert written == [neutralise(c) for c in given_row]
        for cell in written:
            assert not cell.startswith(FORMULA_STARTS) or re.fullmatch(r"[+-]?[0-9.eE+-]+", cell)
    raw = list(csv.reader(io.StringIO(csv_text(["a", "b"], rows, raw=True), newline="")))
    assert raw[1:] == rows


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


@cases(800)
@given(
    kind=st.sampled_from(["backfill", "projection", "load_demo", "rebuild", ""]),
    params=st.dictionaries(
        st.sampled_from(
            ["as_of", "start", "end", "limit", "portfolio_ids", "joint_model_ids", "model_id", "method", "x"]
        ),
        json_values,
        max_size=5,
    ),
)
def test_job_params_of_any_json_are_accepted_or_refused_in_one_line(kind: str, params: dict[str, object]) -> None:
    from prometheus.jobs import kinds

    try:
        kinds.validate(kind, params)
    except PrometheusError as exc:
        assert "\n" not in str(exc)


# ---------------------------------------------------------------- cache files and CLIs, on real stores


@pytest.fixture(scope="module")
def cached_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, list[tuple[str, date]]]:
    from test_index import MODEL, _grid, _vectors, _write

    from prometheus.search.loading import load_index
    from prometheus.services.similar import SimilarQuery, find_similar
    from prometheus.store.stores import open_stores

    folder = tmp_path_factory.mktemp("cache-props")
    url = f"sqlite:///{folder / 'db.sqlite'}"
    stores = open_stores(Settings(db_url=url, cache_dir=folder / "cache"))
    pids, days = _grid(5, 8)
    _write(stores, pids, days, _vectors(len(pids), 11))
    load_index(stores, MODEL)
    answer = [
        (n.portfolio_id, n.as_of_date)
        for n in find_similar(stores, SimilarQuery(MODEL, "PF_001", days[0], top_k=7)).neighbours
    ]
    stores.dispose()
    return url, folder / "cache", answer


@cases(120)
@given(
    target=st.sampled_from(
        ["matrix.npy", "codes.npy", "dates.npy", "sources.npy", "active.npy", "meta.json", "current"]
    ),
    damage=st.one_of(st.binary(max_size=64), st.integers(0, 400).map(lambda n: ("truncate", n))),
)
def test_a_damaged_index_file_never_changes_an_answer(
    cached_store: tuple[str, Path, list[tuple[str, date]]], target: str, damage: object
) -> None:
    from test_index import MODEL

    from prometheus.services.similar import SimilarQuery, find_similar
    from prometheus.store.stores import open_stores

    url, cache, answer = cached_store
    stores = open_stores(Settings(db_url=url, cache_dir=cache))
    try:
        folder = next(cache.rglob("current")).parent
        path = folder / target if target == "current" else folder / (folder / "current").read_text().strip() / target
        if isinstance(damage, bytes):
            path.write_bytes(damage)
        else:
            path.write_bytes(path.read_bytes()[: damage[1]])  # type: ignore[index]
        result = find_similar(
            stores, SimilarQuery(MODEL, "PF_001", answer[0][1] if False else date(2000, 1, 3), top_k=7)
        )
        assert [(n.portfolio_id, n.as_of_date) for n in result.neighbours] == answer
    finally:
        stores.dispose()


@cases(600)
@given(
    limit=numberish.map(str),
    approximate=st.one_of(st.none(), numberish.map(str).filter(lambda v: "\x00" not in v)),  # no NUL in an env var
    read_only=st.one_of(st.none(), switch_words.filter(lambda v: "\x00" not in v)),
    raw=st.booleans(),
)
def test_cli_flags_and_environment_give_csv_or_one_line(
    cached_store: tuple[str, Path, list[tuple[str, date]]],
    capsys: pytest.CaptureFixture[str],
    limit: str,
    approximate: str | None,
    read_only: str | None,
    raw: bool,
) -> None:
    import os

    from prometheus.scripts import show_joint_portfolios
    from prometheus.scripts._cli import run

    url = cached_store[0]
    env = {"PROMETHEUS_APPROXIMATE_ABOVE": approximate, "PROMETHEUS_READ_ONLY": read_only}
    saved = {k: os.environ.get(k) for k in env}
    for key, value in env.items():
        if value:
            os.environ[key] = value
        else:
            os.environ.pop(key, None)
    argv = ["--start", "2000-01-01", "--limit", limit, "--db-url", url, *(["--raw-csv"] if raw else [])]
    try:
        try:
            code = run(show_joint_portfolios.build_parser(), show_joint_portfolios.main, argv)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    out, err = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert out == "" and len(err.strip().splitlines()) == 1
    else:
        rows = list(csv.reader(io.StringIO(out, newline="")))
        assert rows[0] == ["as_of_date", "portfolio_id", "model_id", "dim", "l2_norm"]
        assert 1 <= len(rows) - 1 <= int(limit)


def test_the_suite_is_deterministic() -> None:
    from hypothesis import settings as current

    assert current.default.derandomize and current.default.database is None
    assert np.__name__  # numpy imported for the cache property's fixtures
