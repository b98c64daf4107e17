"""The store: a real SQLite file and a real PostgreSQL database (each test runs on both; PostgreSQL
when DIRECTOR_TEST_DATABASE_URL names a server), reopened from other processes, shared by threads
and processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from storyboards.examples import EXAMPLES_DIR
from storyboards.schema import Critique, Cut, Shot, Storyboard, Take, TakeStatus
from storyboards.store import Store, VersionConflict, normalise_name
from storyboards.workspace import Workspace
from storyboards.yamlio import load_storyboard

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def store(ws, database_url):
    with Store(database_url, workspace=ws) as s:
        yield s


def _take(take_id: str, shot_id: str = "opening", spec: str = "s1", seed: int = 1, **kw) -> Take:
    return Take(id=take_id, shot_id=shot_id, key=f"k-{take_id}", spec_key=spec, backend="animatic", seed=seed,
                width=512, height=288, frames=48, fps=24, **kw)


def _env(url: str) -> dict:
    return {**os.environ, "DIRECTOR_DATABASE_URL": url}


def _run(code: str, *args: str, url: str) -> str:
    """Run Python in a fresh interpreter (a different process opening the same database)."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=_env(url))
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_opening_creates_the_database_inside_the_workspace_and_migrates_it(ws):
    store = Store(workspace=ws)
    assert ws.db_path.is_file()
    assert store.schema_revision() == "0003"
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        tables = set(sa.inspect(c).get_table_names())
    assert {"users", "projects", "storyboard_versions", "takes", "cuts", "messages", "consents", "audit_log", "renders", "render_shots"} <= tables
    store.close()
    Store(workspace=ws).close()  # opening again is a no-op migration


def test_migrations_match_the_table_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with store.engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), SQLModel.metadata) == []


def test_users_and_tokens(store):
    user, token = store.create_user("ann")
    assert token.startswith("rd_") and len(token) > 30
    assert user.token_hash != token and token not in user.token_hash
    assert store.user_for_token(token).name == "ann"
    assert store.user_for_token(token + "x") is None and store.user_for_token("") is None
    with pytest.raises(ValueError, match="already exists"):
        store.create_user("ann")
    _, token2 = store.create_user("bob")
    assert token2 != token and store.user_for_token(token2).name == "bob"
    rotated = store.rotate_token("ann")
    assert store.user_for_token(rotated).name == "ann" and store.user_for_token(token) is None
    local = store.login_token_for_first_user("local")
    assert store.user_for_token(local).name == "local"
    again = store.login_token_for_first_user("local")
    assert store.user_for_token(again).name == "local" and store.user_for_token(local) is None
    assert [u.name for u in store.list_users()] == ["ann", "bob", "local"]


def test_projects(store):
    p = store.create_project("ann", "Harbour", {"aspect_ratio": "16:9", "fps": 24})
    assert p.id.startswith("p-") and len(p.id) == 10
    other = store.create_project("bob", "City")
    assert store.get_project(p.id).settings == {"aspect_ratio": "16:9", "fps": 24}
    assert [x.id for x in store.list_projects("ann")] == [p.id]
    assert {x.id for x in store.list_projects()} == {p.id, other.id}
    with pytest.raises(KeyError, match="no project 'p-missing'"):
        store.get_project("p-missing")


def test_versions_are_numbered_with_parents_and_immutable(store):
    sb = load_storyboard(EXAMPLES_DIR / "product_teaser.yaml")
    p = store.create_project("ann", sb.title)
    with pytest.raises(KeyError, match="no storyboard yet"):
        store.get_version(p.id)
    assert store.add_version(p.id, sb, "from the brief") == 1
    edited = sb.model_copy(deep=True)
    edited.shot("hero").subject = "a green bottle"
    assert store.add_version(p.id, edited, "feedback: make it green\nplease") == 2
    # A change names the version it was made from; once that is not the latest, it is refused.
    with pytest.raises(VersionConflict, match="made from version 1, but version 2 is the latest"):
        store.add_version(p.id, edited, "a stale edit", parent=1)
    assert store.add_version(p.id, sb, "restore version 1", parent=2) == 3
    versions = store.list_versions(p.id)
    assert [(v.number, v.parent) for v in versions] == [(1, None), (2, 1), (3, 2)]
    assert versions[1].reason == "feedback: make it green please"  # one line
    assert store.get_version(p.id).number == 3
    assert store.get_version(p.id, 1).storyboard == sb  # paths and all, exactly
    assert store.get_version(p.id, 2).storyboard.shot("hero").subject == "a green bottle"
    with pytest.raises(KeyError, match="no version 9"):
        store.get_version(p.id, 9)
    with pytest.raises(KeyError, match="no version 7 to be a parent"):
        store.add_version(p.id, sb, "x", parent=7)
    # Changing a returned copy changes nothing stored, and the database refuses edits outright.
    v1 = store.get_version(p.id, 1)
    v1.storyboard.shots[0].subject = "changed in memory"
    assert store.get_version(p.id, 1).storyboard == sb
    with pytest.raises(sa.exc.DatabaseError, match="immutable"):
        with store.engine.begin() as c:
            c.exec_driver_sql("UPDATE storyboard_versions SET reason = 'rewritten' WHERE number = 1")
    assert store.get_version(p.id, 1).reason == "from the brief"


def test_takes_selection_and_lookup(store):
    p = store.create_project("ann", "T")
    other = store.create_project("ann", "U")
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i, spec in enumerate(["s1", "s1", "s2"]):
        store.add_take(p.id, _take(f"t{i}", spec=spec, seed=i, created_at=base + timedelta(seconds=i)))
    store.add_take(p.id, _take("u0", shot_id="closing", created_at=base - timedelta(seconds=1)))
    store.add_take(other.id, _take("x0", created_at=base))
    assert [t.id for t in store.takes_for_shot(p.id, "opening")] == ["t2", "t1", "t0"]
    assert [t.id for t in store.find_takes(p.id, spec_key="s1")] == ["t1", "t0", "u0"]
    assert [t.id for t in store.find_takes(p.id, key="k-t1")] == ["t1"]
    assert {t.id for t in store.find_takes(None, key="k-x0")} == {"x0"}  # across projects
    assert store.selected_take(p.id, "opening") is None

    store.select_take(p.id, "t0")
    store.select_take(p.id, "u0")
    assert store.selected_take(p.id, "opening").id == "t0"
    store.select_take(p.id, "t1")
    assert store.selected_take(p.id, "opening").id == "t1"
    assert [t.id for t in store.takes_for_shot(p.id, "opening") if t.selected] == ["t1"]
    assert store.selected_take(p.id, "closing").id == "u0"  # other shots untouched
    assert store.selected_take(p.id, "opening", spec_key="s2") is None  # the selected take is for another spec
    with pytest.raises(KeyError):
        store.select_take(p.id, "x0")  # a take of another project

    critique = Critique(verdict="fail", reasons=["frames 12-18 flicker"], score=0.3)
    t2 = store.get_take("t2").model_copy(update={"critique": critique, "status": TakeStatus.failed, "file": "takes/ab/x.mp4"})
    store.update_take(p.id, t2)
    got = store.get_take("t2")
    assert got.critique == critique and got.status == TakeStatus.failed and got.file == "takes/ab/x.mp4"
    assert [t.id for t in store.find_takes(p.id, status="failed")] == ["t2"]
    with pytest.raises(ValueError, match="already exists"):
        store.add_take(p.id, _take("t2"))
    with pytest.raises(KeyError):
        store.get_take("nope")


def test_cuts_and_watermark_ids(store):
    p = store.create_project("ann", "T")
    store.add_version(p.id, Storyboard(shots=[Shot(id="a")]), "first")
    wid = store.new_watermark_id()
    assert 1 <= wid < 2**32
    cut = Cut(id="c-1", project_id=p.id, version=1, file="projects/x/final.mp4", preset="16:9", take_ids=["t0"],
              manifest={"storyboard_version": 1, "takes": [{"id": "t0", "seed": 1}]})
    store.add_cut(cut, wid)
    assert store.cut_by_watermark(wid) == cut
    assert store.cut_by_watermark(wid + 1 if wid < 2**32 - 1 else 1) is None
    assert store.watermark_for_cut("c-1") == wid
    assert store.list_cuts(p.id) == [cut]
    with pytest.raises(ValueError, match="already used"):
        store.add_cut(cut.model_copy(update={"id": "c-2"}), wid)
    big = 2**32 - 1
    store.add_cut(cut.model_copy(update={"id": "c-3"}), big)  # needs more than a signed 32-bit column
    assert store.cut_by_watermark(big).id == "c-3"
    with pytest.raises(ValueError, match="between 1 and"):
        store.add_cut(cut.model_copy(update={"id": "c-4"}), 0)
    assert store.new_watermark_id() not in (wid, big)


def test_messages_consents_and_audit(store):
    p = store.create_project("ann", "T")
    store.add_message(p.id, "user", "make it moodier")
    store.add_message(p.id, "director", "Darkened shots 2 and 3.")
    store.add_message(p.id, "system", "render finished")
    assert [(m.role, m.text) for m in store.messages(p.id)][:2] == [("user", "make it moodier"), ("director", "Darkened shots 2 and 3.")]
    assert [m.role for m in store.messages(p.id, limit=2)] == ["director", "system"]
    with pytest.raises(ValueError, match="not one of"):
        store.add_message(p.id, "assistant", "x")

    assert normalise_name("  Zoë   O\u2019Brien ") == "zoe o'brien"
    store.add_consent("Zoë O'Brien", reference="uploads/zoe.png", scope="project p-1", expires=date(2099, 1, 1))
    store.add_consent("Old Friend", expires=date(2001, 1, 1))
    assert [c.name for c in store.active_consents()] == ["Zoë O'Brien"]
    assert store.consent_for("zoe o'brien").reference == "uploads/zoe.png"
    assert store.consent_for("Old Friend") is None
    before = datetime.now(UTC)
    assert store.revoke_consent("ZOE O'BRIEN") == 1
    assert store.consent_for("Zoë O'Brien") is None and store.active_consents() == []
    assert [c.name for c in store.active_consents(at=before - timedelta(seconds=1))] == ["Zoë O'Brien"]  # history kept

    store.audit("ann", "consent.revoked", {"name": "Zoë O'Brien"})
    store.audit("system", "cut.exported", {"cut": "c-1"})
    log = store.audit_log()
    assert [e.event for e in log] == ["cut.exported", "consent.revoked"]
    assert log[1].detail == {"name": "Zoë O'Brien"} and log[0].at.tzinfo is not None
    assert [e.actor for e in store.audit_log(event="consent.revoked")] == ["ann"]


@pytest.mark.slow
def test_everything_reads_back_from_a_new_process(ws, store):
    user, token = store.create_user("ann")
    sb = load_storyboard(EXAMPLES_DIR / "city_remix.yaml")
    p = store.create_project("ann", sb.title, {"fps": 24})
    store.add_version(p.id, sb, "from the brief")
    store.add_take(p.id, _take("t0", shot_id="remix", critique=Critique(verdict="pass", score=0.9)))
    store.select_take(p.id, "t0")
    wid = store.new_watermark_id()
    store.add_cut(Cut(id="c-1", project_id=p.id, version=1, file="f.mp4", take_ids=["t0"]), wid)
    store.add_message(p.id, "user", "hello")
    store.add_consent("Ann Example", scope="all")
    store.audit("ann", "project.created", {"id": p.id})
    store.close()

    out = _run(
        """
        import json, sys
        from storyboards.store import Store
        from storyboards.workspace import Workspace
        s = Store(workspace=Workspace(sys.argv[1]))
        pid, token, wid = sys.argv[2], sys.argv[3], int(sys.argv[4])
        v = s.get_version(pid)
        t = s.selected_take(pid, "remix")
        print(json.dumps({
            "user": s.user_for_token(token).name,
            "project": s.get_project(pid).title,
            "settings": s.get_project(pid).settings,
            "version": [v.number, v.reason],
            "storyboard": v.storyboard.model_dump(mode="json"),
            "take": [t.id, t.critique.score, t.selected],
            "cut": s.cut_by_watermark(wid).id,
            "messages": [m.text for m in s.messages(pid)],
            "consents": [c.name for c in s.active_consents()],
            "audit": [e.event for e in s.audit_log()],
        }))
        s.add_version(pid, v.storyboard, "written by the second process")
        """,
        str(ws.home), p.id, token, str(wid), url=store.url,
    )
    got = json.loads(out)
    assert got["user"] == "ann" and got["project"] == sb.title and got["settings"] == {"fps": 24}
    assert got["version"] == [1, "from the brief"]
    assert Storyboard.model_validate(got["storyboard"]) == sb
    assert got["take"] == ["t0", 0.9, True] and got["cut"] == "c-1"
    assert got["messages"] == ["hello"] and got["consents"] == ["Ann Example"] and got["audit"] == ["project.created"]
    with Store(store.url, workspace=ws) as again:
        v2 = again.get_version(p.id)
        assert (v2.number, v2.parent, v2.reason) == (2, 1, "written by the second process")


def test_threads_share_one_store(store):
    p = store.create_project("ann", "T")
    sb = Storyboard(shots=[Shot(id="a")])
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(8):
                store.add_version(p.id, sb, f"thread {n} edit {i}")
                store.add_take(p.id, _take(f"t{n}-{i}", shot_id="a"))
                store.select_take(p.id, f"t{n}-{i}")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [v.number for v in store.list_versions(p.id)] == list(range(1, 33))
    assert len(store.takes_for_shot(p.id, "a")) == 32
    assert sum(t.selected for t in store.takes_for_shot(p.id, "a")) == 1


@pytest.mark.slow
def test_concurrent_processes_do_not_corrupt_the_database(ws, database_url):
    # Two processes open a brand-new database at once (both migrate) and write interleaved.
    code = """
        import sys
        from storyboards.schema import Shot, Storyboard
        from storyboards.store import Store
        from storyboards.workspace import Workspace
        s = Store(workspace=Workspace(sys.argv[1]))
        p = s.create_project(sys.argv[2], "T")
        sb = Storyboard(shots=[Shot(id="a")])
        for i in range(10):
            s.add_version(p.id, sb, f"edit {i}")
            s.audit(sys.argv[2], "edit", {"i": i})
        print(p.id)
    """
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(ws.home), f"writer{n}"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(database_url)) for n in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [r[1] for r in results]
    with Store(database_url, workspace=ws) as s:
        for out, _ in results:
            assert [v.number for v in s.list_versions(out.strip())] == list(range(1, 11))
        assert len(s.audit_log(limit=1000)) == 20
        if s.db.dialect == "sqlite":
            with s.engine.connect() as c:
                assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_postgresql_migration_compiles(capsys):
    from alembic import command

    from storyboards.store import alembic_config

    command.upgrade(alembic_config("postgresql://director@localhost/director"), "head", sql=True)
    sql = capsys.readouterr().out
    assert "watermark_id BIGINT NOT NULL" in sql and "EXECUTE FUNCTION storyboard_versions_immutable()" in sql


def test_a_watermark_payload_resolves_to_its_take_and_the_cut_that_uses_it(store):
    project = store.create_project("ada", "Harbour")
    take_mark = store.new_watermark_id()
    take = Take(id="t-1", shot_id="opening", key="a" * 64, backend="animatic", seed=1, width=64, height=64,
                frames=4, fps=24, params={"watermark_id": take_mark})
    store.add_take(project.id, take)
    assert store.resolve_watermark(take_mark)["take_id"] == "t-1"
    assert store.resolve_watermark(take_mark)["cut_id"] is None
    cut_mark = store.new_watermark_id()
    assert cut_mark != take_mark
    store.add_cut(Cut(id="c-1", project_id=project.id, version=1, file="final.mp4", take_ids=["t-1"]), cut_mark)
    assert store.resolve_watermark(take_mark) == {"kind": "take", "project_id": project.id, "take_id": "t-1",
                                                   "shot_id": "opening", "cut_id": "c-1", "version": 1}
    assert store.resolve_watermark(cut_mark)["kind"] == "cut"
    assert store.resolve_watermark(12345) is None


def test_render_jobs_are_rows_updated_as_shots_finish(store):
    p = store.create_project("ann", "T")
    job = store.renders.create(p.id, "ann", 1, ["a", "b", "c"], out_dir="/films/out", backend="animatic", regenerate=["b"])
    assert (job.state, [s.state for s in job.shots], job.out_dir, job.regenerate) == ("queued", ["queued"] * 3, "/films/out", ["b"])
    assert store.renders.unfinished() == []   # queued by this live process: not abandoned
    store.renders.start(job.id, version=1, shot_ids=["a", "b", "c"])
    store.renders.shot_running(job.id, "a")
    store.renders.shot_done(job.id, "a", "t-1", reused=False, new_takes=2)
    store.renders.shot_failed(job.id, "b", "backend exploded")
    got = store.renders.get(job.id)
    assert got.state == "running" and [(s.shot_id, s.state) for s in got.shots] == [("a", "done"), ("b", "failed"), ("c", "queued")]
    assert (got.shots[0].take_id, got.shots[0].new_takes, got.shots[1].error) == ("t-1", 2, "backend exploded")
    assert got.done_shots == ["a"]

    store.renders.finish(job.id, "interrupted")
    assert [s.state for s in store.renders.get(job.id).shots] == ["done", "failed", "interrupted"]
    assert [j.id for j in store.renders.unfinished(owner="ann")] == [job.id]
    assert store.renders.unfinished(owner="bob") == []
    # A resumed render meets a newer version: shots it no longer has go, new ones are queued, done stays done.
    store.renders.start(job.id, version=2, shot_ids=["c", "a", "d"])
    again = store.renders.get(job.id)
    assert (again.version, [(s.shot_id, s.state) for s in again.shots]) == (2, [("c", "queued"), ("a", "done"), ("d", "queued")])
    newer = store.renders.create(p.id, "ann", 2, ["a"])
    store.renders.finish(newer.id, "done", cut_id="c-1")
    store.renders.finish(job.id, "interrupted")
    assert store.renders.supersede(p.id, by=newer.id) == 1
    assert store.renders.get(job.id).state == "cancelled" and store.renders.unfinished() == []
    assert store.renders.latest(p.id).id == newer.id and store.renders.latest(p.id).cut_id == "c-1"


def test_a_render_left_running_by_a_dead_process_is_unfinished(store):
    p = store.create_project("ann", "T")
    job = store.renders.create(p.id, "ann", 1, ["a"])
    store.renders.start(job.id, version=1, shot_ids=["a"])
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    import socket

    with store.engine.begin() as c:
        c.execute(sa.text("UPDATE renders SET process = :p WHERE id = :id"), {"p": f"{socket.gethostname()}:{child.pid}:1", "id": job.id})
    assert [(j.id, j.state, j.abandoned) for j in store.renders.unfinished()] == [(job.id, "running", True)]


@pytest.mark.slow
def test_versions_are_compare_and_set_across_processes(store, ws):
    # Three processes all make their change from version 1 at once: exactly one wins, the others are refused.
    p = store.create_project("ann", "T")
    store.add_version(p.id, Storyboard(shots=[Shot(id="a")]), "first")
    code = """
        import sys
        from storyboards.schema import Shot, Storyboard
        from storyboards.store import Store, VersionConflict
        from storyboards.workspace import Workspace
        s = Store(workspace=Workspace(sys.argv[1]))
        try:
            print(s.add_version(sys.argv[2], Storyboard(shots=[Shot(id="a", subject=sys.argv[3])]), "edit", parent=1))
        except VersionConflict as e:
            print("conflict", e.head)
    """
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(ws.home), p.id, f"writer {n}"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(store.url)) for n in range(3)]
    outs = [proc.communicate(timeout=120) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [o[1] for o in outs]
    answers = sorted(o[0].strip() for o in outs)
    assert answers == ["2"] + ["conflict 2"] * 2
    assert [(v.number, v.parent) for v in store.list_versions(p.id)] == [(1, None), (2, 1)]
