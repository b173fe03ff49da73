"""Joint models by id: built once per process and shared (a model is immutable once built).

A fitted model (``needs_fit``) is registered unbound: its metadata serve every
lookup, and :func:`fitted_joint_model` binds it to the store's active fit (the
parameters parsed once per fit id) when it must embed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from prometheus.errors import UnknownModel, shown
from prometheus.joint.core_v2 import CORE_V2_MODEL_ID, CoreV2Model, CoreV2Parameters, NotFitted
from prometheus.joint.models import JOINT_PORTFOLIO_MODEL_ID, IdentityNumericJointModel, JointModel
from prometheus.store.embeddings import JointEmbeddingStore
from prometheus.store.stores import Stores

_FACTORIES: dict[str, Callable[[], JointModel]] = {
    JOINT_PORTFOLIO_MODEL_ID: IdentityNumericJointModel,
    CORE_V2_MODEL_ID: CoreV2Model,
}
DEFAULT_JOINT_MODEL_ID = JOINT_PORTFOLIO_MODEL_ID


def joint_model_ids() -> list[str]:
    """Every registered joint model, sorted."""
    return sorted(_FACTORIES)


@functools.cache
def joint_model(model_id: str) -> JointModel:
    """The model registered under ``model_id`` (UnknownModel names the known ones); fitted models unbound."""
    try:
        factory = _FACTORIES[model_id]
    except KeyError:
        known = ", ".join(sorted(_FACTORIES))
        raise UnknownModel(f"unknown joint model {shown(model_id)}: known models are {known}") from None
    return factory()


@functools.lru_cache(maxsize=16)
def _bound(model_id: str, fit_id: str, parameters: str) -> JointModel:
    model = joint_model(model_id)
    assert isinstance(model, CoreV2Model)
    return model.bound(CoreV2Parameters.from_json(parameters), fit_id)


def fitted_joint_model(stores: Stores, model_id: str) -> JointModel:
    """The model ready to embed: bound to the store's active fit when it needs one (NotFitted without)."""
    model = joint_model(model_id)
    if not model.needs_fit:
        return model
    fit = stores.fits.active(model_id)
    if fit is None:
        raise NotFitted(
            f"{model_id} has not been fitted on this store: fit it on the states up to a training end date "
            "first (fit_joint_model)"
        )
    return _bound(model_id, fit.fit_id, fit.parameters)


def joint_store(stores: Stores, model_id: str) -> tuple[JointModel, JointEmbeddingStore]:
    """The joint model and the store of its states: the one way any layer reaches a model's states."""
    model = joint_model(model_id)
    return model, stores.joint(model.joint_type)
