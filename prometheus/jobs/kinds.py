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
from typing import Any

from prometheus.errors import InvalidInput
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID, joint_model
from prometheus.progress import Progress
from prometheus.report_files import parse_date
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.store.stores import Stores

BACKFILL = "backfill"
LOAD_DEMO = "load_demo"
PROJECTION = "projection"
FIT = "fit"
KINDS = (BACKFILL, LOAD_DEMO, PROJECTION, FIT)
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


def validate(kind: str, params: Mapping[str, Any]) -> None:
    """Raise the error the worker would raise on bad params, before any process starts."""
    if kind == BACKFILL:
        backfill_request(params)
        backfill_models(params)
    elif kind == PROJECTION:
        projection_params(params)
    elif kind == FIT:
        fit_request(params)
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
    return "done"
