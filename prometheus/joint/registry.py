"""Joint models by id: built once per process and shared (a model is immutable once built)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from prometheus.errors import UnknownModel, shown
from prometheus.joint.models import JOINT_PORTFOLIO_MODEL_ID, IdentityNumericJointModel, JointModel
from prometheus.store.embeddings import JointEmbeddingStore
from prometheus.store.stores import Stores

_FACTORIES: dict[str, Callable[[], JointModel]] = {
    JOINT_PORTFOLIO_MODEL_ID: IdentityNumericJointModel,
}
DEFAULT_JOINT_MODEL_ID = JOINT_PORTFOLIO_MODEL_ID


def joint_model_ids() -> list[str]:
    """Every registered joint model, sorted."""
    return sorted(_FACTORIES)


@functools.cache
def joint_model(model_id: str) -> JointModel:
    """The model registered under ``model_id`` (UnknownModel names the known ones)."""
    try:
        factory = _FACTORIES[model_id]
    except KeyError:
        known = ", ".join(sorted(_FACTORIES))
        raise UnknownModel(f"unknown joint model {shown(model_id)}: known models are {known}") from None
    return factory()


def joint_store(stores: Stores, model_id: str) -> tuple[JointModel, JointEmbeddingStore]:
    """The joint model and the store of its states: the one way any layer reaches a model's states."""
    model = joint_model(model_id)
    return model, stores.joint(model.joint_type)
