"""The store: a real SQLite file, reopened from other processes, shared by threads and processes."""

from __future__ import annotations

import json
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
from storyboards.store import Store, normalise_name
from storyboards.workspace import Workspace
from storyboards.yamlio import load_storyboard

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def store(ws):
    with Store(workspace=ws) as s:
        yield s


def _take(take_id: str, shot_id: str = "opening", spec: str = "s1", seed: int = 1, **kw) -> Take:
    return Take(id=take_id, shot_id=shot_id, key=f"k-{take_id}", spec_key=spec, backend="animatic", seed=seed,
                width=512, height=288, frames=48, fps=24, **kw)


def _run(code: str, *args: str) -> str:
    """Run Python in a fresh interpreter (a different process opening the same database)."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_opening_creates_the_database_inside_the_workspace_and_migrates_it(ws, store):
    assert ws.db_path.is_file()
    assert store.schema_revision() == "0002"
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        tables = set(sa.inspect(c).get_table_names())
    assert {"users", "projects", "storyboard_versions", "takes", "cuts", "messages", "consents", "audit_log"} <= tables
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
    assert store.add_version(p.id, sb, "restore version 1", parent=1) == 3
    versions = store.list_versions(p.id)
    assert [(v.number, v.parent) for v in versions] == [(1, None), (2, 1), (3, 1)]
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
        str(ws.home), p.id, token, str(wid),
    )
    got = json.loads(out)
    assert got["user"] == "ann" and got["project"] == sb.title and got["settings"] == {"fps": 24}
    assert got["version"] == [1, "from the brief"]
    assert Storyboard.model_validate(got["storyboard"]) == sb
    assert got["take"] == ["t0", 0.9, True] and got["cut"] == "c-1"
    assert got["messages"] == ["hello"] and got["consents"] == ["Ann Example"] and got["audit"] == ["project.created"]
    with Store(workspace=ws) as again:
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
def test_concurrent_processes_do_not_corrupt_the_database(ws):
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
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [r[1] for r in results]
    with Store(workspace=ws) as s:
        for out, _ in results:
            assert [v.number for v in s.list_versions(out.strip())] == list(range(1, 11))
        assert len(s.audit_log(limit=1000)) == 20
        with s.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_postgresql_migration_compiles(capsys):
    from alembic import command

    from storyboards.store import alembic_config

    command.upgrade(alembic_config("postgresql://director@localhost/director"), "head", sql=True)
    sql = capsys.readouterr().out
    assert "watermark_id BIGINT NOT NULL" in sql and "EXECUTE FUNCTION storyboard_versions_immutable()" in sql


def test_a_watermark_payload_resolves_to_its_take_and_the_cut_that_uses_it(tmp_path):
    from storyboards.schema import Cut, Take

    store = Store(workspace=Workspace(tmp_path))
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
