"""SIGTERM while clients are asking: every request in flight comes back answered (or a clean 503), none is cut,
and the server exits 0 — with one process and with two."""
from __future__ import annotations

import asyncio

import pytest

from kbase.bench.soak import _terminate_under_load
from kbase.bench.webserver import ServeProcess
from tests.channels.conftest import STAFF_TOKEN


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_under_load_cuts_no_request(web_env, workers):
    server = ServeProcess(web_env(), workers=workers)
    with server:
        fates = asyncio.run(_terminate_under_load(server, STAFF_TOKEN, clients=10))
    assert fates["cut"] == 0 and fates["other"] == 0 and fates["answered"] > 0, fates
    assert fates["exit code"] == 0 and "Traceback" not in server.stderr(), server.stderr()
