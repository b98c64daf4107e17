// Reel Director web page: chat, storyboard cards, takes, progress and the cut, over one websocket.
// Plain ES module, no build step. Every user-provided string goes through textContent, never innerHTML.

const TOKEN_KEY = "reel-director-token";
const PROJECT_KEY = "reel-director-project";

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
};

// ------------------------------------------------------------------ state

const state = {
  token: null,
  projectId: null,
  ws: null,
  retry: 0,
  storyboard: null,        // the latest storyboard dict (shots with composed prompts)
  version: null,
  takes: new Map(),        // shot id -> selected take {id, critique, thumbnail}
  progress: new Map(),     // shot id -> {stage, done, total, attempt}
  busy: false,
  awaitingPlan: false,
  outbox: [],
  history: [],             // versions, oldest first (GET /api/projects/{id} or a `history` event)
  accepted: {},            // shot id -> take id kept although the critic failed it
  estimates: {},           // shot id -> seconds this render should take for it
  renderStarted: null,     // ms, when the running render started (for the film's elapsed/left)
  attachment: null,        // {file, id}: the chat's attached image or clip
  keyframes: null,         // {version, shots: {shot id -> {url, approved, roll}}}: keyframes first
  keyframesPending: false, // stills (or their approval) asked for, not yet answered
};

// ------------------------------------------------------------------ token: ?token= once, then localStorage

function takeTokenFromUrl() {
  const url = new URL(location.href);
  const t = url.searchParams.get("token");
  if (t) {
    localStorage.setItem(TOKEN_KEY, t);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return localStorage.getItem(TOKEN_KEY);
}

function withToken(path) {
  if (!path) return path;
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}token=${encodeURIComponent(state.token)}`;
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { Authorization: `Bearer ${state.token}`, ...(init.headers || {}) } });
  if (res.status === 401) { askForToken("That token was not accepted."); throw new Error("unauthorized"); }
  if (!res.ok) {
    let detail = `${res.status}`;
    try { detail = (await res.json()).detail || detail; } catch { /* not JSON */ }
    throw new Error(detail);
  }
  return res.json();
}

function askForToken(why) {
  localStorage.removeItem(TOKEN_KEY);
  state.token = null;
  $("login").hidden = false;
  if (why) $("login-token").placeholder = why;
  $("login-token").focus();
}

// ------------------------------------------------------------------ websocket

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  setConn("connecting");
  ws.addEventListener("open", () => {
    state.retry = 0;
    setConn("open");
    if (state.projectId) ws.send(JSON.stringify({ type: "subscribe", project_id: state.projectId }));
    for (const m of state.outbox.splice(0)) ws.send(JSON.stringify(m));
  });
  ws.addEventListener("message", (e) => {
    let event;
    try { event = JSON.parse(e.data); } catch { return; }
    handle(event);
  });
  ws.addEventListener("close", (e) => {
    setConn("closed");
    if (state.ws !== ws) return;
    if (e.code === 1008 || e.code === 4401) { askForToken("That token was not accepted."); return; }
    // A refused handshake (bad token) closes before open: check the token over HTTP before retrying.
    const delay = Math.min(10000, 500 * 2 ** state.retry++);
    setTimeout(async () => {
      try { await api("/api/me"); connect(); } catch (err) { if (state.token) setTimeout(connect, delay); }
    }, delay);
  });
}

function setConn(s) {
  const c = $("conn");
  c.dataset.state = s;
  c.textContent = { open: "connected", closed: "reconnecting", connecting: "connecting" }[s];
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
  else state.outbox.push(message);
}

// ------------------------------------------------------------------ words: shots are "shot N" (their position) everywhere

const CAMERAS = ["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "dolly_in", "dolly_out", "zoom_in", "zoom_out",
  "tracking", "orbit", "crane", "handheld", "aerial"];
const FRAMINGS = ["extreme_wide", "wide", "medium", "close_up", "extreme_close_up", "low_angle", "high_angle", "dutch_angle", "overhead"];

// What each critic metric means, in plain words (direction comes from the metric itself).
const METRICS = {
  flicker: "brightness flicker between frames",
  exposure: "frames too dark or blown out",
  smoothness: "how smoothly things move",
  shake: "camera shake",
  frozen: "frozen or repeated frames",
  scene_cut: "unwanted jump cuts inside the shot",
  noise: "grain and noise",
  sharpness: "sharpness of detail",
  consistency: "the subject staying the same",
  clip_score: "how well the frames match the prompt",
  aesthetic: "overall look",
};

const shotNumber = (shotId) => {
  const i = (state.storyboard?.shots || []).findIndex((s) => s.id === shotId);
  return i < 0 ? null : i + 1;
};
const shotName = (shotId) => `shot ${shotNumber(shotId) ?? "?"}`;
const cap = (t) => t.charAt(0).toUpperCase() + t.slice(1);
const words = (v) => String(v ?? "").replaceAll("_", " ");
const fmt = (x) => (typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(Math.abs(x) < 10 ? 2 : 1)) : String(x));
const secs = (s) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`);

// ------------------------------------------------------------------ events from the director

function handle(ev) {
  const pid = ev.project_id;
  // A tab follows one project; a brief we sent adopts the project it made.
  if (pid && state.projectId && pid !== state.projectId) return;
  if (pid && !state.projectId && (state.awaitingPlan || ev.type === "storyboard")) setProject(pid);
  switch (ev.type) {
    case "director_message": return onDirectorMessage(ev);
    case "storyboard": return onStoryboard(ev);
    case "estimate": return onEstimate(ev);
    case "shot_progress": return onProgress(ev);
    case "take_ready": return onTake(ev);
    case "cut_ready": return onCut(ev);
    case "safety_notice": return onSafety(ev);
    case "history": state.history = ev.versions || []; return renderHistory();
    case "queued": clearThinking(); return addMessage("director", ev.text || `Queued: this runs after the ${ev.kind || "current job"}.`);
    case "keyframes": return onKeyframes(ev);
    case "error": return onError(ev);
  }
}

function onDirectorMessage(ev) {
  clearThinking();
  addMessage("director", ev.text);
  if (ev.cancelled) {
    setBusy(false);
    $("overall").hidden = true;
    for (const [id, p] of state.progress) if (p.stage !== "done" && p.stage !== "reused") resetCard(id, "stopped");
  }
}

function onStoryboard(ev) {
  clearThinking();
  if (document.body.dataset.tab === "chat") $("tab-board").classList.add("news");   // a phone on the chat tab
  const before = state.storyboard;
  // Stills are proposals for one version: an edit makes them stale (approval's own version gets them back).
  if (state.keyframes && state.keyframes.version !== ev.version) state.keyframes = null;
  state.storyboard = ev.storyboard;
  state.version = ev.version;
  // A shot whose pixels will change shows no stale picture: its take is from another version (or size).
  const sizeChanged = before && (before.aspect_ratio !== ev.storyboard.aspect_ratio || before.resolution !== ev.storyboard.resolution);
  for (const id of ev.changed_shots || []) {
    if (state.takes.has(id) || sizeChanged) { state.takes.delete(id); state.progress.delete(id); state.stale = true; }
  }
  // ...unless a take for the shot's new look exists already (going back to a version): it shows, and is reused.
  for (const [id, take] of Object.entries(ev.reusable_takes || {})) {
    state.takes.set(id, take);
    state.progress.set(id, { stage: "done", done: 1, total: 1 });
  }
  renderBoard(ev.storyboard, ev.changed_shots || [], ev.reason || "", ev.duration);
  for (const id of ev.changed_shots || []) {
    if (!cardFor(id)) continue;
    if (state.takes.has(id)) { paintTake(cardFor(id), id); paintProgress(cardFor(id), state.progress.get(id)); }
    else resetCard(id, "changed: render to update");
  }
  refreshProjects();
  refreshHistory();
}

function onEstimate(ev) {
  // The start of a render: every card says what will happen to it, and nothing stale stays on screen.
  setBusy(true);
  state.renderStarted = Date.now();
  state.estimates = {};
  for (const [id, e] of Object.entries(ev.shots || {})) {
    state.estimates[id] = e.seconds || 0;
    if (e.reused) {
      state.progress.set(id, { stage: "reused", done: 1, total: 1 });
      const card = cardFor(id);
      if (card) paintProgress(card, state.progress.get(id));
    } else {
      state.takes.delete(id);
      resetCard(id, "queued");
      state.progress.set(id, { stage: "queued", done: 0, total: 1, left: e.seconds });
    }
  }
  state.filmEstimate = ev.wall_seconds || 0;
  paintOverall();
}

function resetCard(shotId, label) {
  const card = cardFor(shotId);
  if (!card) return;
  card.querySelector(".thumb img:not(.still)")?.remove();
  card.querySelector(".placeholder").hidden = false;
  card.dataset.take = "";
  card.querySelector(".scores").replaceChildren();
  card.querySelector(".problems").replaceChildren();
  setBar(card.querySelector(".progress"), 0);
  card.classList.remove("done");
  card.querySelector(".stage").textContent = label;
  paintStill(card, shotId);
}

// ------------------------------------------------------------------ keyframes first: a still per shot to approve

function onKeyframes(ev) {
  state.keyframes = { version: ev.version, shots: Object.fromEntries((ev.keyframes || []).map((k) => [k.shot_id, k])) };
  state.keyframesPending = false;
  for (const card of $("cards").children) paintStill(card, card.dataset.shot);
  paintKeyframeButtons();
}

function askKeyframes(shots, reroll) {
  if (!state.projectId) return;
  send({ type: "keyframes", project_id: state.projectId, ...(shots ? { shots } : {}), ...(reroll ? { reroll: true } : {}) });
  state.keyframesPending = true;
  paintKeyframeButtons();
}

function approveKeyframes() {
  if (!state.projectId || !state.keyframes) return;
  send({ type: "approve_keyframes", project_id: state.projectId });
  state.keyframesPending = true;
  paintKeyframeButtons();
}

// The still shows until the shot has a take; Re-roll is offered while it is a proposal.
function paintStill(card, shotId) {
  const k = state.keyframes?.shots[shotId];
  const thumb = card.querySelector(".thumb");
  let img = thumb.querySelector("img.still");
  const hasTake = !!thumb.querySelector("img:not(.still)");
  if (k) {
    if (!img) { img = el("img", { class: "still" }); thumb.prepend(img); }
    if (img.dataset.url !== k.url) { img.src = withToken(k.url); img.dataset.url = k.url; }
    img.alt = `${shotName(shotId)}, ${k.approved ? "approved still" : `proposed still ${k.roll}`}`;
    img.hidden = hasTake;
    if (!hasTake) thumb.querySelector(".placeholder").hidden = true;
  } else if (img) {
    img.remove();
    if (!hasTake) thumb.querySelector(".placeholder").hidden = false;
  }
  card.dataset.still = k ? (k.approved ? "approved" : "proposed") : "";
  const reroll = card.querySelector(".reroll");
  reroll.hidden = !k || k.approved;
  reroll.disabled = state.keyframesPending || state.busy;
  const shot = (state.storyboard?.shots || []).find((s) => s.id === shotId);
  if (k?.approved && shot?.mode === "i2v") {
    const mode = card.querySelector(".mode");
    mode.hidden = false;
    mode.textContent = "from its still";
  }
}

function paintKeyframeButtons() {
  const kf = state.keyframes;
  const open = kf ? Object.values(kf.shots).filter((k) => !k.approved).length : 0;
  $("keyframes").disabled = state.busy || state.keyframesPending || !state.storyboard;
  $("approve-keyframes").hidden = !open;
  $("approve-keyframes").disabled = state.busy || state.keyframesPending;
  for (const card of $("cards").children) {
    const r = card.querySelector(".reroll");
    if (r) r.disabled = state.busy || state.keyframesPending;
  }
}

function onProgress(ev) {
  if (ev.shot_id && ev.shot_id !== "*") {
    state.progress.set(ev.shot_id, ev);
    const card = cardFor(ev.shot_id);
    if (card) paintProgress(card, ev);
  }
  setBusy(true);
  paintOverall(ev);
}

function onTake(ev) {
  const take = { ...ev.take, critique: ev.critique || ev.take?.critique, thumbnail: ev.thumbnail };
  if (ev.selected !== false) state.takes.set(ev.shot_id, take);
  const prev = state.progress.get(ev.shot_id) || {};
  state.progress.set(ev.shot_id, { stage: "done", done: 1, total: 1, elapsed: prev.elapsed });
  const card = cardFor(ev.shot_id);
  if (card) {
    paintTake(card, ev.shot_id);
    paintProgress(card, state.progress.get(ev.shot_id));
    card.classList.remove("changed", "updated");
    void card.offsetWidth;  // restart the flash animation
    card.classList.add("updated");
  }
  paintOverall();
}

function onCut(ev) {
  setBusy(false);
  state.stale = false;
  showCut(ev);
  for (const [id] of state.progress) state.progress.set(id, { stage: "done", done: 1, total: 1 });
  $("overall").hidden = true;
  refreshHistory();
}

function onSafety(ev) {
  const box = $("safety");
  box.hidden = false;
  box.dataset.verdict = ev.verdict;
  box.replaceChildren(
    el("strong", {}, `Safety: ${words(ev.verdict)}`),
    el("span", {}, ev.verdict === "warn" ? "The film can be made; please read:" : "This cannot be made as written:"),
    el("ul", {}, (ev.reasons || []).map((r) => el("li", {}, r))),
  );
}

function onError(ev) {
  clearThinking();
  state.awaitingPlan = false;
  state.keyframesPending = false;
  paintKeyframeButtons();
  if (ev.code === "busy" || ev.code === "rate_limited" || ev.code === "not_running") {
    addMessage("error", `${ev.message}  (${ev.code})`);
    return;  // whatever was running still is
  }
  setBusy(false);
  for (const [id, p] of state.progress) {
    if (p.stage === "queued") { state.progress.delete(id); resetCard(id, ""); }
  }
  $("overall").hidden = true;
  // A refusal's reasons are in the safety notice already; the chat says where to look.
  addMessage("error", ev.code === "refused" && !$("safety").hidden
    ? "The render was refused by the safety checks: see the notice above.  (refused)"
    : `${ev.message}  (${ev.code})`);
}

// ------------------------------------------------------------------ chat

function addMessage(role, text) {
  const box = $("messages");
  const node = el("div", { class: `msg ${role}` }, text);
  box.append(node);
  box.scrollTop = box.scrollHeight;
  return node;
}

function clearThinking() {
  for (const n of document.querySelectorAll(".msg.thinking")) n.remove();
}

async function sendChat(text) {
  text = text.trim();
  const attachment = state.attachment;
  if (!text && !attachment) return;
  if (attachment && !state.projectId) { addMessage("error", "Start with a brief first; then attach an image for a shot."); return; }
  if (attachment && !text) text = "use this";
  addMessage("user", attachment ? `${text}  [attached: ${attachment.file.name}]` : text);
  addMessage("director thinking", "thinking…");
  if (!state.projectId) state.awaitingPlan = true;
  const message = { type: "user_message", project_id: state.projectId, text };
  if (attachment) {
    try { message.upload = await uploadFile(attachment.file); } catch (err) {
      clearThinking(); addMessage("error", `The file was not accepted: ${err.message}`); return;
    }
    setAttachment(null);
  }
  send(message);
}

function setAttachment(file) {
  state.attachment = file ? { file } : null;
  $("attachment").hidden = !file;
  $("attachment").querySelector(".name").textContent = file ? `Attached: ${file.name} — say which shot it is for` : "";
  if (!file) $("chat-file").value = "";
}

async function uploadFile(file) {
  const body = new FormData();
  body.append("file", file, file.name || "pasted.png");
  const res = await api("/api/uploads", { method: "POST", body });
  return res.id;
}

// ------------------------------------------------------------------ the storyboard

function cardFor(shotId) {
  return document.querySelector(`.card[data-shot="${CSS.escape(shotId)}"]`);
}

function renderBoard(sb, changed, reason, seconds) {
  $("empty").hidden = true;
  $("add-shot").hidden = false;
  $("title").textContent = sb.title || "Untitled";
  // the delivered film's length, as the server measures it (cards counted, crossfades shared)
  const total = seconds ?? (sb.shots || []).reduce((a, s) => a + (s.duration || 0), 0);
  $("meta").textContent = `Version ${state.version ?? "?"}${reason ? ` · ${reason}` : ""} · ${sb.shots.length} shots · ${fmt(total)} s · ${sb.aspect_ratio} · ${sb.fps} fps`;
  const [w, h] = (sb.aspect_ratio || "16:9").split(":");
  document.documentElement.style.setProperty("--aspect", `${w} / ${h}`);
  $("render").disabled = state.busy;
  $("history").disabled = false;
  paintKeyframeButtons();
  $("undo").disabled = state.busy || !(state.version > 1);

  const list = $("cards");
  const focused = document.activeElement?.closest?.(".card")?.dataset.shot;   // moving a node drops its focus
  const keep = new Set();
  sb.shots.forEach((shot, i) => {
    let card = cardFor(shot.id);
    if (!card) card = makeCard(shot.id);
    keep.add(shot.id);
    paintShot(card, shot, i + 1, sb.shots.length);
    list.append(card);  // append moves an existing node: cards follow the storyboard's order
  });
  for (const card of [...list.children]) if (!keep.has(card.dataset.shot)) card.remove();
  for (const card of list.children) paintTake(card, card.dataset.shot);  // problem lines name positions
  if (focused && document.activeElement === document.body) cardFor(focused)?.focus();
}

function makeCard(shotId) {
  const stop = (fn) => (e) => { e.stopPropagation(); fn(e); };
  const fileInput = el("input", { type: "file", accept: "image/png,image/jpeg,image/webp,video/mp4,video/quicktime,video/webm", hidden: "", class: "card-file",
    onchange: (e) => { if (e.target.files[0]) attachToShot(shotId, e.target.files[0]); e.target.value = ""; } });
  const card = el("li", { class: "card", draggable: "true", tabindex: "0", dataset: { shot: shotId } },
    el("div", { class: "thumb" },
      el("div", { class: "placeholder" }),
      el("span", { class: "num" }),
      el("span", { class: "dur" }),
      el("span", { class: "mode", hidden: "" })),
    el("div", { class: "card-body" },
      el("div", { class: "subject" }),
      el("div", { class: "chips" }),
      el("div", { class: "scores" }),
      el("ul", { class: "problems" }),
      el("div", { class: "fixes" }),
      el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, el("div", { class: "bar" })),
      el("div", { class: "stage" }),
      el("div", { class: "card-tools" },
        el("button", { type: "button", class: "tool reroll", hidden: "", onclick: stop(() => askKeyframes([shotId], true)) }, "Re-roll"),
        el("button", { type: "button", class: "tool edit", onclick: stop(() => openShot(shotId, true)) }, "Edit"),
        el("label", { class: "tool pick", onclick: (e) => e.stopPropagation() }, "Image", fileInput),
        el("button", { type: "button", class: "tool earlier", onclick: stop(() => moveShot(shotId, -1)) }, "◀"),
        el("button", { type: "button", class: "tool later", onclick: stop(() => moveShot(shotId, 1)) }, "▶"),
        el("button", { type: "button", class: "tool remove", onclick: stop(() => removeShot(shotId)) }, "Remove"))));
  card.addEventListener("click", () => openShot(shotId));
  card.addEventListener("keydown", (e) => {
    if (e.target !== card) return;
    if (e.key === "Enter") openShot(shotId);
    else if (e.altKey && (e.key === "ArrowLeft" || e.key === "ArrowUp")) { e.preventDefault(); moveShot(shotId, -1); }
    else if (e.altKey && (e.key === "ArrowRight" || e.key === "ArrowDown")) { e.preventDefault(); moveShot(shotId, 1); }
  });
  wireDrag(card);
  const p = state.progress.get(shotId);
  if (p) paintProgress(card, p);
  return card;
}

function paintShot(card, shot, number, count) {
  card.dataset.number = number;
  const name = `Shot ${number}`;
  card.setAttribute("aria-label", `${name}: ${[shot.subject, shot.action].filter(Boolean).join(", ")}`);
  card.querySelector(".num").textContent = name;
  card.querySelector(".dur").textContent = `${fmt(shot.duration)} s`;
  const mode = card.querySelector(".mode");
  mode.hidden = shot.mode === "t2v";
  mode.textContent = shot.mode === "i2v" ? "from your image" : shot.mode === "v2v" ? "from your clip" : "";
  const what = [shot.subject, shot.action].filter(Boolean).join(", ");
  card.querySelector(".subject").textContent = what || shot.prompt || "";
  card.querySelector(".subject").title = shot.prompt || "";
  card.querySelector(".placeholder").textContent = shot.setting || what || name;
  const chips = [shot.camera, shot.framing, shot.transition !== "cut" ? `→ ${shot.transition}` : null];
  card.querySelector(".chips").replaceChildren(...chips.filter(Boolean).map((c) => el("span", { class: "chip" }, words(c))));
  card.querySelector(".earlier").disabled = number === 1;
  card.querySelector(".later").disabled = number === count;
  card.querySelector(".remove").disabled = count === 1;
  card.querySelector(".earlier").setAttribute("aria-label", `Move ${name.toLowerCase()} earlier`);
  card.querySelector(".later").setAttribute("aria-label", `Move ${name.toLowerCase()} later`);
  card.querySelector(".remove").setAttribute("aria-label", `Remove ${name.toLowerCase()}`);
  card.querySelector(".edit").setAttribute("aria-label", `Edit ${name.toLowerCase()}`);
  card.querySelector(".reroll").setAttribute("aria-label", `Re-roll the still of ${name.toLowerCase()}`);
  card.querySelector(".pick").setAttribute("title", `Use an image (or clip) for ${name.toLowerCase()}: pick, drop or paste one`);
}

function paintTake(card, shotId) {
  const take = state.takes.get(shotId);
  const thumb = card.querySelector(".thumb");
  let img = thumb.querySelector("img:not(.still)");
  card.dataset.take = take ? take.id : "";
  if (take && take.thumbnail) {
    if (!img) { img = el("img", { alt: `${shotName(shotId)}, take ${take.attempt ?? ""}` }); thumb.prepend(img); }
    img.src = withToken(take.thumbnail);
    thumb.querySelector(".placeholder").hidden = true;
  }
  card.querySelector(".scores").replaceChildren(...scoreChips(take?.critique, 3));
  paintProblems(card, shotId, take);
  paintStill(card, shotId);
}

// The critic's failing checks in words, and the two ways forward.
function paintProblems(card, shotId, take) {
  const failed = take?.critique?.verdict === "fail";
  const accepted = take && state.accepted[shotId] === take.id;
  const reasons = failed ? problemLines(take.critique) : [];
  card.querySelector(".problems").replaceChildren(...reasons.slice(0, 3).map((r) => el("li", {}, `${cap(shotName(shotId))}: ${r}`)));
  const fixes = card.querySelector(".fixes");
  fixes.replaceChildren();
  if (failed && accepted) fixes.append(el("span", { class: "pill accepted" }, "✓ accepted as it is"));
  else if (failed) {
    fixes.append(
      el("button", { type: "button", class: "tool regen", onclick: (e) => { e.stopPropagation(); regenerate(shotId); } }, `Regenerate ${shotName(shotId)}`),
      el("button", { type: "button", class: "tool accept", onclick: (e) => { e.stopPropagation(); acceptTake(shotId); } }, "Accept anyway"));
  }
}

function problemLines(critique) {
  const lines = (critique?.reasons || []).filter((r) => !/not measured/i.test(r));
  if (lines.length) return lines;
  return Object.entries(critique?.metrics || {}).filter(([, m]) => m && m.passed === false)
    .map(([name, m]) => m.reason || `${METRICS[name] || words(name)} is outside its limit`);
}

function scoreChips(critique, limit) {
  if (!critique) return [];
  const ok = critique.verdict === "pass";
  const verdict = el("span", { class: `pill ${ok ? "pass" : "fail"}` }, `${ok ? "✓ critic: pass" : "✗ critic: fail"}`);
  verdict.title = "The critic's overall verdict on this take";
  const chips = [verdict];
  const metrics = Object.entries(critique.metrics || {})
    .filter(([, m]) => m && m.value !== null && m.value !== undefined)
    .sort(([, a], [, b]) => (a.passed === false ? 0 : 1) - (b.passed === false ? 0 : 1));
  for (const [name, m] of metrics.slice(0, limit)) chips.push(metricChip(name, m));
  return chips;
}

function metricChip(name, m) {
  const cls = m.passed === true ? "pass" : m.passed === false ? "fail" : "unmeasured";
  const mark = m.passed === true ? "✓" : m.passed === false ? "✗" : "·";
  const direction = m.higher_is_better === false ? "lower is better" : "higher is better";
  const meaning = METRICS[name] || words(name);
  const limit = m.threshold != null ? `, limit ${fmt(m.threshold)}` : "";
  const chip = el("span", { class: `metric ${cls}`, tabindex: "0" },
    `${mark} ${words(name)} ${fmt(m.value)} `, el("span", { class: "dir", "aria-hidden": "true" }, m.higher_is_better === false ? "↓" : "↑"));
  const text = `${meaning}: ${fmt(m.value)} (${direction}${limit})${m.passed === false ? " — failed" : m.passed === true ? " — passed" : ""}`;
  chip.title = m.reason ? `${text}. ${m.reason}` : text;
  chip.setAttribute("aria-label", text);
  return chip;
}

const STAGES = { generate: "generating", critique: "critiquing", encode: "encoding", reused: "unchanged: take reused", done: "ready", queued: "queued" };

function setBar(progress, frac) {
  const pct = Math.round(Math.max(0, Math.min(1, frac)) * 100);
  progress.querySelector(".bar").style.width = `${pct}%`;
  progress.setAttribute("aria-valuenow", String(pct));
  return pct;
}

function paintProgress(card, p) {
  const frac = shotFraction(p);
  const pct = setBar(card.querySelector(".progress"), frac);
  card.classList.toggle("done", frac >= 1);
  let label = STAGES[p.stage] || p.stage;
  if (p.stage === "generate" && p.total) label += ` ${p.done}/${p.total}`;
  if (p.attempt > 1 && p.stage !== "done") label += ` · take ${p.attempt}`;
  if (p.elapsed != null && p.stage !== "reused") label += ` · ${secs(p.elapsed)}`;
  if (p.left != null && p.left > 0 && !["done", "reused"].includes(p.stage)) label += ` · ~${secs(p.left)} left`;
  card.querySelector(".stage").textContent = label;
  card.querySelector(".progress").setAttribute("aria-valuetext", `${label} (${pct}%)`);
}

function shotFraction(p) {
  if (!p) return 0;
  if (p.stage === "done" || p.stage === "reused") return 1;
  const within = p.total ? p.done / p.total : 0;
  return { generate: 0.7 * within, critique: 0.75, encode: 0.9 }[p.stage] ?? 0;
}

function paintOverall(ev) {
  const shots = state.storyboard?.shots || [];
  if (!shots.length) return;
  const box = $("overall");
  box.hidden = false;
  let frac = shots.reduce((a, s) => a + shotFraction(state.progress.get(s.id)), 0) / shots.length;
  let label = `shots ${shots.filter((s) => shotFraction(state.progress.get(s.id)) >= 1).length}/${shots.length}`;
  if (ev && ev.shot_id === "*") {
    const within = ev.total ? ev.done / ev.total : 0;
    frac = ev.stage === "sign" ? 0.98 : 0.85 + 0.12 * within;
    label = ev.stage === "sign" ? "signing the cut" : `assembling the cut ${Math.round(within * 100)}%`;
  } else {
    frac *= 0.85;
  }
  if (state.renderStarted) {
    const elapsed = (Date.now() - state.renderStarted) / 1000;
    label += ` · ${secs(elapsed)}`;
    if (state.filmEstimate) label += ` · ~${secs(Math.max(0, state.filmEstimate - elapsed))} left`;
  }
  const pct = setBar(box.querySelector(".progress"), frac);
  box.querySelector(".progress").setAttribute("aria-valuetext", `${label} (${pct}%)`);
  box.querySelector(".label").textContent = label;
}

// ------------------------------------------------------------------ card edits: each one a new version through the director

function editBoard(message, said) {
  if (!state.projectId) return;
  if (said) addMessage("user", said);
  send({ type: "edit_shot", project_id: state.projectId, ...message });
}

function moveShot(shotId, step) {
  const n = shotNumber(shotId);
  const count = state.storyboard?.shots.length || 0;
  const to = n + step;
  if (!n || to < 1 || to > count) return;
  editBoard({ action: "move", shot_id: shotId, position: to }, `move shot ${n} to position ${to}`);
}

function removeShot(shotId) {
  editBoard({ action: "remove", shot_id: shotId }, `remove ${shotName(shotId)}`);
}

function regenerate(shotId) {
  const text = `regenerate ${shotName(shotId)}`;
  addMessage("user", text);
  send({ type: "feedback", project_id: state.projectId, text: "regenerate", shots: [shotId] });
  setBusy(true);
}

function acceptTake(shotId) {
  const take = state.takes.get(shotId);
  if (!take) return;
  state.accepted[shotId] = take.id;
  send({ type: "accept_take", project_id: state.projectId, shot_id: shotId });
  const card = cardFor(shotId);
  if (card) paintProblems(card, shotId, take);
  paintCutProblems();
}

async function attachToShot(shotId, file) {
  if (!state.projectId) return;
  addMessage("user", `use ${file.name || "this image"} for ${shotName(shotId)}`);
  try {
    const upload = await uploadFile(file);
    send({ type: "edit_shot", project_id: state.projectId, shot_id: shotId, upload });
  } catch (err) {
    addMessage("error", `The file was not accepted: ${err.message}`);
  }
}

function fileFrom(dataTransfer) {
  return [...(dataTransfer?.files || [])].find((f) => /^(image|video)\//.test(f.type)) || null;
}

// drag a card onto another to reorder it; drop an image or clip from the desktop onto a card to use it
let dragged = null;
function wireDrag(card) {
  card.addEventListener("dragstart", (e) => {
    dragged = card;
    card.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.shot);
  });
  card.addEventListener("dragend", () => { card.classList.remove("dragging"); clearDropMarks(); dragged = null; });
  card.addEventListener("dragover", (e) => {
    if (!dragged && [...(e.dataTransfer?.types || [])].includes("Files")) { e.preventDefault(); card.classList.add("drop-file"); return; }
    if (!dragged || dragged === card) return;
    e.preventDefault();
    clearDropMarks();
    card.classList.add(dropAfter(card, e) ? "drop-after" : "drop-before");
  });
  card.addEventListener("dragleave", () => card.classList.remove("drop-before", "drop-after", "drop-file"));
  card.addEventListener("drop", (e) => {
    e.preventDefault();
    card.classList.remove("drop-file");
    const file = !dragged && fileFrom(e.dataTransfer);
    if (file) { attachToShot(card.dataset.shot, file); return; }
    if (!dragged || dragged === card) return;
    const shotId = dragged.dataset.shot;
    const target = Number(card.dataset.number) + (dropAfter(card, e) ? 1 : 0);
    const from = Number(dragged.dataset.number);
    const to = from < target ? target - 1 : target;
    clearDropMarks();
    if (from === to) return;
    editBoard({ action: "move", shot_id: shotId, position: to }, `move shot ${from} to position ${to}`);
  });
}
const dropAfter = (card, e) => { const r = card.getBoundingClientRect(); return e.clientX > r.left + r.width / 2; };
const clearDropMarks = () => document.querySelectorAll(".drop-before,.drop-after").forEach((n) => n.classList.remove("drop-before", "drop-after"));

// ------------------------------------------------------------------ one shot: edit its fields, feedback, takes

let dialogShot = null;

function fillSelect(select, values, current) {
  select.replaceChildren(...values.map((v) => el("option", { value: v }, words(v))));
  select.value = current;
}

async function openShot(shotId, focusEdit = false) {
  const shot = state.storyboard?.shots.find((s) => s.id === shotId);
  if (!shot) return;
  dialogShot = shotId;
  $("shot-dialog-title").textContent = cap(shotName(shotId));
  $("shot-prompt").textContent = shot.prompt || "";
  const form = $("shot-edit");
  for (const name of ["subject", "action", "setting", "lighting", "duration", "negative_prompt", "narration"]) {
    form.elements[name].value = shot[name] ?? "";
  }
  fillSelect(form.elements.camera, CAMERAS, shot.camera);
  fillSelect(form.elements.framing, FRAMINGS, shot.framing);
  $("shot-takes").replaceChildren(el("p", { class: "muted" }, "loading takes…"));
  $("compare-takes").hidden = true;
  $("compare-takes").replaceChildren();
  $("shot-feedback-input").value = "";
  if (!$("shot-dialog").open) $("shot-dialog").showModal();
  (focusEdit ? form.elements.subject : $("shot-feedback-input")).focus();
  try {
    const project = await api(`/api/projects/${encodeURIComponent(state.projectId)}`);
    if (dialogShot !== shotId) return;
    renderTakes(shotId, (project.takes || {})[shotId] || []);
  } catch (err) {
    $("shot-takes").replaceChildren(el("p", { class: "muted" }, `could not load takes: ${err.message}`));
  }
}

function saveShot(e) {
  e.preventDefault();
  const shot = state.storyboard?.shots.find((s) => s.id === dialogShot);
  if (!shot) return;
  const form = $("shot-edit");
  const fields = {};
  for (const name of ["subject", "action", "setting", "lighting", "camera", "framing", "negative_prompt", "narration"]) {
    const v = form.elements[name].value.trim();
    if (v !== (shot[name] ?? "")) fields[name] = v;
  }
  const duration = Number(form.elements.duration.value);
  if (duration && duration !== shot.duration) fields.duration = duration;
  if (!Object.keys(fields).length) { $("shot-dialog").close(); return; }
  editBoard({ shot_id: dialogShot, fields }, `${shotName(dialogShot)}: ${Object.entries(fields).map(([k, v]) => `${words(k)} → ${words(v) || "none"}`).join(", ")}`);
  $("shot-dialog").close();
}

function renderTakes(shotId, takes) {
  const usable = takes.filter((t) => t.status !== "error");
  if (!usable.length) { $("shot-takes").replaceChildren(el("p", { class: "muted" }, "No takes yet: render to make some.")); return; }
  usable.sort((a, b) => (b.attempt || 0) - (a.attempt || 0));
  const base = `/media/${state.projectId}`;
  $("shot-takes").replaceChildren(...usable.map((t) => {
    const reasons = problemLines(t.critique);
    const failed = t.critique?.verdict === "fail";
    return el("div", { class: `take${t.selected ? " selected" : ""}`, dataset: { take: t.id } },
      el("video", { class: "take-video", src: withToken(`${base}/takes/${t.id}.mp4`), poster: withToken(`${base}/thumbs/${t.id}.jpg`),
        controls: "", preload: "none", playsinline: "", muted: "", "aria-label": `${cap(shotName(shotId))}, take ${t.attempt}` }),
      el("div", { class: "take-body" },
        el("div", {}, el("strong", {}, `Take ${t.attempt}`), el("span", { class: "muted" }, ` · seed ${t.seed}`)),
        el("div", { class: "scores" }, scoreChips(t.critique, 8)),
        failed && reasons.length ? el("ul", { class: "reasons" }, reasons.slice(0, 4).map((r) => el("li", {}, r))) : null,
        t.critique ? critiquePlot(`${base}/plots/${t.id}.png`) : null,
        el("label", { class: "compare-pick" }, el("input", { type: "checkbox", value: t.id, onchange: () => compareTakes(shotId) }), " compare"),
        t.selected ? el("span", { class: "pill pass" }, "✓ in the cut")
          : el("button", { type: "button", onclick: () => selectTake(shotId, t.id, t.attempt) }, "Use this take")));
  }));
}

// The critic's plot (one row per metric, its limit dashed, failing frames shaded), drawn on first opening.
function critiquePlot(url) {
  const details = el("details", { class: "plot" }, el("summary", {}, "critique plot"));
  details.addEventListener("toggle", () => {
    if (details.open && !details.querySelector("img")) {
      details.append(el("img", { src: withToken(url), alt: "The critic's measurements over the take's frames, with their limits" }),
        el("a", { href: withToken(url), target: "_blank", rel: "noopener" }, "open full size"));
    }
  });
  return details;
}

function compareTakes(shotId) {
  const picked = [...document.querySelectorAll("#shot-takes .compare-pick input:checked")].map((i) => i.value);
  const base = `/media/${state.projectId}`;
  showCompare($("compare-takes"), picked.slice(-2).map((id) => ({ src: `${base}/takes/${id}.mp4`, label: `take ${document.querySelector(`#shot-takes .take[data-take="${CSS.escape(id)}"] strong`)?.textContent.replace("Take ", "") ?? id}` })));
}

// Two players side by side, kept on the same frame: one button plays, pauses and restarts both.
function showCompare(box, items) {
  if (items.length < 2) { box.hidden = true; box.replaceChildren(); return; }
  const players = items.map((it) => el("video", { src: withToken(it.src), preload: "auto", playsinline: "", muted: "", "aria-label": it.label }));
  const [a, b] = players;
  const sync = () => { if (Math.abs(b.currentTime - a.currentTime) > 0.12) b.currentTime = a.currentTime; };
  a.addEventListener("timeupdate", sync);
  a.addEventListener("seeked", sync);
  a.addEventListener("play", () => { sync(); b.play().catch(() => {}); });
  a.addEventListener("pause", () => b.pause());
  const toggle = el("button", { type: "button", class: "primary compare-play", onclick: () => {
    if (a.paused) { a.currentTime = a.ended ? 0 : a.currentTime; a.play().catch(() => {}); } else a.pause();
  } }, "Play both");
  a.addEventListener("play", () => { toggle.textContent = "Pause both"; });
  a.addEventListener("pause", () => { toggle.textContent = "Play both"; });
  box.hidden = false;
  box.replaceChildren(
    el("div", { class: "compare-grid" }, ...items.map((it, i) => el("figure", {}, players[i], el("figcaption", {}, it.label)))),
    toggle);
}

function selectTake(shotId, takeId, attempt) {
  send({ type: "select_take", project_id: state.projectId, shot_id: shotId, take_id: takeId });
  addMessage("user", `use take ${attempt} for ${shotName(shotId)}`);
  setBusy(true);
  $("shot-dialog").close();
}

// ------------------------------------------------------------------ versions

async function refreshHistory() {
  if (!state.projectId) return;
  send({ type: "history", project_id: state.projectId });
}

function renderHistory() {
  const list = $("versions");
  const versions = [...state.history].reverse();
  list.replaceChildren(...versions.map((v) => {
    const changed = (v.changed_shots || []).map((id) => shotNumber(id)).filter(Boolean);
    const what = v.parent == null ? "the first storyboard"
      : [changed.length ? `changed shot${changed.length > 1 ? "s" : ""} ${changed.join(", ")}` : "",
        (v.removed_shots || []).length ? `removed ${v.removed_shots.length}` : ""].filter(Boolean).join(" · ") || "no shot changed";
    const current = v.number === state.version;
    return el("li", { class: `version${current ? " current" : ""}`, dataset: { version: v.number } },
      el("div", { class: "version-head" }, el("strong", {}, `Version ${v.number}`), current ? el("span", { class: "pill pass" }, "current") : null,
        el("span", { class: "muted" }, ` ${when(v.created_at)}`)),
      el("div", {}, v.reason || ""),
      el("div", { class: "muted" }, what),
      el("div", { class: "version-tools" },
        current ? null : el("button", { type: "button", class: "restore", onclick: () => restoreVersion(v.number) }, "Go back to this version"),
        v.cut ? el("label", { class: "compare-pick" }, el("input", { type: "checkbox", value: v.number, onchange: compareVersions }), " compare cut") : null));
  }));
  $("undo").disabled = state.busy || !(state.version > 1);
}

function compareVersions() {
  const picked = [...document.querySelectorAll("#versions .compare-pick input:checked")].map((i) => Number(i.value));
  const items = picked.slice(-2).sort((x, y) => x - y).map((n) => ({ src: state.history.find((v) => v.number === n).cut, label: `version ${n}` }));
  showCompare($("compare-versions"), items);
}

function restoreVersion(number) {
  addMessage("user", `go back to version ${number}`);
  send({ type: "restore_version", project_id: state.projectId, version: number });
  $("history-dialog").close();
}

function when(iso) {
  const d = new Date(String(iso).replace(" ", "T") + (/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? "" : "Z"));
  return isNaN(d) ? "" : d.toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

// ------------------------------------------------------------------ the cut

function showCut(ev) {
  $("cut").hidden = false;
  const bust = `v=${encodeURIComponent(ev.cut_id || Date.now())}`;
  const player = $("player");
  player.src = withToken(`${ev.url}?${bust}`);
  player.dataset.cut = ev.cut_id || "";
  player.replaceChildren();
  const files = ev.files || {};
  const vtt = files.vtt || files["final.vtt"];
  if (vtt) player.append(el("track", { kind: "subtitles", label: "Subtitles", srclang: "en", src: withToken(`${vtt}?${bust}`), default: "" }));
  const verdict = $("cut-verdict");
  verdict.hidden = !ev.verdict;
  verdict.className = `pill ${ev.verdict === "pass" ? "pass" : "fail"}`;
  verdict.textContent = ev.verdict ? (ev.verdict === "pass" ? "✓ critic: pass" : "✗ critic: fail") : "";
  $("cut-meta").textContent = [ev.version != null ? `version ${ev.version}` : "", ev.duration ? `${fmt(ev.duration)} s` : ""].filter(Boolean).join(" · ");
  const labels = [["mp4", "MP4"], ["srt", "Subtitles (SRT)"], ["vtt", "Subtitles (VTT)"], ["otio", "OpenTimelineIO"],
    ["contact_sheet", "Contact sheet"], ["critique", "Critique"], ["manifest", "Manifest"], ["storyboard", "Storyboard YAML"]];
  const links = [];
  for (const [key, label] of labels) {
    const url = files[key] || Object.entries(files).find(([k]) => k.startsWith(`final.${key}`) || k.startsWith(`${key}.`))?.[1];
    if (!url) continue;
    links.push(el("a", { href: withToken(url), download: url.split("/").pop(), dataset: { kind: key } }, label));
  }
  if (!links.length && ev.url) links.push(el("a", { href: withToken(ev.url), download: "final.mp4", dataset: { kind: "mp4" } }, "MP4"));
  $("downloads").replaceChildren(...links);
  paintCutProblems();
}

// Under the cut: every failing shot in words, with its fixes.
function paintCutProblems() {
  const box = $("cut-problems");
  const rows = [];
  for (const shot of state.storyboard?.shots || []) {
    const take = state.takes.get(shot.id);
    if (take?.critique?.verdict !== "fail" || state.accepted[shot.id] === take.id) continue;
    const line = problemLines(take.critique)[0] || "failed the critic's checks";
    rows.push(el("li", {}, el("span", {}, `${cap(shotName(shot.id))}: ${line}`),
      el("button", { type: "button", class: "tool regen", onclick: () => regenerate(shot.id) }, `Regenerate ${shotName(shot.id)}`),
      el("button", { type: "button", class: "tool accept", onclick: () => acceptTake(shot.id) }, "Accept anyway")));
  }
  box.hidden = !rows.length;
  box.replaceChildren(...rows);
}

function cutFromState(project) {
  const cuts = project.cuts || [];
  if (!cuts.length) return null;
  const c = cuts[cuts.length - 1];
  const base = `/media/${project.project?.id || state.projectId}`;
  const files = project.files || {};   // by file name, only those the cut has (no subtitles without words)
  return { cut_id: c.id, version: c.version, url: `${base}/final.mp4`, files, duration: c.manifest?.duration,
    verdict: project.critique?.verdict };
}

// ------------------------------------------------------------------ projects

function setProject(pid) {
  state.projectId = pid;
  state.awaitingPlan = false;
  if (pid) localStorage.setItem(PROJECT_KEY, pid); else localStorage.removeItem(PROJECT_KEY);
  $("project-select").value = pid || "";
}

function resetBoard() {
  state.storyboard = null; state.version = null; state.takes.clear(); state.progress.clear();
  state.history = []; state.accepted = {}; state.renderStarted = null; state.filmEstimate = 0;
  state.keyframes = null; state.keyframesPending = false;
  $("cards").replaceChildren();
  $("empty").hidden = false;
  $("add-shot").hidden = true;
  $("title").textContent = "No film yet";
  $("meta").textContent = "";
  $("cut").hidden = true; $("player").removeAttribute("src");
  $("overall").hidden = true; $("safety").hidden = true;
  $("render").disabled = true; $("undo").disabled = true; $("history").disabled = true;
  $("messages").replaceChildren();
  setBusy(false);
}

async function loadProject(pid) {
  resetBoard();
  setProject(pid);
  if (!pid) {
    addMessage("system", "New film: describe it below.");
    showTab("chat");
    return;
  }
  let project;
  try { project = await api(`/api/projects/${encodeURIComponent(pid)}`); } catch { setProject(null); return; }
  for (const m of project.messages || []) addMessage(m.role === "user" ? "user" : "director", m.text ?? m.content ?? "");
  state.accepted = project.accepted || {};
  state.history = project.history || [];
  for (const [shotId, takes] of Object.entries(project.takes || {})) {
    const sel = takes.find((t) => t.selected);
    if (sel) {
      state.takes.set(shotId, { ...sel, thumbnail: `/media/${pid}/thumbs/${sel.id}.jpg` });
      state.progress.set(shotId, { stage: "done", done: 1, total: 1 });
    }
  }
  const latest = (project.versions || []).at(-1) || {};
  state.storyboard = project.storyboard;
  state.version = project.version;
  renderBoard(project.storyboard, [], latest.reason || "", project.duration);
  if (project.keyframes) onKeyframes(project.keyframes);
  restoreJob(project.job);
  for (const card of $("cards").children) {
    const p = state.progress.get(card.dataset.shot);
    if (p) paintProgress(card, p);
  }
  const cut = cutFromState(project);
  if (cut) showCut(cut);
  renderHistory();
  send({ type: "subscribe", project_id: pid });
}

// A render that was running when the page (re)loaded: its stage, each shot's progress and the clock.
function restoreJob(job) {
  if (!job) return;
  setBusy(true);
  state.renderStarted = Date.now() - (job.elapsed || 0) * 1000;
  state.filmEstimate = job.estimate || 0;
  state.estimates = job.estimates || {};
  for (const id of Object.keys(job.estimates || {})) {
    const p = (job.shots || {})[id];
    if (p) state.progress.set(id, p);
    else { state.takes.delete(id); state.progress.set(id, { stage: "queued", done: 0, total: 1 }); }
  }
  for (const [id, p] of Object.entries(job.shots || {})) if (p.stage !== "done" && p.stage !== "reused") state.takes.delete(id);
  for (const card of $("cards").children) { if (!state.takes.has(card.dataset.shot)) resetCard(card.dataset.shot, "queued"); }
  paintOverall();
  $("overall").querySelector(".label").textContent += ` · ${job.stage}`;
}

async function refreshProjects() {
  let projects = [];
  try { projects = await api("/api/projects"); } catch { return; }
  const sel = $("project-select");
  sel.replaceChildren(el("option", { value: "" }, "New film"),
    ...projects.map((p) => el("option", { value: p.id }, `${p.title || p.id} · ${when(p.updated_at || p.created_at)}`)));
  sel.value = state.projectId || "";
}

function setBusy(busy) {
  state.busy = busy;
  $("render").disabled = busy || !state.storyboard;
  $("undo").disabled = busy || !(state.version > 1);
  $("cancel").disabled = !busy;
  if (!busy) state.renderStarted = null;
  paintKeyframeButtons();
}

// ------------------------------------------------------------------ phone: chat and board are tabs

function showTab(name) {
  document.body.dataset.tab = name;
  $("tab-chat").setAttribute("aria-selected", String(name === "chat"));
  $("tab-board").setAttribute("aria-selected", String(name === "board"));
  if (name === "board") $("tab-board").classList.remove("news");
}

// ------------------------------------------------------------------ wiring

function wire() {
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sendChat($("chat-input").value);
    $("chat-input").value = "";
  });
  $("chat-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("chat-form").requestSubmit(); }
  });
  $("chat-file").addEventListener("change", (e) => setAttachment(e.target.files[0] || null));
  $("attachment-remove").addEventListener("click", () => setAttachment(null));
  $("chat-panel").addEventListener("dragover", (e) => { if ([...(e.dataTransfer?.types || [])].includes("Files")) e.preventDefault(); });
  $("chat-panel").addEventListener("drop", (e) => { const f = fileFrom(e.dataTransfer); if (f) { e.preventDefault(); setAttachment(f); } });
  // Paste an image: onto a focused card it is that shot's; anywhere else it is the chat's attachment.
  document.addEventListener("paste", (e) => {
    const file = fileFrom(e.clipboardData);
    if (!file) return;
    e.preventDefault();
    const card = document.activeElement?.closest?.(".card");
    if (card) attachToShot(card.dataset.shot, file); else setAttachment(file);
  });
  $("render").addEventListener("click", () => {
    if (!state.projectId) return;
    send({ type: "render", project_id: state.projectId });
    $("safety").hidden = true;  // each render is checked again; a new notice comes back if still needed
    setBusy(true);
  });
  $("keyframes").addEventListener("click", () => askKeyframes(null, false));
  $("approve-keyframes").addEventListener("click", approveKeyframes);
  $("cancel").addEventListener("click", () => state.projectId && send({ type: "cancel", project_id: state.projectId }));
  $("undo").addEventListener("click", () => {
    const current = state.history.find((v) => v.number === state.version);
    const parent = current?.parent ?? (state.version > 1 ? state.version - 1 : null);
    if (parent) restoreVersion(parent);
  });
  $("history").addEventListener("click", () => { renderHistory(); $("history-dialog").showModal(); refreshHistory(); });
  $("add-shot").addEventListener("click", () => editBoard({ action: "add", fields: { subject: "a new shot" } }, "add a shot at the end"));
  $("shot-edit").addEventListener("submit", saveShot);
  $("shot-file").addEventListener("change", (e) => {
    const f = e.target.files[0];
    e.target.value = "";
    if (f && dialogShot) { attachToShot(dialogShot, f); $("shot-dialog").close(); }
  });
  $("shot-feedback").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("shot-feedback-input").value.trim();
    if (!text || !dialogShot) return;
    addMessage("user", `${shotName(dialogShot)}: ${text}`);
    send({ type: "feedback", project_id: state.projectId, text, shots: [dialogShot] });
    setBusy(true);
    $("shot-dialog").close();
  });
  for (const d of [$("shot-dialog"), $("history-dialog")]) {
    d.addEventListener("close", () => d.querySelectorAll("video").forEach((v) => v.pause()));
  }
  $("tab-chat").addEventListener("click", () => showTab("chat"));
  $("tab-board").addEventListener("click", () => showTab("board"));
  $("project-select").addEventListener("change", (e) => loadProject(e.target.value || null));
  $("new-film").addEventListener("click", () => loadProject(null));
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const t = $("login-token").value.trim();
    if (!t) return;
    localStorage.setItem(TOKEN_KEY, t);
    location.reload();
  });
  setInterval(() => { if (state.busy && state.renderStarted) paintOverall(); }, 1000);
}

async function main() {
  wire();
  state.token = takeTokenFromUrl();
  if (!state.token) { askForToken(); return; }
  try {
    const me = await api("/api/me");
    $("user").textContent = me.name;
  } catch { return; }
  connect();
  await refreshProjects();
  const last = localStorage.getItem(PROJECT_KEY);
  if (last && [...$("project-select").options].some((o) => o.value === last)) { await loadProject(last); showTab("board"); }
}

main();
