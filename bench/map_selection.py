"""Box selections of ~500, ~7,000 and every state on the Map, in real Chromium, timed from mouse-down to settled.

    python bench/map_selection.py --db-url sqlite:////path/to/demo.db
    python bench/map_selection.py --db-url ... --against /tmp/main-checkout   # before/after in one run
    python bench/map_selection.py --db-url ... --profile                       # where the browser's time goes

Starts `streamlit run app.py` on the store (and, with ``--against``, the app of another
checkout, e.g. ``git worktree add /tmp/main-checkout main``), opens the Map (PCA, coloured by
date, stress rings on) in Debian's headless Chromium and drags a box with the mouse in
``--steps`` moves, as an analyst does. Each box is sized in the browser, from the drawn
figure, to hold about the wanted number of states. Before every sample the page is reloaded
(untimed), so each drag starts from the same unselected map. One warm-up round, then
``--repeats`` rounds; in each round every size is measured on each app in turn (A/B
interleaved: the machine's load drifts).

Per sample: "moves" = mouse-down to the last move handled by the page (Playwright waits for
the page to take each input event); "sent" = mouse-down to the selection leaving the browser
(the websocket frame, with its size); "settled" = mouse-down to "N state(s) selected" shown
and the page settled (bench/ui_speed.py's definition). "browser CPU" and "server CPU": CPU
seconds (user + system, from /proc) that Chromium's processes and the Streamlit servers
spent from mouse-down to settled: less sensitive than wall time to other work on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.load_app import CHROMIUM, CHROMIUM_ARGS, streamlit_app  # noqa: E402
from bench.ui_speed import Runs, settle  # noqa: E402

SIZES = {"~500 states": 500, "~7,000 states": 7_000, "every state": 0}  # 0: the whole plotting area
MAP_DRAWN = {"css": ".st-key-map_chart .main-svg"}
SELECTED = re.compile(r"([\d,]+) state\(s\) selected")

# A box (page coordinates) around the cloud's middle holding about ``target`` states (the traces
# with customdata: the states, not the rings); target 0: the whole plotting area, 3 px inside.
BOX_JS = """(target) => {
  const gd = document.querySelector('.st-key-map_chart .js-plotly-plot');
  const area = gd.querySelector('.nsewdrag').getBoundingClientRect();
  if (!target) return {x0: area.left + 3, y0: area.top + 3, x1: area.right - 3, y1: area.bottom - 3, count: -1};
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const px = [], py = [];
  for (const t of gd._fullData) {
    if (!t.customdata || !t.visible) continue;
    for (let i = 0; i < t._length; i++) { px.push(xa.c2p(t.x[i])); py.push(ya.c2p(t.y[i])); }
  }
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const cx = median(px), cy = median(py);
  const inside = (a) => {
    let n = 0;
    for (let i = 0; i < px.length; i++)
      if (Math.abs(px[i] - cx) <= a * area.width && Math.abs(py[i] - cy) <= a * area.height) n++;
    return n;
  };
  let low = 0, high = 1;
  for (let k = 0; k < 30; k++) { const mid = (low + high) / 2; if (inside(mid) < target) low = mid; else high = mid; }
  const clampX = (v) => Math.min(Math.max(v, 3), area.width - 3);
  const clampY = (v) => Math.min(Math.max(v, 3), area.height - 3);
  return {x0: area.left + clampX(cx - high * area.width), y0: area.top + clampY(cy - high * area.height),
          x1: area.left + clampX(cx + high * area.width), y1: area.top + clampY(cy + high * area.height),
          count: inside(high)};
}"""


@dataclass
class Sample:
    moves: float
    sent: float
    sent_bytes: int
    settled: float
    script_done: float
    selected: int
    browser_cpu: float
    server_cpu: float


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds so far of this process's descendants: (Chromium's processes, Streamlit servers)."""
    tick = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            head, _, rest = (entry / "stat").read_text().rpartition(")")
            fields = rest.split()
            used = (int(fields[11]) + int(fields[12])) / tick
            table[int(entry.name)] = (int(fields[1]), head.partition("(")[2], used)
    mine = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, (parent, _, _) in table.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    browser = sum(table[p][2] for p in mine if p in table and "chrom" in table[p][1])
    server = sum(table[p][2] for p in mine if p in table and "python" in table[p][1] and p != os.getpid())
    return browser, server


@dataclass
class Sent:
    """Frames the page sends on its websockets: when, and how big (the selection is the big one)."""

    frames: list[tuple[float, int]] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        def on_frame(payload: bytes | str) -> None:
            self.frames.append((time.perf_counter(), len(payload)))

        page.on("websocket", lambda ws: ws.on("framesent", on_frame))

    def largest_after(self, began: float) -> tuple[float, int]:
        after = [f for f in self.frames if f[0] >= began]
        return max(after, key=lambda f: f[1]) if after else (float("nan"), 0)


def open_map(page: Any, runs: Runs, url: str) -> None:
    mark = runs.snapshot()
    page.goto(f"{url}/map", wait_until="commit")
    settle(page, runs, mark, time.perf_counter(), MAP_DRAWN)
    page.wait_for_selector(".st-key-map_chart .nsewdrag")


def drag(page: Any, box: dict[str, float], steps: int) -> None:
    page.mouse.move(box["x0"], box["y0"])
    page.mouse.down()
    half = max(1, steps // 2)
    page.mouse.move((box["x0"] + box["x1"]) / 2, (box["y0"] + box["y1"]) / 2, steps=half)
    page.mouse.move(box["x1"], box["y1"], steps=max(1, steps - half))


def select(page: Any, runs: Runs, sent: Sent, url: str, target: int, steps: int) -> Sample:
    open_map(page, runs, url)
    box = page.evaluate(BOX_JS, target)
    mark = runs.snapshot()
    cpu = cpu_seconds()
    began = time.perf_counter()
    drag(page, box, steps)
    page.mouse.up()
    moved = time.perf_counter()
    settled, done = settle(page, runs, mark, began, {"text": "state(s) selected"})
    browser, server = (after - before for after, before in zip(cpu_seconds(), cpu, strict=True))
    at, size = sent.largest_after(began)
    found = SELECTED.search(page.inner_text("[data-testid='stMain']"))
    count = int(found.group(1).replace(",", "")) if found else -1
    return Sample(moved - began, at - began, size, settled, done, count, browser, server)


def profile(page: Any, runs: Runs, url: str, target: int, steps: int, top: int) -> None:
    """One drag under the V8 sampling profiler: self time per function (with its source, minified)."""
    open_map(page, runs, url)
    box = page.evaluate(BOX_JS, target)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 500})
    cdp.send("Profiler.start")
    mark = runs.snapshot()
    began = time.perf_counter()
    drag(page, box, steps)
    page.mouse.up()
    settled, _ = settle(page, runs, mark, began, {"text": "state(s) selected"})
    result = cdp.send("Profiler.stop")["profile"]
    nodes = {n["id"]: n for n in result["nodes"]}
    self_us: dict[int, float] = defaultdict(float)
    for node_id, delta in zip(result["samples"], result["timeDeltas"], strict=True):
        self_us[node_id] += delta
    by_function: dict[tuple[str, str, int, int], float] = defaultdict(float)
    for node_id, us in self_us.items():
        frame = nodes[node_id]["callFrame"]
        key = (frame["functionName"] or "(anonymous)", frame["url"], frame["lineNumber"], frame["columnNumber"])
        by_function[key] += us
    total = sum(by_function.values())
    print(
        f"\nprofile of one drag over {target or 'every'} state(s): settled in {settled:.2f} s, "
        f"{total / 1e6:.2f} s sampled on the page's main thread; top self time:"
    )
    sources: dict[str, str] = {}
    for (name, script, line, column), us in sorted(by_function.items(), key=lambda kv: -kv[1])[:top]:
        snippet = ""
        if script.startswith("http"):
            if script not in sources:
                with contextlib.suppress(Exception):
                    sources[script] = page.evaluate("(u) => fetch(u).then(r => r.text())", script)
            text = sources.get(script, "").splitlines()
            if line < len(text):
                snippet = text[line][column : column + 110].replace("\n", " ")
        where = f"{script.rsplit('/', 1)[-1]}:{line}:{column}" if script else ""
        print(f"  {us / 1e3:8.0f} ms {100 * us / total:5.1f}%  {name} {where}  {snippet}")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", required=True, help="store to serve, e.g. the demo book")
    parser.add_argument("--against", type=Path, help="another checkout whose app is measured side by side (before)")
    parser.add_argument("--repeats", type=int, default=3, help="measured rounds after one warm-up")
    parser.add_argument("--steps", type=int, default=16, help="mouse moves per drag")
    parser.add_argument("--only", help="only sizes whose name contains this")
    parser.add_argument("--profile", action="store_true", help="profile one drag over ~7,000 and every state")
    parser.add_argument("--top", type=int, default=25, help="functions listed per profile")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print("error: Chromium not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    sizes = {k: v for k, v in SIZES.items() if not args.only or args.only in k}
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prometheus-map-selection-")))
        (home / "a").mkdir()
        (home / "b").mkdir()
        apps = {"this checkout": stack.enter_context(streamlit_app(args.db_url, home / "a"))}
        if args.against:
            before = stack.enter_context(streamlit_app(args.db_url, home / "b", project=args.against.resolve()))
            apps = {f"before ({args.against})": before, "after (this checkout)": apps["this checkout"]}
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(300_000)
        runs, sent = Runs(), Sent()
        runs.watch(page)
        sent.watch(page)
        print(f"load average at start: {load_average()}", flush=True)
        if args.profile:
            for target in (7_000, 0):
                for name, url in apps.items():
                    print(f"\n== {name}")
                    profile(page, runs, url, target, args.steps, args.top)
            return 0
        samples: dict[tuple[str, str], list[Sample]] = defaultdict(list)
        for round_ in range(args.repeats + 1):
            for size, target in sizes.items():
                for name, url in apps.items():
                    sample = select(page, runs, sent, url, target, args.steps)
                    label = "warm-up" if round_ == 0 else f"round {round_}"
                    print(
                        f"  {label} {size} {name}: {sample.selected:,} selected, moves {sample.moves:.2f} s, "
                        f"sent {sample.sent:.2f} s ({sample.sent_bytes / 1e6:.2f} MB), script done "
                        f"{sample.script_done:.2f} s, settled {sample.settled:.2f} s, CPU browser "
                        f"{sample.browser_cpu:.2f} s server {sample.server_cpu:.2f} s",
                        flush=True,
                    )
                    if round_:
                        samples[(size, name)].append(sample)
        print(f"load average at end: {load_average()}\n")
        print(f"median of {args.repeats} after a warm-up, {args.steps} mouse moves per drag, seconds from mouse-down")
        print(
            "| box | app | states selected | moves s | sent s | selection sent | script done s | settled s "
            "| browser CPU s | server CPU s |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (size, name), values in samples.items():
            med = lambda f, values=values: statistics.median(f(v) for v in values)  # noqa: E731
            print(
                f"| {size} | {name} | {med(lambda v: v.selected):,.0f} | {med(lambda v: v.moves):.2f} | "
                f"{med(lambda v: v.sent):.2f} | {med(lambda v: v.sent_bytes) / 1e6:.2f} MB | "
                f"{med(lambda v: v.script_done):.2f} | {med(lambda v: v.settled):.2f} | "
                f"{med(lambda v: v.browser_cpu):.2f} | {med(lambda v: v.server_cpu):.2f} |"
            )
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
