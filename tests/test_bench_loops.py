"""bench/loops.py runs at tiny size and prints its JSON figures last."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_loops_bench_tiny_run_reports_agreeing_figures():
    cmd = [sys.executable, str(ROOT / "bench" / "loops.py"), "--n", "40", "--steps", "7",
           "--block", "0.005", "--reps", "1"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["benchmark"] == "loops" and res["steps"] == 7
    assert res["one_kernel"] and all(res["agree"].values())
    assert {"fg-eager", "fg-jit-plan", "fg-jit"} <= set(res["ms"])
