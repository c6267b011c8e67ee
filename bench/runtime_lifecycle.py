#!/usr/bin/env python3
"""Times OCI runtime container lifecycles, yurta-runtime vs runc.

Called by bench/runtime-lifecycle.sh, which prepares the bundle. One
"lifecycle" is what podman/conmon do with a runtime, as separate commands:

    RUNTIME create --bundle B --pid-file P ID   (container init waits)
    RUNTIME start ID                            (init execs `true`)
    wait for the init pid to exit               (waitpid: we are a subreaper, like conmon)
    RUNTIME delete ID

and "run" is the single command `RUNTIME run --bundle B ID` (create, start,
wait and delete in one process). Runtimes are alternated every iteration
(and which one goes first alternates too) so drift on the machine hits both.
"""

import argparse
import ctypes
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
STEPS = ("create", "start", "wait", "delete")


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER): errno {ctypes.get_errno()}")


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


ERRLOG = None  # runtime stderr; a file, not a pipe: the container inherits it


def sh(argv):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ERRLOG)
    if r.returncode != 0:
        ERRLOG.seek(0)
        tail = ERRLOG.read()[-2000:].decode(errors="replace")
        sys.exit(f"failed ({r.returncode}): {' '.join(argv)}\n{tail}")


def lifecycle(rt, root, bundle, cid):
    """Returns per-step seconds for create/start/wait/delete."""
    pidfile = os.path.join(root, cid + ".pid")
    base = [rt, "--root", root]
    t0 = time.perf_counter()
    sh(base + ["create", "--bundle", bundle, "--pid-file", pidfile, cid])
    t1 = time.perf_counter()
    with open(pidfile) as f:
        pid = int(f.read().strip())
    sh(base + ["start", cid])
    t2 = time.perf_counter()
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        # not our child (subreaper unavailable?): poll until it is gone
        while os.path.exists(f"/proc/{pid}"):
            time.sleep(0.0005)
    t3 = time.perf_counter()
    sh(base + ["delete", cid])
    t4 = time.perf_counter()
    os.unlink(pidfile)
    reap_orphans()
    return {"create": t1 - t0, "start": t2 - t1, "wait": t3 - t2, "delete": t4 - t3,
            "total": t4 - t0}


def run_once(rt, root, bundle, cid):
    t0 = time.perf_counter()
    sh([rt, "--root", root, "run", "--bundle", bundle, cid])
    t1 = time.perf_counter()
    reap_orphans()
    return t1 - t0


def pct(xs, p):
    """Nearest-rank percentile."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[int(k)]


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def version(rt):
    try:
        out = subprocess.run([rt, "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "?"
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--yurta", required=True)
    ap.add_argument("--runc", required=True)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--state", required=True, help="scratch dir for --root dirs")
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--gap", type=float, default=0.0,
                    help="idle seconds before each measured command sequence (0: back to back)")
    ap.add_argument("--json", help="also write raw samples here")
    a = ap.parse_args()

    global ERRLOG
    ERRLOG = open(os.path.join(a.state, "stderr.log"), "w+b")
    set_subreaper()
    rts = {"yurta-runtime": a.yurta, "runc": a.runc}
    roots = {}
    for name in rts:
        roots[name] = os.path.join(a.state, "root-" + name)
        os.makedirs(roots[name], exist_ok=True)

    m = machine()
    print(f"date:    {m['date']}")
    print(f"machine: nproc={m['nproc']}  cpu={m['cpu']}  kernel={m['kernel']}")
    for name, rt in rts.items():
        print(f"{name}: {rt} ({version(rt)})")
    print(f"iterations: {a.n} per runtime and mode (+{a.warmup} warm-up), alternating; "
          f"idle gap before each: {a.gap} s\n")

    samples = {name: {"lifecycle": [], "run": [], **{s: [] for s in STEPS}} for name in rts}
    pid = os.getpid()
    for i in range(-a.warmup, a.n):
        order = list(rts) if i % 2 == 0 else list(rts)[::-1]
        for name in order:
            tag = f"bench-{pid}-{i + a.warmup}"
            time.sleep(a.gap)
            lc = lifecycle(rts[name], roots[name], a.bundle, tag + "-lc")
            time.sleep(a.gap)
            r = run_once(rts[name], roots[name], a.bundle, tag + "-run")
            if i >= 0:
                samples[name]["lifecycle"].append(lc["total"])
                samples[name]["run"].append(r)
                for s in STEPS:
                    samples[name][s].append(lc[s])

    ms = lambda x: f"{x * 1000:.1f}"
    rows = [("lifecycle (create+start+wait+delete)", "lifecycle")] + \
        [(f"  {s}", s) for s in STEPS] + [("run (single command)", "run")]
    print("| measurement | yurta-runtime median ms | p90 | runc median ms | p90 | yurta/runc (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    ratios = {}
    for label, key in rows:
        y, r = samples["yurta-runtime"][key], samples["runc"][key]
        ym, rm = statistics.median(y), statistics.median(r)
        ratios[key] = ym / rm if rm else float("nan")
        print(f"| {label} | {ms(ym)} | {ms(pct(y, 90))} | {ms(rm)} | {ms(pct(r, 90))} | "
              f"{ratios[key]:.2f} |")
    print()
    for key in ("lifecycle", "run"):
        verdict = "meets" if ratios[key] <= 0.5 else "misses"
        print(f"{key}: yurta/runc = {ratios[key]:.2f} ({verdict} the <= 0.5 target)")

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"machine": m, "runtimes": rts, "samples": samples}, f, indent=1)


if __name__ == "__main__":
    main()
