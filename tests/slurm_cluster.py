"""A real one-node Slurm for the tests: munge, slurmctld and slurmd started in a scratch directory, stopped by pid.

What works on this kind of machine (Debian's ``slurm-wlm`` and ``munge``, as root) is written up in
the project's shared notes: a munge key owned by ``munge``, a ``slurm.conf`` with every state and
log path under one scratch directory, ``proctrack/linuxproc``, ``task/none``, one node with the
machine's CPUs. ``missing_slurm()`` says why the tests must be skipped (no binaries, not root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue", "sacct")
MUNGE_DIRS = ("/etc/munge", "/run/munge", "/var/lib/munge", "/var/log/munge")


def missing_slurm() -> str | None:
    """Why a Slurm cannot be started here (None: it can)."""
    absent = [name for name in BINARIES if shutil.which(name) is None and not Path("/usr/sbin", name).exists()]
    if absent:
        return f"Slurm is not installed ({', '.join(absent)} missing): apt-get install slurm-wlm munge"
    if os.geteuid() != 0:
        return "starting slurmctld and slurmd needs root"
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "no munge user (apt-get install munge)"
    return None


def _binary(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _start_munge() -> int | None:
    """Start munged unless one runs; its pid when this call started it."""
    if _munged_pid() is not None:
        return None
    user = pwd.getpwnam("munge")
    for directory in MUNGE_DIRS:
        Path(directory).mkdir(parents=True, exist_ok=True)
        os.chown(directory, user.pw_uid, user.pw_gid)
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        key.write_bytes(os.urandom(1024))
    os.chown(key, user.pw_uid, user.pw_gid)
    key.chmod(0o400)
    subprocess.run(["su", "-s", "/bin/sh", "munge", "-c", _binary("munged")], check=True, timeout=30)
    deadline = time.monotonic() + 10
    while (pid := _munged_pid()) is None:  # munged forks into the background: wait for it
        if time.monotonic() > deadline:
            raise RuntimeError("munged did not start (see /var/log/munge/munged.log)")
        time.sleep(0.1)
    return pid


def _munged_pid() -> int | None:
    """The pid of a running munged (a zombie left by an earlier one does not count)."""
    found = subprocess.run(["pgrep", "-x", "-r", "R,S,D", "munged"], capture_output=True, text=True)
    return int(found.stdout.split()[0]) if found.returncode == 0 else None


def _config(root: Path) -> Path:
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    lines = [
        "ClusterName=catalogue-tests",
        f"SlurmctldHost={host}",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        f"StateSaveLocation={root}/state",
        f"SlurmdSpoolDir={root}/spool",
        f"SlurmctldPidFile={root}/slurmctld.pid",
        f"SlurmdPidFile={root}/slurmd.pid",
        f"SlurmctldLogFile={root}/slurmctld.log",
        f"SlurmdLogFile={root}/slurmd.log",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "ReturnToService=2",
        "MpiDefault=none",
        "SlurmctldPort=16817",
        "SlurmdPort=16818",
        f"NodeName={host} CPUs={cpus} RealMemory=4000 State=UNKNOWN",
        f"PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP",
    ]
    for name in ("state", "spool"):
        (root / name).mkdir(parents=True, exist_ok=True)
    path = root / "slurm.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def slurm_cluster(root: Path):
    """A running one-node cluster; yields the environment that points Slurm's commands at it."""
    munge_pid = _start_munge()
    config = _config(root)
    env = {**os.environ, "SLURM_CONF": str(config)}
    started: list[Path] = []
    try:
        for daemon, pid_file in (("slurmctld", root / "slurmctld.pid"), ("slurmd", root / "slurmd.pid")):
            subprocess.run([_binary(daemon), "-f", str(config)], env=env, check=True, timeout=60)
            started.append(pid_file)
        deadline = time.monotonic() + 60
        while True:
            state = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True, timeout=30).stdout.strip()
            if state in ("idle", "mix", "alloc"):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test cluster's node never became idle (sinfo: {state!r}); see {root}/slurmctld.log")
            time.sleep(0.5)
        yield env
    finally:
        for pid_file in reversed(started):
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
        if munge_pid is not None:
            with contextlib.suppress(OSError):
                os.kill(munge_pid, signal.SIGTERM)


def wait_for_queue(env: dict[str, str], timeout_s: float) -> None:
    """Wait until the test cluster's queue is empty; a job whose dependency can never be met fails at once."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        queued = subprocess.run(["squeue", "-h", "-o", "%i %T %r"], env=env, capture_output=True, text=True, timeout=30).stdout.strip()
        if not queued:
            return
        if "DependencyNeverSatisfied" in queued:
            raise RuntimeError(f"a job waits on jobs that failed: {queued}")
        time.sleep(1)
    raise TimeoutError(f"jobs still queued after {timeout_s} s")
