"""A throwaway PostgreSQL cluster for the tests, listening on a Unix socket only.

Used by tests/conftest.py (started once per test session) and runnable by hand:
    python tests/pg_server.py start   # prints the URL, leaves the server running
    python tests/pg_server.py stop DIR
As root (CI), the server runs as the ``postgres`` user, since PostgreSQL
refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PORT = 54329


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise PostgresUnavailable("PostgreSQL server binaries not found (install them: apt-get install -y postgresql)")


@dataclass
class Server:
    base: Path
    bindir: Path
    run_as: str | None
    # Tests trade durability for speed; the benchmark keeps PostgreSQL's defaults
    # (fsync, synchronous_commit, full_page_writes on), as production would.
    durable: bool = False

    @property
    def socket_dir(self) -> Path:
        return self.base / "socket"

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={PORT}"

    def _run(self, *args: str) -> None:
        command = [str(a) for a in args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip().splitlines()[-1:]}"
            )

    def start(self) -> None:
        self._run(
            self.bindir / "initdb",
            "-D",
            self.data_dir,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        )
        self.resume()

    def pause(self) -> None:
        """Stop the server but keep its data (a restart test resumes it)."""
        self._run(self.bindir / "pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        options = f"-k {self.socket_dir} -p {PORT} -c listen_addresses='' -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            self.bindir / "pg_ctl",
            "-D",
            self.data_dir,
            "-l",
            self.base / "server.log",
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(self.bindir / "pg_ctl", "-D", self.data_dir, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def start_server(durable: bool = False) -> Server:
    bindir = find_bindir()
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root but there is no 'postgres' user to run the server") from None
        run_as = "postgres"
    base = Path(tempfile.mkdtemp(prefix="prometheus-pg-"))
    (base / "socket").mkdir()
    if run_as:
        entry = pwd.getpwnam(run_as)
        for path in (base, base / "socket"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    server = Server(base, bindir, run_as, durable)
    try:
        server.start()
    except Exception:
        shutil.rmtree(base, ignore_errors=True)
        raise
    return server


def main(argv: list[str]) -> int:
    if argv[:1] == ["start"]:
        try:
            server = start_server()
        except PostgresUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(server.url())
        print(f"stop with: python tests/pg_server.py stop {server.base}", file=sys.stderr)
        return 0
    if argv[:1] == ["stop"] and len(argv) == 2:
        Server(Path(argv[1]), find_bindir(), "postgres" if os.geteuid() == 0 else None).stop()
        return 0
    print("usage: python tests/pg_server.py start | stop DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
