"""TensorBoard as a user sees it: start the real server on a logdir, ask its HTTP data API, screenshot it.

`serve(logdir)` starts `tensorboard --logdir LOGDIR --host 127.0.0.1 --port 0 --load_fast false` (the
port the OS picks is read from the server's first line) and yields its URL; `get_json(url, path)`
asks one of the endpoints TensorBoard's web page calls (`/data/runs`, `/data/plugin/images/tags`,
`/data/plugin/hparams/session_groups`, `/data/plugin/projector/info?run=...`, ...).

`python -m lightning_ae.tbserver --logdir logs --out logs/screenshots` (`make tensorboard-screenshots`)
renders each dashboard (scalars, images, hparams, projector, time series) with headless Chromium
(Debian's `chromium` package) into PNG files for a person to look at.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

# dashboard name -> URL fragment (what TensorBoard's tabs link to; the scalars tab filtered to the
# charts that compare runs, as a user would type into its tag filter)
DASHBOARDS = {"scalars": "#scalars&tagFilter=" + urllib.parse.quote("^(train/loss|val/loss|val/mse|test/mse)$", safe=""),
              "images": "#images", "hparams": "#hparams", "projector": "#projector", "timeseries": "#timeseries"}
# window (width, height) per dashboard: the hparams table is wide (hyperparameter and metric columns),
# the images page long (a card per tag and run)
WINDOWS = {"images": (1400, 2200), "hparams": (2000, 1000), "timeseries": (1400, 1600)}
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")


def tensorboard_command() -> list[str]:
    """The `tensorboard` beside this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("tensorboard")
    return [str(beside)] if beside.is_file() else [shutil.which("tensorboard") or "tensorboard"]


@contextlib.contextmanager
def serve(logdir: str | Path, timeout: float = 120.0, reload_interval: int = 1) -> Iterator[str]:
    """Run TensorBoard on `logdir` (127.0.0.1, a free port); yield its base URL; stop it afterwards."""
    log = tempfile.NamedTemporaryFile("w+", prefix="tensorboard-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [*tensorboard_command(), "--logdir", str(logdir), "--host", "127.0.0.1", "--port", "0",
         "--load_fast", "false", "--reload_interval", str(reload_interval)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    try:
        deadline, url = time.monotonic() + timeout, None
        while url is None:
            match = re.search(r"(http://127\.0\.0\.1:\d+)/", Path(log.name).read_text())
            if match:
                url = match.group(1)
            elif proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tensorboard did not start: {Path(log.name).read_text()[-2000:]}")
            else:
                time.sleep(0.2)
        while True:  # the URL is printed before the first load of the logdir has finished
            try:
                get_json(url, "/data/runs")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)


def get_json(url: str, path: str, data: dict | None = None, timeout: float = 30.0, raw: bool = False):
    """GET (or, with `data`, POST as JSON) `url + path` and parse the JSON answer (`raw`: the text)."""
    request = urllib.request.Request(url + path)
    if data is not None:
        request.data = json.dumps(data).encode()
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return body.decode() if raw else json.loads(body)


def query(**params) -> str:
    return "?" + urllib.parse.urlencode(params)


def wait_for(url: str, path: str, ready, timeout: float = 60.0, data: dict | None = None):
    """Poll `path` until `ready(answer)` is true (the server loads the logdir in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = get_json(url, path, data)
        if ready(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(url: str, out: Path, window: tuple[int, int] = (1400, 1000), budget_ms: int = 15000) -> Path:
    """Render `url` with headless Chromium into the PNG file `out`."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("no chromium on PATH: `apt-get install -y chromium` (Debian) installs it")
    out = out.resolve()  # chromium runs in its profile folder
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}",
             f"--window-size={window[0]},{window[1]}", f"--virtual-time-budget={budget_ms}", url],
            check=True, capture_output=True, timeout=180, cwd=profile,
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", default="logs", help="the logdir TensorBoard serves")
    parser.add_argument("--out", default="logs/screenshots", help="folder of the PNG files")
    parser.add_argument("--dashboards", nargs="*", default=list(DASHBOARDS), choices=list(DASHBOARDS))
    parser.add_argument("--window", action="append", default=[], metavar="NAME=WxH",
                        help="window size of one dashboard, e.g. hparams=2800x1000 (a wide table)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    windows = dict(WINDOWS)
    for item in args.window:
        name, size = item.split("=")
        windows[name] = tuple(int(v) for v in size.lower().split("x"))
    with serve(args.logdir) as url:
        wait_for(url, "/data/plugins_listing", lambda plugins: all(
            plugins.get(name, {}).get("enabled") for name in ("scalars", "images", "hparams")), timeout=60)
        for name in args.dashboards:
            path = screenshot(f"{url}/{DASHBOARDS[name]}", out / f"{name}.png", windows.get(name, (1400, 1000)))
            print(path)


if __name__ == "__main__":
    main()
