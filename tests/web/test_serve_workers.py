"""`shuanglian serve` with SHUANGLIAN_WEB_WORKERS=2: two processes answer, with the same key."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from shuanglian.config import Settings
from shuanglian.db import make_engine
from shuanglian.migrate import upgrade_database
from tests.web.app_server import free_port

CLI = Path(sys.executable).with_name("shuanglian")


def _wait_for(url: str, proc: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def test_two_worker_processes_serve_the_site(tmp_path: Path) -> None:
    engine = make_engine(Settings(home=tmp_path, database_url=None))
    upgrade_database(engine)
    engine.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHUANGLIAN_")} | {
        "SHUANGLIAN_HOME": str(tmp_path),
        "SHUANGLIAN_WEB_WORKERS": "2",
    }
    proc = subprocess.Popen(
        [str(CLI), "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz", proc)
        for _ in range(6):  # whichever process answers, the page is served
            with urllib.request.urlopen(base + "/market", timeout=10) as response:
                assert response.status == 200
    finally:
        proc.terminate()
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    # uvicorn names each process it starts.
    assert output.decode().count("Started server process") == 2, output.decode()
    # The demo's key was generated once into HOME (the processes got it from serve).
    assert (tmp_path / "secret_key").exists()


def test_processes_share_the_connection_pool_out() -> None:
    from shuanglian.config import per_process

    one = Settings(db_pool_size=20, db_max_overflow=60)
    assert per_process(one) == one
    share = per_process(one.model_copy(update={"web_workers": 2}))
    assert (share.db_pool_size, share.db_max_overflow) == (10, 30)
    assert per_process(Settings(web_workers=64, db_pool_size=20)).db_pool_size == 1
