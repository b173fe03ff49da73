"""What each kind of job runs: params are built and checked at submit time, run by the worker.

Params are plain JSON (they live in the jobs table): dates as YYYY-MM-DD
strings. The functions named ``*_params`` build them, so no face writes the
JSON contract by hand.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from prometheus.config import Settings
from prometheus.errors import InvalidInput, PrometheusError
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID, joint_model
from prometheus.progress import Progress
from prometheus.report_files import parse_date
from prometheus.risk import FREQUENCIES
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.store.stores import Stores

BACKFILL = "backfill"
LOAD_DEMO = "load_demo"
PROJECTION = "projection"
IMPORT = "import"
FIT = "fit"
KINDS = (BACKFILL, LOAD_DEMO, PROJECTION, FIT, IMPORT)
PROJECTION_METHODS = ("pca", "umap")


def _optional_date(params: Mapping[str, Any], key: str) -> date | None:
    value = params.get(key)
    return parse_date(value, key.replace("_", "-")) if value else None


def backfill_params(
    dates: DateSelection, joint_model_ids: Sequence[str], portfolio_ids: Sequence[str] = (), limit: int | None = None
) -> dict[str, Any]:
    """The params of a backfill job (checked by :func:`validate` when submitted)."""
    return {
        "as_of": dates.as_of.isoformat() if dates.as_of else None,
        "start": dates.start.isoformat() if dates.start else None,
        "end": dates.end.isoformat() if dates.end else None,
        "joint_model_ids": list(joint_model_ids),
        "portfolio_ids": list(portfolio_ids),
        "limit": limit,
    }


REPORTS, ENGINE = "reports", "engine"  # an import's source: a report file, or the risk engine's four files
ENGINE_FILES = ("prices", "holdings", "benchmark", "sectors")


def import_params(
    source: str,
    files: Mapping[str, Path],
    *,
    skip_invalid: bool = False,
    file_format: str | None = None,
    frequency: str = "weekly",
    joint_model_ids: Sequence[str] = (DEFAULT_JOINT_MODEL_ID,),
) -> dict[str, Any]:
    """The params of an import job: uploaded files (``{"reports": path}`` or the engine's four), then both backfills."""
    return {
        "source": source,
        "files": {name: str(path) for name, path in files.items()},
        "skip_invalid": skip_invalid,
        "file_format": file_format,
        "frequency": frequency,
        "joint_model_ids": list(joint_model_ids),
    }


def import_request(params: Mapping[str, Any], settings: Settings) -> tuple[str, dict[str, Path]]:
    """The source and its files, each an upload of this deployment (a job reads and removes only those)."""
    from prometheus.services.uploads import is_upload

    source = params.get("source")
    wanted = ("reports",) if source == REPORTS else ENGINE_FILES if source == ENGINE else None
    if wanted is None:
        raise InvalidInput(f"source must be {REPORTS!r} or {ENGINE!r}, got {source!r}")
    files = params.get("files")
    if not isinstance(files, Mapping) or sorted(files) != sorted(wanted):
        raise InvalidInput(f"an import of {source} needs the files {', '.join(wanted)}")
    paths = {name: Path(str(files[name])) for name in wanted}
    for name, path in paths.items():
        if not is_upload(settings, path):
            raise InvalidInput(f"the {name} file is not an upload of this app")
        if not path.is_file():
            raise InvalidInput(
                f"the uploaded {name} file is gone (an import removes its files when it ends): upload it again"
            )
    if params.get("frequency", "weekly") not in FREQUENCIES:
        raise InvalidInput(f"frequency must be one of {', '.join(FREQUENCIES)}")
    backfill_models(params)
    return str(source), paths


def run_import(stores: Stores, params: Mapping[str, Any], report: Progress) -> dict[str, Any]:
    """Import (or build) the reports, then backfill numeric and joint states over their dates.

    Three steps on one bar; the uploaded files are removed at the end, whatever happens.
    """
    from prometheus.jobs.worker import Stopped
    from prometheus.services.importing import import_report_file
    from prometheus.services.risk_reports import build_and_store_reports
    from prometheus.services.uploads import discard_upload

    source, paths = import_request(params, stores.settings)
    try:

        def importing(done: int, total: int, message: str) -> None:
            report(1000 * done // total if total else 0, 3000, f"step 1/3: import: {message}")

        report(0, 3000, "step 1/3: import")
        try:
            if source == REPORTS:
                imported = import_report_file(
                    stores,
                    paths["reports"],
                    skip_invalid=bool(params.get("skip_invalid")),
                    file_format=params.get("file_format"),
                    label=paths["reports"].name,  # not the cache folder's path
                    progress=importing,
                )
                assert imported.check is not None
                first, last, line = imported.check.first_date, imported.check.last_date, imported.line()
                counts = {"imported": imported.imported, "skipped": imported.skipped_count}
            else:
                built = build_and_store_reports(
                    stores,
                    prices=paths["prices"],
                    holdings=paths["holdings"],
                    benchmark=paths["benchmark"],
                    sectors=paths["sectors"],
                    frequency=str(params.get("frequency", "weekly")),
                )
                first, last, line = built.first_date, built.last_date, built.line()
                counts = {"imported": built.reports, "skipped": 0}
        except Stopped:
            raise PrometheusError("stopped during the import: nothing was imported (run it again)") from None
        if first is None or last is None:
            return {**counts, "steps": [], "summary": f"{line}; nothing to embed"}

        def embedding(done: int, total: int, message: str) -> None:
            report(1000 + 2000 * done // total if total else 1000, 3000, f"step 2-3/3: {message}")

        models = backfill_models(params)
        backfill = run_backfill(stores, backfill_params(DateSelection(start=first, end=last), models), embedding)
        return {
            **counts,
            "first_date": first.isoformat(),
            "last_date": last.isoformat(),
            "steps": backfill["steps"],
            "summary": f"{line}; {backfill['summary']}",
        }
    finally:
        for path in paths.values():
            discard_upload(stores.settings, path)


def projection_job_params(model_id: str, method: str) -> dict[str, Any]:
    return {"model_id": model_id, "method": method}


def fit_params(model_id: str, train_end: date) -> dict[str, Any]:
    """The params of a fit job: fit the model on the states known by ``train_end``, then embed every state."""
    return {"model_id": model_id, "train_end": train_end.isoformat()}


def fit_request(params: Mapping[str, Any]) -> tuple[str, date]:
    model_id = params.get("model_id")
    if not isinstance(model_id, str):
        raise InvalidInput("model_id must be a joint model id")
    if not joint_model(model_id).needs_fit:
        raise InvalidInput(f"{model_id} has nothing to fit: it is not a fitted model")
    train_end = _optional_date(params, "train_end")
    if train_end is None:
        raise InvalidInput("a fit needs its training end date (train_end)")
    return model_id, train_end


def backfill_request(params: Mapping[str, Any]) -> BackfillRequest:
    limit = params.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise InvalidInput(f"limit must be a whole number, got {limit!r}")
    portfolio_ids = params.get("portfolio_ids") or []
    if not isinstance(portfolio_ids, list) or not all(isinstance(p, str) for p in portfolio_ids):
        raise InvalidInput("portfolio_ids must be a list of portfolio ids")
    dates = DateSelection(
        as_of=_optional_date(params, "as_of"),
        start=_optional_date(params, "start"),
        end=_optional_date(params, "end"),
    )
    return BackfillRequest(dates=dates, portfolio_ids=tuple(portfolio_ids), limit=limit)


def backfill_models(params: Mapping[str, Any]) -> list[str]:
    models = params.get("joint_model_ids") or [DEFAULT_JOINT_MODEL_ID]
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise InvalidInput("joint_model_ids must be a list of model ids")
    for model_id in models:
        joint_model(model_id)  # UnknownModel names the known ones
    return list(dict.fromkeys(models))


def projection_params(params: Mapping[str, Any]) -> tuple[str, str]:
    model_id = params.get("model_id") or DEFAULT_JOINT_MODEL_ID
    method = params.get("method") or "umap"
    if not isinstance(model_id, str) or method not in PROJECTION_METHODS:
        raise InvalidInput(f"method must be 'pca' or 'umap', got {method!r}")
    joint_model(model_id)
    return model_id, str(method)


def validate(kind: str, params: Mapping[str, Any], settings: Settings | None = None) -> None:
    """Raise the error the worker would raise on bad params, before any process starts."""
    if kind == BACKFILL:
        backfill_request(params)
        backfill_models(params)
    elif kind == PROJECTION:
        projection_params(params)
    elif kind == FIT:
        fit_request(params)
    elif kind == IMPORT:
        if settings is None:
            raise InvalidInput("an import job needs the deployment's settings to find its files")
        import_request(params, settings)
    elif kind != LOAD_DEMO:
        raise InvalidInput(f"unknown job kind '{kind}': known kinds are {', '.join(KINDS)}")


def run_backfill(stores: Stores, params: Mapping[str, Any], report: Progress) -> dict[str, Any]:
    """Numeric then joint for every joint model; one step of progress per backfill."""
    request = backfill_request(params)
    steps: list[tuple[str, str, str | None]] = []  # (label, numeric model, joint model or None)
    seen_numeric: set[str] = set()
    for joint_id in backfill_models(params):
        numeric_id = joint_model(joint_id).numeric_model_id
        if numeric_id not in seen_numeric:
            steps.append((f"numeric embeddings ({numeric_id})", numeric_id, None))
            seen_numeric.add(numeric_id)
        steps.append((f"joint embeddings ({joint_id})", numeric_id, joint_id))
    summaries: list[dict[str, Any]] = []
    lines: list[str] = []
    for index, (label, step_numeric, step_joint) in enumerate(steps):

        def progress(done: int, total: int, unit: str, index: int = index, label: str = label) -> None:
            # Progress over all steps as one bar, in thousandths of a step; the message has real counts.
            share = 1000 * done // total if total else 1000
            report(
                index * 1000 + share,
                len(steps) * 1000,
                f"step {index + 1}/{len(steps)}: {label}: {done}/{total} {unit}",
            )

        report(index * 1000, len(steps) * 1000, f"step {index + 1}/{len(steps)}: {label}")
        if step_joint is None:
            summary = backfill_numeric(stores, step_numeric, request, progress)
        else:
            summary = backfill_joint(stores, step_numeric, step_joint, request, progress)
        summaries.append(summary.as_dict())
        lines.append(summary.line())
    return {"steps": summaries, "summary": "; ".join(lines)}


def jsonable(value: Any) -> Any:
    """A result as JSON-safe values: dataclasses, dates and counters flattened."""
    if hasattr(value, "as_dict") and callable(value.as_dict):
        return jsonable(value.as_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def run_load_demo(stores: Stores, params: Mapping[str, Any], report: Progress) -> dict[str, Any]:
    from prometheus.services import demo

    began = time.perf_counter()
    summary = demo.load_demo(stores, progress=report)
    result = jsonable(summary)
    if not isinstance(result, dict):
        result = {"summary": result}
    result["line"] = summary.line()
    result.setdefault("seconds", round(time.perf_counter() - began, 3))
    return result


def run_projection(stores: Stores, params: Mapping[str, Any], report: Progress) -> dict[str, Any]:
    """Fit a map in the background; the page then reads it from the on-disk cache."""
    from prometheus.services.maps import store_map

    model_id, method = projection_params(params)
    stored = store_map(stores, model_id, method, report)
    return {
        "model_id": model_id,
        "method": method,
        "rows": stored.rows,
        "data_version": stored.data_version,
        "data_stamp": stored.data_stamp,
        "source": stored.source,
    }


def run_fit(stores: Stores, params: Mapping[str, Any], report: Progress) -> dict[str, Any]:
    """Fit the model, then embed every stored state with the new fit (old states are rewritten)."""
    from prometheus.services.fitting import fit_joint_model

    model_id, train_end = fit_request(params)
    model = joint_model(model_id)
    report(0, 2000, f"step 1/2: fitting {model_id} on the states known by {train_end.isoformat()}")
    fitted = fit_joint_model(stores, model_id, model.numeric_model_id, train_end)
    days = stores.numeric.dates(model.numeric_model_id)
    summary_line = fitted.line()
    if days:

        def progress(done: int, total: int, unit: str) -> None:
            share = 1000 * done // total if total else 1000
            report(1000 + share, 2000, f"step 2/2: joint embeddings ({model_id}): {done}/{total} {unit}")

        request = BackfillRequest(DateSelection(start=days[0], end=days[-1]))
        backfill = backfill_joint(stores, model.numeric_model_id, model_id, request, progress)
        summary_line += f"; {backfill.line()}"
    return {"model_id": model_id, "fit_id": fitted.fit_id, "train_end": train_end.isoformat(), "summary": summary_line}


RUNNERS: dict[str, Callable[[Stores, Mapping[str, Any], Progress], dict[str, Any]]] = {
    BACKFILL: run_backfill,
    LOAD_DEMO: run_load_demo,
    PROJECTION: run_projection,
    FIT: run_fit,
    IMPORT: run_import,
}


def result_message(kind: str, result: Mapping[str, Any]) -> str:
    """The one line shown for a finished job."""
    if kind in (BACKFILL, FIT) and result.get("summary"):
        return str(result["summary"])
    if kind == LOAD_DEMO:
        line = result.get("line") or result.get("summary")
        if isinstance(line, str):
            return line
        return "demo book loaded"
    if kind == PROJECTION:
        return f"{str(result.get('method', '')).upper()} map of {result.get('rows', 0):,} states ready"
    if kind == IMPORT and result.get("summary"):
        return str(result["summary"])
    return "done"
