"""The HTTP side of the web server: auth, per-owner isolation, media, uploads, rate limits, fuzzing.

A real Director, Store and workspace in tmp_path; requests through FastAPI's TestClient.
"""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from server.app import create_app
from server.settings import ServerSettings
from storyboards.schema import Storyboard

BOARD = {
    "title": "Harbour at dawn",
    "resolution": 64,
    "fps": 8,
    "shots": [
        {"id": "opening", "duration": 1, "subject": "a small fishing boat", "setting": "a stone harbour at dawn"},
        {"id": "gulls", "duration": 1, "subject": "gulls", "camera": "pan_left"},
    ],
}




def make_client(env, **settings):
    director, store, *_ = env
    app = create_app(director=director, store=store, settings=ServerSettings(**settings))
    return TestClient(app)


@pytest.fixture
def client(env):
    with make_client(env) as c:
        yield c


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def new_project(env, owner="ann"):
    director = env[0]
    return director.start_project(owner, Storyboard.parse(BOARD), "made by the test")


# ----------------------------------------------------------------------------- public routes and auth


def test_page_and_health_need_no_token(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert '<script type="module" src="/static/app.js">' in page.text
    assert "AI-generated" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/api/projects", "/api/projects/p-1", "/media/p-1/final.mp4", "/openapi.json",
                                  "/api/me", "/api/protocol"])
def test_every_other_route_needs_a_token(client, path):
    r = client.get(path)
    assert r.status_code == 401
    assert "director users add" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get(path, headers=bearer("rd_not-a-token")).status_code == 401
    assert client.get(path, params={"token": "rd_not-a-token"}).status_code == 401
    assert client.post("/api/uploads", files={"file": ("a.png", b"x")}).status_code == 401


def test_token_as_header_or_query(env, client):
    _, _, _, ann, _ = env
    assert client.get("/api/me", headers=bearer(ann)).json() == {"name": "ann"}
    assert client.get("/api/me", params={"token": ann}).json() == {"name": "ann"}
    schema = client.get("/openapi.json", params={"token": ann}).json()
    assert {"/api/projects", "/api/projects/{project_id}", "/api/uploads", "/healthz"} <= set(schema["paths"])


# ----------------------------------------------------------------------------- projects are the owner's alone


def test_a_project_is_visible_to_its_owner_alone(env, client):
    _, _, _, ann, bob = env
    pid = new_project(env, "ann")

    mine = client.get("/api/projects", headers=bearer(ann)).json()
    assert [p["id"] for p in mine] == [pid]
    assert client.get("/api/projects", headers=bearer(bob)).json() == []

    state = client.get(f"/api/projects/{pid}", headers=bearer(ann)).json()
    assert state["storyboard"]["title"] == "Harbour at dawn"
    assert [s["id"] for s in state["storyboard"]["shots"]] == ["opening", "gulls"]
    assert state["versions"][0]["reason"] == "made by the test"
    assert set(state["takes"]) == {"opening", "gulls"} and state["cuts"] == []

    other = client.get(f"/api/projects/{pid}", headers=bearer(bob))
    missing = client.get("/api/projects/p-doesnotexist", headers=bearer(bob))
    assert other.status_code == missing.status_code == 404
    # Someone else's project and a missing one answer alike.
    assert other.json()["detail"].replace(pid, "X") == missing.json()["detail"].replace("p-doesnotexist", "X")


def test_media_is_served_from_the_project_folder_only(env, client):
    _, _, workspace, ann, bob = env
    pid = new_project(env, "ann")
    bobs = new_project(env, "bob")
    folder = workspace.project_dir(pid)
    (folder / "thumbs").mkdir(parents=True)
    (folder / "thumbs" / "t-1.jpg").write_bytes(b"\xff\xd8\xff fake jpeg")
    (folder / "final.vtt").write_text("WEBVTT\n")
    workspace.project_dir(bobs).mkdir(parents=True)
    (workspace.project_dir(bobs) / "final.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nbob's\n")

    r = client.get(f"/media/{pid}/thumbs/t-1.jpg", params={"token": ann})
    assert r.status_code == 200 and r.content == b"\xff\xd8\xff fake jpeg"
    assert r.headers["content-type"] == "image/jpeg"
    assert client.get(f"/media/{pid}/final.vtt", headers=bearer(ann)).headers["content-type"].startswith("text/vtt")

    assert client.get(f"/media/{pid}/thumbs/t-1.jpg", params={"token": bob}).status_code == 404
    for path in (f"/media/{pid}/..%2F..%2Fdirector.db", f"/media/{pid}/..%2f{bobs}%2ffinal.srt",
                 f"/media/{pid}/%2e%2e/%2e%2e/director.db", f"/media/{pid}/%2Fetc%2Fpasswd",
                 f"/media/{pid}/thumbs/..%2F..%2F..%2Fdirector.db", f"/media/{pid}/thumbs",
                 f"/media/{pid}/nothing.mp4", f"/media/..%2F{bobs}/final.srt"):
        assert client.get(path, params={"token": ann}).status_code == 404, path


# ----------------------------------------------------------------------------- uploads


def png_bytes(size=32, noise=False):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (size, size, 3), dtype=np.uint8) if noise else np.full((size, size, 3), 90, np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def jpeg_with_gps():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 40.0)}
    buf = io.BytesIO()
    Image.fromarray(np.full((48, 64, 3), 120, np.uint8)).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def video_bytes(tmp_path, fmt):
    import imageio_ffmpeg

    out = tmp_path / f"clip.{fmt}"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=64x48:rate=8:duration=1", "-pix_fmt", "yuv420p", "-c:v", "libx264", str(out)],
                   check=True)
    return out.read_bytes()


def test_upload_accepts_images_and_clips_by_their_bytes(env, client, tmp_path):
    _, _, workspace, ann, _ = env
    for name, data, fmt, kind in (("ref.png", png_bytes(), "png", "image"),
                                  ("photo.JPG", jpeg_with_gps(), "jpeg", "image"),
                                  ("no-extension", png_bytes(), "png", "image"),
                                  ("clip.mp4", video_bytes(tmp_path, "mp4"), "mp4", "video"),
                                  ("clip.mov", video_bytes(tmp_path, "mov"), "mov", "video")):
        r = client.post("/api/uploads", headers=bearer(ann), files={"file": (name, data, "application/octet-stream")})
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["format"], body["kind"]) == (fmt, kind)
        saved = workspace.resolve(body["id"])
        assert saved.is_file() and saved.is_relative_to(workspace.uploads_dir)
        if kind == "video":
            assert saved.stat().st_size > 1000  # a playable clip, not a stub
    webp = io.BytesIO()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(webp, "WEBP")
    assert client.post("/api/uploads", headers=bearer(ann), files={"file": ("w", webp.getvalue())}).json()["format"] == "webp"


def test_upload_strips_location_from_photos(env, client):
    pytest.importorskip("tools.safety.faces", reason="tools.safety.faces not installed yet")
    from tools.safety import faces

    if not hasattr(faces, "strip_metadata"):
        pytest.skip("tools.safety.faces has no strip_metadata yet")
    _, _, workspace, ann, _ = env
    r = client.post("/api/uploads", headers=bearer(ann), files={"file": ("p.jpg", jpeg_with_gps())})
    assert r.status_code == 201 and r.json()["metadata_stripped"] is True
    exif = Image.open(workspace.resolve(r.json()["id"])).getexif()
    assert 0x8825 not in exif and not exif.get_ifd(0x8825)


def test_upload_refuses_other_types_and_oversize(env, tmp_path):
    _, _, _, ann, _ = env
    with make_client(env, max_image_bytes=2000) as c:
        for name, data in (("notes.txt", b"hello, world"), ("evil.png", b"<script>alert(1)</script>"),
                           ("page.html", b"<!doctype html><html></html>"), ("empty.png", b""),
                           ("a.gif", b"GIF89a\x01\x00\x01\x00")):
            r = c.post("/api/uploads", headers=bearer(ann), files={"file": (name, data, "image/png")})
            assert r.status_code == 415, name
            assert "png, jpeg or webp" in r.json()["detail"]
        big = png_bytes(64, noise=True)
        assert len(big) > 2000
        r = c.post("/api/uploads", headers=bearer(ann), files={"file": ("big.png", big)})
        assert r.status_code == 413 and "limit" in r.json()["detail"]
        assert c.post("/api/uploads", headers=bearer(ann), data={"nofile": "1"}).status_code == 422
    leftovers = [p for p in (tmp_path / "home" / "uploads").rglob("*") if p.is_file()]
    assert leftovers == []


# ----------------------------------------------------------------------------- rate limits


def test_rate_limit_per_user(env):
    _, _, _, ann, bob = env
    with make_client(env, rate_limit_burst=3, rate_limit_per_minute=1) as c:
        codes = [c.get("/api/projects", headers=bearer(ann)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = c.get("/api/projects", headers=bearer(ann))
        assert int(limited.headers["retry-after"]) >= 1 and "rate limit" in limited.json()["detail"]
        assert c.get("/api/projects", headers=bearer(bob)).status_code == 200  # bob has his own budget
        assert c.get("/healthz").status_code == 200


# ----------------------------------------------------------------------------- fuzzing the HTTP API


@pytest.fixture
def api_schema(env):
    import schemathesis

    _, _, _, ann, _ = env
    new_project(env, "ann")
    app = create_app(director=env[0], store=env[1], settings=ServerSettings(rate_limit_per_minute=1e6, rate_limit_burst=10**6,
                                                                           max_image_bytes=4096))
    return schemathesis.openapi.from_asgi(f"/openapi.json?token={ann}", app)


@pytest.mark.slow
def test_http_api_fuzz_never_fails_the_server(api_schema, env):
    """schemathesis: every operation with generated paths, queries and bodies, with and without a token."""
    from hypothesis import HealthCheck, settings
    from schemathesis.checks import not_a_server_error

    _, _, _, ann, _ = env
    ran = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy()

        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
        def check(case, headers):
            response = case.call(headers=headers)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
            case.validate_response(response, checks=[not_a_server_error])

        from hypothesis import given
        from hypothesis import strategies as st

        given(case=strategy, headers=st.sampled_from([bearer(ann), {}, bearer("rd_wrong")]))(check)()
        ran.append(operation.label)
    assert {"GET /api/projects", "GET /api/projects/{project_id}", "POST /api/uploads"} <= set(ran)
