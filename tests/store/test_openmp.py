"""The e5 engine's OpenMP settings: passive beside busy processes, libgomp's own spinning on a quiet machine,
a deployment's settings and variables set by hand winning."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kbase.settings import Settings
from kbase.store.embeddings import _machine_is_quiet, _others_running

ROOT = Path(__file__).resolve().parents[2]
SHOW_POLICY = ("from kbase.store.embeddings import make_embeddings; import os; make_embeddings('e5-small')"
               ".embed_query('测试'); print(os.environ.get('OMP_WAIT_POLICY', ''), os.environ.get('OMP_NUM_THREADS', ''))")


def test_auto_sleeps_beside_busy_processes_and_spins_as_libgomp_does_on_a_quiet_machine():
    assert Settings().openmp_environment(quiet=False) == {"OMP_WAIT_POLICY": "PASSIVE"}
    assert Settings().openmp_environment(quiet=True) == {}
    assert Settings(omp_wait_policy="active", omp_threads=1).openmp_environment(quiet=False) == {
        "OMP_WAIT_POLICY": "ACTIVE", "OMP_NUM_THREADS": "1"}


def test_a_cpu_bound_process_is_seen_running():
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 10
        while _others_running() < 1:  # a busy loop is runnable at every moment once it has started
            assert time.monotonic() < deadline, "the CPU-bound process was never counted"
            time.sleep(0.05)
        assert not _machine_is_quiet()  # so auto sleeps beside it
    finally:
        burner.kill()
        burner.wait()


@pytest.mark.parametrize("by_hand, settings, expected", [
    ({}, {"POLICYBOT_OMP_WAIT_POLICY": "passive", "POLICYBOT_OMP_THREADS": "1"}, "PASSIVE 1"),
    ({"OMP_WAIT_POLICY": "ACTIVE"}, {"POLICYBOT_OMP_WAIT_POLICY": "passive"}, "ACTIVE"),
])
def test_the_deployment_chooses_and_variables_set_by_hand_win(by_hand, settings, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_", "POLICYBOT_OMP_"))}
    shown = subprocess.run([sys.executable, "-c", SHOW_POLICY], cwd=ROOT, env={**env, **by_hand, **settings},
                           capture_output=True, text=True, check=True).stdout.strip()
    assert shown == expected
