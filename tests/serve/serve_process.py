"""Starts `clause serve --port 0` and reads the port it prints: shared by the serve tests."""
import re
import signal
import subprocess
import time


def start(argv, out_path, err_path, timeout=10):
    """Runs argv (a `clause serve ... --port 0` command); gives (process, port or None)."""
    proc = subprocess.Popen(argv, stdout=open(out_path, "w"), stderr=open(err_path, "w"))
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(r"listening on 127\.0\.0\.1:(\d+),", open(out_path).read())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    return proc, None


def wait_until(predicate, seconds=10.0):
    """Polls predicate until it holds or the time is up; gives whether it held at the end."""
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def stop(proc, seconds=10):
    """Stops a process with SIGTERM, then SIGKILL when it has not ended within `seconds`."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
