"""Build the on-disk search index (and optionally its HNSW graph) ahead of the first query."""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID
from prometheus.scripts._cli import EXIT_OK, add_db_args, entry, make_parser, open_command_stores, say
from prometheus.services.indexing import build_indexes

EXAMPLES = """\
  python -m prometheus.scripts.build_search_index
  PROMETHEUS_APPROXIMATE_ABOVE=500000 python -m prometheus.scripts.build_search_index --approximate
The exact index is also built or extended on demand by the first search; the HNSW graph only here.
Searches use the graph only when PROMETHEUS_APPROXIMATE_ABOVE is set, the store holds at least that
many states, and the graph was built for the current data (otherwise they are exact).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("build_search_index", "Build or refresh the search index of a joint model.", EXAMPLES)
    parser.add_argument("--model-id", default=DEFAULT_JOINT_MODEL_ID, help="joint model")
    parser.add_argument("--approximate", action="store_true", help="also build the HNSW graph (needs faiss-cpu)")
    parser.add_argument(
        "--in-database",
        action="store_true",
        help="(re)build pgvector's HNSW index inside PostgreSQL (needs the vector extension)",
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    summary = build_indexes(
        open_command_stores(settings), args.model_id, approximate=args.approximate, in_database=args.in_database
    )
    say(summary.line())
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
