"""Run commands inside the emulated arm64 rootfs that ``pi_rootfs.sh`` builds.

The kernel's binfmt_misc entry (registered by ``pi_rootfs.sh``) hands every aarch64 program
to ``qemu-aarch64-static``, so a plain ``chroot`` runs them; ``QEMU_CPU`` picks the CPU model
qemu emulates (cortex-a72: Raspberry Pi 4, cortex-a76: Raspberry Pi 5).

qemu-user 7.2 passes the host's /proc/cpuinfo (an x86 one) through, and XNNPACK's cpuinfo
then crashes the interpreter (segfault), or, without /sys, fails and TFLite silently runs its
reference kernels instead of XNNPACK. So /sys is mounted and /proc/cpuinfo is covered with
the text a Pi 4 / Pi 5 prints (:data:`CPUINFO`); the CPU features (AT_HWCAP) stay qemu's own.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

# Inside the rootfs: what the driver copies in (wheels, models, frames) and writes there.
GUEST_WORK = "/opt/edgedet-pi"
# What an interactive Pi shell would have; HOME is where the guide's venv goes.
GUEST_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root",
             "LANG": "C.UTF-8", "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
             "PYTHONUNBUFFERED": "1"}


# What /proc/cpuinfo says on a Raspberry Pi 4 (BCM2711) and 5 (BCM2712), per core.
CPUINFO = {
    "cortex-a72": ("fp asimd evtstrm crc32 cpuid", "0x0", "0xd08", "3"),
    "cortex-a76": ("fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid "
                   "asimdrdm lrcpc dcpop asimddp", "0x4", "0xd0b", "1"),
}


def cpuinfo_text(cpu: str, cores: int) -> str:
    """A /proc/cpuinfo for ``cores`` cores of ``cpu`` (a key of CPUINFO)."""
    if cpu not in CPUINFO:
        raise ValueError(f"no /proc/cpuinfo text for CPU {cpu!r}; known: {', '.join(CPUINFO)}")
    features, variant, part, revision = CPUINFO[cpu]
    return "\n".join(
        f"processor\t: {i}\nBogoMIPS\t: 108.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\n"
        f"CPU architecture: 8\nCPU variant\t: {variant}\nCPU part\t: {part}\nCPU revision\t: {revision}\n"
        for i in range(cores))


@dataclass
class Result:
    """One command's outcome inside the rootfs."""

    command: str
    returncode: int
    output: str
    seconds: float

    def check(self, what: str) -> "Result":
        """Raise RuntimeError naming ``what`` failed, with the output's tail, on non-zero exit."""
        if self.returncode != 0:
            raise RuntimeError(f"{what} failed in the emulated system (exit {self.returncode}): "
                               f"{self.command}\n{self.output[-3000:]}")
        return self


class Chroot:
    """The rootfs with /proc and /dev mounted while in use (a context manager)."""

    def __init__(self, rootfs: Path):
        self.rootfs = rootfs
        self.work = rootfs / GUEST_WORK.lstrip("/")
        self._mounted: list[Path] = []
        self._cpu: Optional[str] = None

    def __enter__(self) -> "Chroot":
        # One user at a time: a second one's exit would unmount /proc under the first.
        self._lock = open(self.rootfs.parent / f"{self.rootfs.name}.lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise RuntimeError(f"{self.rootfs} is in use by another pi_emulated run") from None
        for source, target, args in (("proc", "proc", ["-t", "proc"]), ("/dev", "dev", ["--bind"]),
                                     ("/sys", "sys", ["--bind"])):
            path = self.rootfs / target
            if not os.path.ismount(path):
                subprocess.run(["mount", *args, source, str(path)], check=True)
                self._mounted.append(path)
        shutil.copy2("/etc/resolv.conf", self.rootfs / "etc/resolv.conf")
        self.work.mkdir(parents=True, exist_ok=True)
        return self

    def use_cpu(self, cpu: str) -> None:
        """Cover the guest's /proc/cpuinfo with ``cpu``'s text (once per CPU change)."""
        if cpu == self._cpu:
            return
        target = self.rootfs / "proc/cpuinfo"
        if self._cpu is not None:
            subprocess.run(["umount", str(target)], check=True)
            self._mounted.remove(target)
        text = self.rootfs.parent / f"cpuinfo-{cpu}"
        text.write_text(cpuinfo_text(cpu, os.cpu_count() or 1))
        subprocess.run(["mount", "--bind", str(text), str(target)], check=True)
        self._mounted.append(target)
        self._cpu = cpu

    def __exit__(self, *exc) -> None:
        for path in reversed(self._mounted):
            subprocess.run(["umount", "-l", str(path)], check=False)
        self._mounted.clear()
        self._cpu = None
        self._lock.close()

    def copy_in(self, source: Path, name: Optional[str] = None) -> str:
        """Copy a file or folder into the guest's work folder; returns its guest path."""
        target = self.work / (name or source.name)
        if target.is_dir():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        return f"{GUEST_WORK}/{name or source.name}"

    def host_path(self, guest_path: str) -> Path:
        """The host path of a file the guest wrote."""
        return self.rootfs / guest_path.lstrip("/")

    def run(self, command: str, cpu: str, timeout_s: float = 1800,
            env: Optional[dict[str, str]] = None, nice: bool = True) -> Result:
        """``bash -c command`` inside the rootfs, qemu emulating ``cpu``; never raises on failure
        (see :meth:`Result.check`). ``nice``: lowest priority, so host benchmarks are not disturbed."""
        self.use_cpu(cpu)
        argv: Sequence[str] = ["chroot", str(self.rootfs), "/bin/bash", "-c", command]
        if nice:
            argv = ["nice", "-n", "19", *argv]
        full_env = {**GUEST_ENV, "QEMU_CPU": cpu, **(env or {})}
        start = time.monotonic()
        try:
            done = subprocess.run(argv, env=full_env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=timeout_s)
            code, output = done.returncode, done.stdout
        except subprocess.TimeoutExpired as exc:
            code = 124
            output = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) \
                else (exc.stdout or "")
            output += f"\n[timed out after {timeout_s:.0f} s]"
        return Result(command, code, output, time.monotonic() - start)
