"""Build the on-disk search index (and optionally its HNSW graph) ahead of the first query."""

from __future__ import annotations

import argparse
import time

from prometheus.config import Settings
from prometheus.encoders.joint import JOINT_PORTFOLIO_MODEL_ID
from prometheus.scripts._cli import EXIT_OK, add_db_args, entry, make_parser, say
from prometheus.search.approximate import faiss_available
from prometheus.services.similar import build_approximate, load_index
from prometheus.services.similar_database import build_database_index
from prometheus.store.stores import open_stores

EXAMPLES = """\
  python -m prometheus.scripts.build_search_index
  PROMETHEUS_APPROXIMATE_ABOVE=500000 python -m prometheus.scripts.build_search_index --approximate
The exact index is also built or extended on demand by the first search; the HNSW graph only here.
Searches use the graph only when PROMETHEUS_APPROXIMATE_ABOVE is set, the store holds at least that
many states, and the graph was built for the current data (otherwise they are exact).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("build_search_index", "Build or refresh the search index of a joint model.", EXAMPLES)
    parser.add_argument("--model-id", default=JOINT_PORTFOLIO_MODEL_ID, help="joint model")
    parser.add_argument("--approximate", action="store_true", help="also build the HNSW graph (needs faiss-cpu)")
    parser.add_argument(
        "--in-database",
        action="store_true",
        help="(re)build pgvector's HNSW index inside PostgreSQL (needs the vector extension)",
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    stores = open_stores(settings)
    began = time.perf_counter()
    if args.in_database:
        build_database_index(stores)
        say(f"pgvector HNSW index built in {time.perf_counter() - began:.1f} s")
    if args.approximate:
        if not faiss_available():
            say("error: the HNSW graph needs faiss-cpu: pip install faiss-cpu")
            return 2
        index, _ = build_approximate(stores, args.model_id)
    else:
        index = load_index(stores, args.model_id)
    say(
        f"{args.model_id}: {len(index)} states at data version {index.data_version}, "
        f"{index.matrix.shape[1]} active coordinates; {time.perf_counter() - began:.1f} s"
    )
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
