"""What a cached result of a page depends on: the databases and the data versions of its inputs."""

from __future__ import annotations

import hashlib

from prometheus.errors import UnknownModel
from prometheus.joint.registry import joint_model, joint_model_ids
from prometheus.store.embeddings import joint_version_name
from prometheus.store.fits import FITS_VERSION
from prometheus.store.reports import REPORTS_VERSION
from prometheus.store.stores import Stores
from prometheus.store.values import VALUES_VERSION


def data_version_key(stores: Stores, model_id: str) -> str:
    """Changes whenever the data a page shows may have changed: database, reports, embeddings.

    Each data version comes with the random stamp of the write that made it, so a backup
    restored in place, or another copy of the database put at the same path, is never
    served the results computed for the data that was there before. The URLs are hashed
    so the key never carries a password into logs or messages.
    """
    settings = stores.settings
    where = hashlib.sha256(f"{settings.db_url}|{settings.effective_runtime_url}".encode()).hexdigest()[:16]
    try:
        numeric_id = joint_model(model_id).numeric_model_id
    except UnknownModel:
        numeric_id = ""
    stamps = [
        stores.runtime.data_stamp(REPORTS_VERSION),
        stores.runtime.data_stamp(VALUES_VERSION),
        stores.numeric.data_stamp(numeric_id),
        stores.historical.data_stamp(joint_version_name(model_id)),
    ]
    # The pages also show every other model's counts and fits (overview, pickers, backfill).
    for other in joint_model_ids():
        if other != model_id:
            stamps.append(stores.historical.data_stamp(joint_version_name(other)))
        if joint_model(other).needs_fit:
            stamps.append(stores.historical.data_stamp(f"{FITS_VERSION}:{other}"))
    return f"{where}:{model_id}:" + ".".join(stamp.key for stamp in stamps)


def joint_data_stamp(stores: Stores, model_id: str) -> str:
    """The data version and stamp of one joint model's states, as one key (what a stored map records)."""
    return stores.historical.data_stamp(joint_version_name(model_id)).key
