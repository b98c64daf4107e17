"""Websocket load: N concurrent chat sessions against the real server and planner, beside a bare echo.

    .venv/bin/python bench/ws_load.py                 # 200 sessions, 3 messages each, no think time
    .venv/bin/python bench/ws_load.py --sessions 50 --rounds 3 --json

Each session is its own user. It sends a brief (the planner makes a project and answers), then
follow-up chat lines on that project (the planner revises the storyboard and answers). The round
trip is from sending a message to receiving the director's `director_message` reply; any `error`
event, timeout or dropped connection counts as an error. Three runs with the same clients separate
the costs: `echo` (a bare FastAPI echo websocket), `protocol` (our server answering a message by itself:
auth'd connection, parse, validate, rate limit, hub, reply; no planner) and `director` (chat with the planner).

Both servers run as subprocesses on 127.0.0.1 (random free ports); the load generator is this process.
Goals (issue 17): protocol round trips p99 < 100 ms (baseline: the bare echo, same run) and 0 errors
in every run; the director's p99 is printed beside them (it is the planner's CPU, ~11-16 ms a message
on 2 cores, queued). Everything stops by itself (bounded rounds and a global timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastapi import FastAPI, WebSocket, WebSocketDisconnect  # module level: the echo route's annotations resolve here

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BRIEFS = [
    "A 12-second film: a lighthouse keeper at dusk watches a storm roll in, then lights the lamp.",
    "A 10-second vertical film of a cyclist crossing a city bridge at sunrise.",
    "Three shots of a cat waking up in a sunlit kitchen, cosy and warm.",
    "An 8-second film: rain on a tin roof, then a child running outside.",
]
FOLLOW_UPS = ["make shot 2 darker", "slower camera in the first shot", "add mist to the last shot",
              "make it warmer", "shot 1 closer"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- the two servers


def serve_director(port: int) -> None:
    import uvicorn

    from server.app import create_app

    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning")


def serve_echo(port: int) -> None:
    import uvicorn

    app = FastAPI()

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                msg = json.loads(await ws.receive_text())
                await ws.send_text(json.dumps({"type": "director_message", "project_id": msg.get("project_id") or "p-echo",
                                               "text": msg.get("text", "")}))
        except WebSocketDisconnect:
            pass

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start(mode: str, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, __file__, f"--serve-{mode}", str(port)], env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the {mode} server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the {mode} server did not start on port {port} within 60 s")


# ----------------------------------------------------------------------------- the clients


async def session(url: str, token: str | None, rounds: int, think: float, timeout: float, start_gate: asyncio.Event,
                  rtts: list[float], errors: list[str], connect_sem: asyncio.Semaphore, mode: str = "chat") -> None:
    from websockets.asyncio.client import connect

    try:
        async with connect_sem:
            ws = await asyncio.wait_for(connect(url + (f"?token={token}" if token else ""), max_queue=256), timeout)
    except Exception as err:  # noqa: BLE001 - every failure is a counted error
        errors.append(f"connect: {type(err).__name__}: {err}")
        return
    async with ws:
        await start_gate.wait()
        await asyncio.sleep(random.uniform(0, think))  # spread the first wave like people arriving
        project_id = None
        for i in range(rounds):
            if mode == "protocol":
                # Answered by the server's own protocol layer (parse, validate, rate limit, reply): no planner.
                message = {"type": "cancel", "project_id": "p-idle", "request_id": str(i)}
            else:
                text = random.choice(BRIEFS) if project_id is None else random.choice(FOLLOW_UPS)
                message = {"type": "user_message", "project_id": project_id, "text": text}
            t0 = time.perf_counter()
            await ws.send(json.dumps(message))
            try:
                while True:
                    event = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                    if mode == "protocol" and event.get("code") == "not_running":
                        rtts.append(time.perf_counter() - t0)
                        break
                    if event["type"] == "error":
                        errors.append(f"{event['code']}: {event['message']}")
                        break
                    if event["type"] == "director_message":
                        rtts.append(time.perf_counter() - t0)
                        project_id = project_id or event.get("project_id")
                        break
            except (TimeoutError, Exception) as err:  # noqa: BLE001
                errors.append(f"round {i}: {type(err).__name__}: {err}")
                return
            await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))


async def run_load(url: str, tokens: list[str | None], rounds: int, think: float, timeout: float, mode: str = "chat",
                   warmup_token: str | None = None) -> dict:
    if warmup_token is not None or mode == "chat":
        # One untimed session first: the server's first plan pays for lazy imports, not the measured ones.
        await session(url, warmup_token, 2, 0.0, 60.0, _set(asyncio.Event()), [], [], asyncio.Semaphore(1))
    rtts: list[float] = []
    errors: list[str] = []
    gate = asyncio.Event()
    sem = asyncio.Semaphore(32)
    tasks = [asyncio.create_task(session(url, t, rounds, think, timeout, gate, rtts, errors, sem, mode)) for t in tokens]
    await asyncio.sleep(0)
    t0 = time.perf_counter()
    gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=timeout * rounds + 600)
    wall = time.perf_counter() - t0
    return summarise(rtts, errors, wall)


def _set(event: asyncio.Event) -> asyncio.Event:
    event.set()
    return event


def summarise(rtts: list[float], errors: list[str], wall: float) -> dict:
    ms = sorted(x * 1000 for x in rtts)

    def pct(p: float) -> float | None:
        return round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))], 2) if ms else None

    return {"messages": len(ms), "errors": len(errors), "error_samples": sorted(set(errors))[:5],
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": round(ms[-1], 2) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 2) if ms else None, "wall_s": round(wall, 2),
            "msgs_per_s": round(len(ms) / wall, 1) if wall else None}


# ----------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="messages per session (the first is a brief)")
    ap.add_argument("--think", type=float, default=0.0, help="mean seconds between a reply and the next message (0: as fast as replies come, the issue-17 case)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one reply")
    ap.add_argument("--chat-workers", type=int, default=16, help="the server's chat threads (DIRECTOR_SERVER_CHAT_WORKERS)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--serve-director", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--serve-echo", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_director:
        serve_director(args.serve_director)
        return 0
    if args.serve_echo:
        serve_echo(args.serve_echo)
        return 0

    from storyboards.store import Store
    from storyboards.workspace import Workspace

    random.seed(1)
    results = {}
    with tempfile.TemporaryDirectory(prefix="ws-load-") as home:
        env = {**os.environ, "DIRECTOR_HOME": home, "DIRECTOR_BRAIN": "rules",
               # One budget per user; people chatting stay far below these.
               "DIRECTOR_SERVER_RATE_LIMIT_PER_MINUTE": "600", "DIRECTOR_SERVER_CHAT_WORKERS": str(args.chat_workers)}
        env.pop("DIRECTOR_DATABASE_URL", None)
        store = Store(workspace=Workspace(home).ensure())
        tokens = [store.create_user(f"load-{i}")[1] for i in range(args.sessions)]
        warmup = store.create_user("warmup")[1]
        store.close()

        # echo: bare FastAPI websocket; protocol: our server answering by itself; director: chat with the planner.
        for name, server, mode in (("echo", "echo", "chat"), ("protocol", "director", "protocol"),
                                   ("director", "director", "chat")):
            port = free_port()
            proc = start(server, port, env)
            try:
                results[name] = asyncio.run(run_load(
                    f"ws://127.0.0.1:{port}/ws", tokens if server == "director" else [None] * args.sessions,
                    args.rounds, args.think, args.timeout, mode, warmup if server == "director" else None))
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()

    results["config"] = {"sessions": args.sessions, "rounds": args.rounds, "think_s": args.think, "cpus": os.cpu_count(),
                         "chat_workers": args.chat_workers}
    p, d, e = results["protocol"], results["director"], results["echo"]
    errors = p["errors"] + d["errors"]
    results["goal"] = {"protocol_p99_under_100ms": p["p99_ms"] is not None and p["p99_ms"] < 100,
                       "zero_errors": errors == 0}
    if args.json:
        print(json.dumps(results))
    else:
        print(f"{args.sessions} websocket sessions x {args.rounds} chat messages, ~{args.think:g} s apart, {os.cpu_count()} CPUs")
        print(f"{'':10} {'msgs':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'msg/s':>7}")
        for mode in ("echo", "protocol", "director"):
            r = results[mode]
            print(f"{mode:10} {r['messages']:>6} {r['errors']:>6} {r['p50_ms']!s:>8} {r['p95_ms']!s:>8} {r['p99_ms']!s:>8} "
                  f"{r['max_ms']!s:>8} {r['msgs_per_s']!s:>7}")
            for e in r["error_samples"]:
                print(f"    {mode} error: {e}")
    from bench._goals import done, goal

    goal(f"websocket protocol p99, {args.sessions} sessions", p["p99_ms"] if p["p99_ms"] is not None else float("inf"),
         100, unit=" ms", baseline=f"bare FastAPI echo p99 {e['p99_ms']} ms, same run; director p99 {d['p99_ms']} ms")
    goal("websocket errors (protocol + director)", errors, 0, baseline=f"{p['messages'] + d['messages']} messages")
    done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
