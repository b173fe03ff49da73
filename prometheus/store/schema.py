"""Tables, unique keys and versioned schema migrations.

One schema for SQLite and PostgreSQL. Migrations are numbered functions
applied in order inside a transaction and recorded in ``schema_migrations``;
opening a store on an empty database applies them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


def utc_now() -> datetime:
    return datetime.now(UTC)


schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

# A counter per data set, bumped in the same transaction as every write to it,
# so caches (search index, projections) can tell whether they are stale.
data_versions = sa.Table(
    "data_versions",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

# Facts about this database itself; "store_id" is a random id fixed at creation,
# so caches keyed on it never mistake a recreated database for the old one.
store_info = sa.Table(
    "store_info",
    metadata,
    sa.Column("key", sa.String(60), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

portfolio_risk_reports = sa.Table(
    "portfolio_risk_reports",
    metadata,
    sa.Column("report_id", sa.String(64), primary_key=True),
    sa.Column("portfolio_id", sa.String(200), nullable=False),
    sa.Column("as_of_date", sa.Date, nullable=False),
    sa.Column("portfolio_value", sa.Float),
    sa.Column("cash", sa.Float),
    sa.Column("net_exposure", sa.Float),
    sa.Column("gross_exposure", sa.Float),
    sa.Column("leverage", sa.Float),
    sa.Column("risk_metrics", JsonType, nullable=False),
    sa.Column("scenario_pnl", JsonType, nullable=False),
    sa.Column("exposures_by_sector", JsonType, nullable=False),
    sa.Column("exposures_by_factor", JsonType, nullable=False),
    sa.Column("metadata", JsonType, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("portfolio_id", "as_of_date", name="uq_reports_portfolio_date"),
    sa.Index("ix_reports_date", "as_of_date"),
)

numeric_window_embeddings = sa.Table(
    "numeric_window_embeddings",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("entity_type", sa.String(40), nullable=False),
    sa.Column("entity_id", sa.String(200), nullable=False),
    sa.Column("window_spec", JsonType, nullable=False),
    sa.Column("as_of_date", sa.Date, nullable=False),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # The data version at which this row was last written: caches extend themselves
    # by reading only rows with a revision above the version they hold.
    sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("entity_type", "entity_id", "as_of_date", "model_id", name="uq_numeric_entity_date_model"),
    sa.Index("ix_numeric_model_date", "model_id", "as_of_date"),
)

joint_embeddings = sa.Table(
    "joint_embeddings",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("joint_type", sa.String(60), nullable=False),
    sa.Column("as_of_date", sa.Date, nullable=False),
    sa.Column("entity_scope", JsonType, nullable=False),
    sa.Column("portfolio_id", sa.String(200), nullable=False),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint(
        "joint_type", "model_id", "portfolio_id", "as_of_date", name="uq_joint_type_model_portfolio_date"
    ),
    sa.Index("ix_joint_model_date", "model_id", "as_of_date"),
)

# Daily portfolio values (NAV) where the risk engine computed them. Forward outcomes and
# drawdown charts read these: reports hold one value per report date (often weekly), and a
# weekly series understates a forward max drawdown by over 2 points for 31% of demo states.
portfolio_values = sa.Table(
    "portfolio_values",
    metadata,
    sa.Column("portfolio_id", sa.String(200), nullable=False),
    sa.Column("as_of_date", sa.Date, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("portfolio_id", "as_of_date", name="pk_portfolio_values"),
)

# Fitted joint models, frozen: the parameters as canonical JSON with their checksum, the training
# window and the numeric data they were fitted on. The latest activated fit of a model is the one
# its backfills use; each joint state names its fit in entity_scope["fit_id"].
joint_model_fits = sa.Table(
    "joint_model_fits",
    metadata,
    sa.Column("fit_id", sa.String(64), primary_key=True),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("numeric_model_id", sa.String(100), nullable=False),
    sa.Column("train_end", sa.Date, nullable=False),
    sa.Column("numeric_data_version", sa.BigInteger, nullable=False),
    sa.Column("states", sa.Integer, nullable=False),
    sa.Column("parameters", sa.Text, nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_joint_model_fits_model", "model_id", "activated_at"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("job_id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("params", JsonType, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # queued, running, succeeded, failed, cancelled
    sa.Column("progress", sa.Integer, nullable=False, default=0),
    sa.Column("total", sa.Integer, nullable=False, default=0),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("error", sa.Text),
    sa.Column("result", JsonType),
    sa.Column("pid", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Index("ix_jobs_created", "created_at"),
)


def _create(*tables: sa.Table) -> Callable[[sa.Connection], None]:
    def apply(conn: sa.Connection) -> None:
        for table in tables:
            table.create(conn, checkfirst=True)

    return apply


def _add_revision_columns(conn: sa.Connection) -> None:
    inspector = sa.inspect(conn)
    for table in (numeric_window_embeddings, joint_embeddings):
        if "revision" not in {c["name"] for c in inspector.get_columns(table.name)}:
            conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN revision BIGINT NOT NULL DEFAULT 0"))
        # Plain DDL: an sa.Index built on these Table objects would attach itself to them.
        conn.execute(
            sa.text(f"CREATE INDEX IF NOT EXISTS ix_{table.name}_model_revision ON {table.name} (model_id, revision)")
        )


def _drop_joint_portfolio_index(conn: sa.Connection) -> None:
    # Every joint query filters on joint_type and model_id, so the unique key
    # (joint_type, model_id, portfolio_id, as_of_date) already serves portfolio
    # lookups; the extra index only slowed every write (about 20% of a bulk copy).
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_joint_embeddings_portfolio_id"))


def _create_store_identity(conn: sa.Connection) -> None:
    store_info.create(conn, checkfirst=True)
    if conn.execute(sa.select(store_info.c.value).where(store_info.c.key == "store_id")).scalar() is None:
        conn.execute(store_info.insert().values(key="store_id", value=str(uuid.uuid4())))


# Append only: never edit a migration that has shipped. Migrations 1-2 create
# tables as defined above; any later one must alter them with explicit,
# idempotent DDL (check before adding a column), since a fresh database gets
# the current table definitions from the first migrations.
MIGRATIONS: tuple[tuple[int, str, Callable[[sa.Connection], None]], ...] = (
    (
        1,
        "reports, numeric and joint embeddings, data versions",
        _create(data_versions, portfolio_risk_reports, numeric_window_embeddings, joint_embeddings),
    ),
    (2, "background jobs", _create(jobs)),
    (3, "row revisions, so caches can extend themselves", _add_revision_columns),
    (4, "store identity", _create_store_identity),
    (5, "drop the redundant joint portfolio_id index", _drop_joint_portfolio_index),
    (6, "daily portfolio values", _create(portfolio_values)),
    (7, "fitted joint models", _create(joint_model_fits)),
)

SCHEMA_VERSION = MIGRATIONS[-1][0]
