"""Fit and store the map (PCA or UMAP) of every state, so the app serves it from the cache folder."""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID
from prometheus.scripts._cli import EXIT_OK, ProgressBar, add_db_args, entry, make_parser, open_command_stores, say
from prometheus.services.maps import store_map

EXAMPLES = """\
  python -m prometheus.scripts.build_map --method umap
  PROMETHEUS_CACHE_DIR=/srv/prometheus/cache python -m prometheus.scripts.build_map --method umap
A read-only deployment never fits a UMAP map itself (minutes of CPU, gigabytes of memory): it serves
the map this command stores for the current data, from the same cache folder (PROMETHEUS_CACHE_DIR,
else the folder 'cache' beside a SQLite store, else ~/.prometheus/cache). Reading the store is enough:
the command writes only the cache folder, so it also runs against a read-only store.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("build_map", "Fit and store the 2-D map of every state of a joint model.", EXAMPLES)
    parser.add_argument("--model-id", default=DEFAULT_JOINT_MODEL_ID, help="joint model")
    parser.add_argument("--method", choices=("pca", "umap"), default="umap", help="projection (default: umap)")
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    stores = open_command_stores(settings)
    bar = ProgressBar("map")
    try:
        stored = store_map(stores, args.model_id, args.method, progress=bar)
    finally:
        bar.close()
    say(stored.line())
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
