"""A small process supervisor: starts named processes in their own process groups, logs
each one's output to the run directory and every start, stop and kill with its time to
`events.jsonl`, and on exit (normal, an exception, Ctrl-C, SIGTERM) kills everything it
started, children included."""

import atexit
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path


class Supervisor:
    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.events_path = self.run_dir / "events.jsonl"
        self.processes = {}  # name -> (Popen, command, options)
        self.lock = threading.Lock()
        self.closed = False
        # Processes restarted when they exit on their own, as systemd's Restart=always
        # would (a task worker exits when the database is away).
        self.keep_alive = set()
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()
        atexit.register(self.stop_all)
        self._previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        self.event("supervisor", "signal", signal=signal.Signals(signum).name)
        self.stop_all()
        raise KeyboardInterrupt

    def event(self, name, what, **data):
        record = {"t": round(time.time(), 3), "process": name, "event": what, **data}
        with self.lock, self.events_path.open("a") as out:
            out.write(json.dumps(record) + "\n")
        return record

    def _watch(self):
        while not self.closed:
            for name in list(self.keep_alive):
                process = self.processes[name][0]
                if process.poll() is not None and name in self.keep_alive and not self.closed:
                    self.event(name, "exited", returncode=process.returncode)
                    time.sleep(1)
                    if name in self.keep_alive and not self.closed:
                        self.restart(name)
            time.sleep(0.5)

    def start(self, name, command, *, env=None, cwd=None, user=None, keep_alive=False):
        """Start `command` as `name` (a name in use is restarted with the same command);
        `keep_alive`: started again whenever it exits by itself."""
        log = (self.run_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=user,
        )
        log.close()
        with self.lock:
            self.processes[name] = (
                process,
                command,
                {"env": env, "cwd": cwd, "user": user, "keep_alive": keep_alive},
            )
        if keep_alive:
            self.keep_alive.add(name)
        self.event(name, "start", pid=process.pid, command=[str(part) for part in command])
        return process

    def restart(self, name):
        _process, command, options = self.processes[name]
        return self.start(name, command, **options)

    def pid(self, name):
        return self.processes[name][0].pid

    def alive(self, name):
        return name in self.processes and self.processes[name][0].poll() is None

    def send(self, name, sig, *, group=True):
        process = self.processes[name][0]
        self.event(name, "signal", signal=signal.Signals(sig).name, pid=process.pid)
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)

    def stop(self, name, *, sig=signal.SIGTERM, timeout=15):
        self.keep_alive.discard(name)
        process = self.processes[name][0]
        if process.poll() is None:
            self.send(name, sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.send(name, signal.SIGKILL)
                process.wait()
        # Whatever the process left behind in its group goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        self.event(name, "stopped", returncode=process.returncode)

    def kill(self, name):
        """SIGKILL the whole group, at once (a crash); the caller restarts it."""
        self.keep_alive.discard(name)
        process = self.processes[name][0]
        self.send(name, signal.SIGKILL)
        process.wait()
        self.event(name, "killed", returncode=process.returncode)

    def stop_all(self):
        if self.closed:
            return
        self.closed = True
        self.keep_alive.clear()
        for name in reversed(list(self.processes)):
            with contextlib.suppress(Exception):
                self.stop(name, timeout=10)
        for sig, handler in self._previous.items():
            with contextlib.suppress(Exception):
                signal.signal(sig, handler)
        atexit.unregister(self.stop_all)
