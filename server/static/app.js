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

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  if (res.status === 401) { askForToken("That token was not accepted."); throw new Error("unauthorized"); }
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
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

// ------------------------------------------------------------------ events from the director

function handle(ev) {
  const pid = ev.project_id;
  // A tab follows one project; a brief we sent adopts the project it made.
  if (pid && state.projectId && pid !== state.projectId) return;
  if (pid && !state.projectId && (state.awaitingPlan || ev.type === "storyboard")) setProject(pid);
  switch (ev.type) {
    case "director_message": return onDirectorMessage(ev);
    case "storyboard": return onStoryboard(ev);
    case "shot_progress": return onProgress(ev);
    case "take_ready": return onTake(ev);
    case "cut_ready": return onCut(ev);
    case "safety_notice": return onSafety(ev);
    case "error": return onError(ev);
  }
}

function onDirectorMessage(ev) {
  clearThinking();
  addMessage("director", ev.text);
  if (ev.cancelled) setBusy(false);
}

function onStoryboard(ev) {
  clearThinking();
  state.storyboard = ev.storyboard;
  state.version = ev.version;
  renderBoard(ev.storyboard, ev.changed_shots || [], ev.reason || "");
  refreshProjects();
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
  state.progress.set(ev.shot_id, { stage: "done", done: 1, total: 1 });
  const card = cardFor(ev.shot_id);
  if (card) {
    paintTake(card, ev.shot_id);
    paintProgress(card, state.progress.get(ev.shot_id));
    card.classList.remove("changed");
    card.classList.remove("updated");
    void card.offsetWidth;  // restart the flash animation
    card.classList.add("updated");
  }
  paintOverall();
}

function onCut(ev) {
  setBusy(false);
  showCut(ev);
  for (const [id] of state.progress) state.progress.set(id, { stage: "done", done: 1, total: 1 });
  $("overall").hidden = true;
}

function onSafety(ev) {
  const box = $("safety");
  box.hidden = false;
  box.dataset.verdict = ev.verdict;
  box.replaceChildren(
    el("strong", {}, `Safety: ${String(ev.verdict).replace("_", " ")}`),
    el("span", {}, ev.verdict === "warn" ? "The film can be made; please read:" : "This cannot be made as written:"),
    el("ul", {}, (ev.reasons || []).map((r) => el("li", {}, r))),
  );
}

function onError(ev) {
  clearThinking();
  state.awaitingPlan = false;
  if (ev.code === "busy" || ev.code === "rate_limited" || ev.code === "not_running") {
    addMessage("error", `${ev.message}  (${ev.code})`);
    return;  // whatever was running still is
  }
  setBusy(false);
  // Shots that never started are no longer queued.
  for (const [id, p] of state.progress) {
    if (p.stage !== "queued") continue;
    state.progress.delete(id);
    const card = cardFor(id);
    if (card) { card.querySelector(".progress .bar").style.width = "0"; card.querySelector(".stage").textContent = ""; }
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

function sendChat(text) {
  text = text.trim();
  if (!text) return;
  addMessage("user", text);
  addMessage("director thinking", "thinking…");
  if (!state.projectId) state.awaitingPlan = true;
  send({ type: "user_message", project_id: state.projectId, text });
}

// ------------------------------------------------------------------ the storyboard

function cardFor(shotId) {
  return document.querySelector(`.card[data-shot="${CSS.escape(shotId)}"]`);
}

function renderBoard(sb, changed, reason) {
  $("empty").hidden = true;
  $("title").textContent = sb.title || "Untitled";
  const secs = (sb.shots || []).reduce((a, s) => a + (s.duration || 0), 0);
  $("meta").textContent = `Version ${state.version ?? "?"}${reason ? ` · ${reason}` : ""} · ${sb.shots.length} shots · ${fmt(secs)} s · ${sb.aspect_ratio} · ${sb.fps} fps`;
  const [w, h] = (sb.aspect_ratio || "16:9").split(":");
  document.documentElement.style.setProperty("--aspect", `${w} / ${h}`);
  $("approve").disabled = false;
  $("render").disabled = state.busy;

  const list = $("cards");
  const keep = new Set();
  sb.shots.forEach((shot, i) => {
    let card = cardFor(shot.id);
    if (!card) card = makeCard(shot.id);
    keep.add(shot.id);
    paintShot(card, shot, i + 1);
    if (changed.includes(shot.id) && state.takes.has(shot.id)) card.classList.add("changed");
    list.append(card);  // append moves an existing node: cards follow the storyboard's order
  });
  for (const card of [...list.children]) if (!keep.has(card.dataset.shot)) card.remove();
}

function makeCard(shotId) {
  const card = el("li", { class: "card", draggable: "true", tabindex: "0", dataset: { shot: shotId } },
    el("div", { class: "thumb" },
      el("div", { class: "placeholder" }),
      el("span", { class: "num" }),
      el("span", { class: "dur" }),
      el("span", { class: "badge", hidden: "" }, "changed")),
    el("div", { class: "card-body" },
      el("div", { class: "card-title" }, el("span", { class: "id" })),
      el("div", { class: "subject" }),
      el("div", { class: "chips" }),
      el("div", { class: "scores" }),
      el("div", { class: "progress" }, el("div", { class: "bar" })),
      el("div", { class: "stage" })));
  card.addEventListener("click", () => openShot(shotId));
  card.addEventListener("keydown", (e) => { if (e.key === "Enter") openShot(shotId); });
  wireDrag(card);
  paintTake(card, shotId);
  const p = state.progress.get(shotId);
  if (p) paintProgress(card, p);
  return card;
}

function paintShot(card, shot, number) {
  card.dataset.number = number;
  card.querySelector(".num").textContent = `#${number}`;
  card.querySelector(".dur").textContent = `${fmt(shot.duration)} s`;
  card.querySelector(".id").textContent = shot.id;
  const what = [shot.subject, shot.action].filter(Boolean).join(", ");
  card.querySelector(".subject").textContent = what || shot.prompt || "";
  card.querySelector(".subject").title = shot.prompt || "";
  card.querySelector(".placeholder").textContent = shot.setting || what || shot.id;
  const chips = [shot.camera, shot.framing, shot.mode !== "t2v" ? shot.mode : null, shot.transition !== "cut" ? `→ ${shot.transition}` : null];
  card.querySelector(".chips").replaceChildren(...chips.filter(Boolean).map((c) => el("span", { class: "chip" }, String(c).replaceAll("_", " "))));
}

function paintTake(card, shotId) {
  const take = state.takes.get(shotId);
  const thumb = card.querySelector(".thumb");
  let img = thumb.querySelector("img");
  card.dataset.take = take ? take.id : "";
  if (take && take.thumbnail) {
    if (!img) { img = el("img", { alt: `shot ${shotId}` }); thumb.prepend(img); }
    img.src = withToken(take.thumbnail);
    thumb.querySelector(".placeholder").hidden = true;
  }
  card.querySelector(".scores").replaceChildren(...scoreChips(take?.critique, 4));
}

function scoreChips(critique, limit) {
  if (!critique) return [];
  const chips = [el("span", { class: `pill ${critique.verdict === "pass" ? "pass" : "fail"}` },
    `${critique.verdict} ${critique.score != null ? Number(critique.score).toFixed(2) : ""}`.trim())];
  const metrics = Object.entries(critique.metrics || {})
    .filter(([, m]) => m && m.value !== null && m.value !== undefined)
    .sort(([, a], [, b]) => (a.passed === false ? 0 : 1) - (b.passed === false ? 0 : 1));
  for (const [name, m] of metrics.slice(0, limit)) {
    const cls = m.passed === true ? "pass" : m.passed === false ? "fail" : "unmeasured";
    const chip = el("span", { class: `metric ${cls}` }, `${name.replaceAll("_", " ")} ${fmt(m.value)}`);
    chip.title = m.reason || `${name}: ${m.value}${m.threshold != null ? ` (limit ${m.threshold})` : ""}`;
    chips.push(chip);
  }
  return chips;
}

const STAGES = { generate: "generating", critique: "critiquing", encode: "encoding", reused: "unchanged: take reused", done: "ready", queued: "queued" };

function paintProgress(card, p) {
  const frac = shotFraction(p);
  card.querySelector(".progress .bar").style.width = `${Math.round(frac * 100)}%`;
  card.classList.toggle("done", frac >= 1);
  let label = STAGES[p.stage] || p.stage;
  if (p.stage === "generate" && p.total) label += ` ${p.done}/${p.total}`;
  if (p.attempt > 1 && p.stage !== "done") label += ` · take ${p.attempt}`;
  card.querySelector(".stage").textContent = label;
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
  box.querySelector(".bar").style.width = `${Math.round(frac * 100)}%`;
  box.querySelector(".label").textContent = label;
}

// drag a card onto another: the move is sent as feedback text, like anything else a person says
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
    if (!dragged || dragged === card) return;
    e.preventDefault();
    clearDropMarks();
    card.classList.add(dropAfter(card, e) ? "drop-after" : "drop-before");
  });
  card.addEventListener("dragleave", () => card.classList.remove("drop-before", "drop-after"));
  card.addEventListener("drop", (e) => {
    e.preventDefault();
    if (!dragged || dragged === card) return;
    const cards = [...$("cards").children];
    const from = cards.indexOf(dragged);
    let to = cards.indexOf(card) + (dropAfter(card, e) ? 1 : 0);
    if (from < to) to -= 1;
    clearDropMarks();
    if (from === to) return;
    const shotId = dragged.dataset.shot;
    const order = cards.map((c) => c.dataset.shot).filter((id) => id !== shotId);
    order.splice(to, 0, shotId);
    $("cards").insertBefore(dragged, $("cards").children[to >= from ? to + 1 : to] || null);
    // Said the way the director's feedback parser reads moves: to the start, to the end, after a shot.
    const text = to === 0 ? `move shot ${shotId} to the start`
      : to === order.length - 1 ? `move shot ${shotId} to the end`
      : `move shot ${shotId} after shot ${order[to - 1]}`;
    addMessage("user", text);
    send({ type: "feedback", project_id: state.projectId, text });
    setBusy(true);
  });
}
const dropAfter = (card, e) => { const r = card.getBoundingClientRect(); return e.clientX > r.left + r.width / 2; };
const clearDropMarks = () => document.querySelectorAll(".drop-before,.drop-after").forEach((n) => n.classList.remove("drop-before", "drop-after"));

// ------------------------------------------------------------------ one shot: details, takes, feedback

let dialogShot = null;

async function openShot(shotId) {
  const shot = state.storyboard?.shots.find((s) => s.id === shotId);
  if (!shot) return;
  dialogShot = shotId;
  const number = cardFor(shotId)?.dataset.number;
  $("shot-dialog-title").textContent = `Shot ${number} · ${shotId}`;
  $("shot-prompt").textContent = shot.prompt || "";
  const fields = [["duration", `${fmt(shot.duration)} s`], ["camera", shot.camera], ["framing", shot.framing],
    ["lighting", shot.lighting], ["mode", shot.mode], ["transition", shot.transition], ["narration", shot.narration],
    ["negative", shot.negative_prompt], ["seed", shot.seed]];
  $("shot-fields").replaceChildren(...fields.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v).replaceAll("_", " "))]));
  $("shot-takes").replaceChildren(el("p", { class: "muted" }, "loading takes…"));
  $("shot-feedback-input").value = "";
  if (!$("shot-dialog").open) $("shot-dialog").showModal();
  $("shot-feedback-input").focus();
  try {
    const project = await api(`/api/projects/${encodeURIComponent(state.projectId)}`);
    if (dialogShot !== shotId) return;
    renderTakes(shotId, (project.takes || {})[shotId] || []);
  } catch (err) {
    $("shot-takes").replaceChildren(el("p", { class: "muted" }, `could not load takes: ${err.message}`));
  }
}

function renderTakes(shotId, takes) {
  const usable = takes.filter((t) => t.status !== "error");
  if (!usable.length) { $("shot-takes").replaceChildren(el("p", { class: "muted" }, "No takes yet: render to make some.")); return; }
  usable.sort((a, b) => (b.attempt || 0) - (a.attempt || 0));
  $("shot-takes").replaceChildren(...usable.map((t) => {
    // The critic's reasons, minus its notes about metrics it could not measure on this machine.
    const reasons = (t.critique?.reasons || []).filter((r) => !/not measured/i.test(r));
    return el("div", { class: `take${t.selected ? " selected" : ""}`, dataset: { take: t.id } },
      el("img", { src: withToken(`/media/${state.projectId}/thumbs/${t.id}.jpg`), alt: `take ${t.attempt}` }),
      el("div", { class: "take-body" },
        el("div", {}, el("strong", {}, `Take ${t.attempt}`), el("span", { class: "muted" }, ` · seed ${t.seed}`)),
        el("div", { class: "scores" }, scoreChips(t.critique, 6)),
        reasons.length ? el("ul", { class: "reasons" }, reasons.slice(0, 3).map((r) => el("li", {}, r))) : null,
        t.selected ? el("span", { class: "pill pass" }, "in the cut")
          : el("button", { type: "button", onclick: () => selectTake(shotId, t.id) }, "Use this take")));
  }));
}

function selectTake(shotId, takeId) {
  send({ type: "select_take", project_id: state.projectId, shot_id: shotId, take_id: takeId });
  addMessage("user", `use take ${takeId} for shot ${shotId}`);
  setBusy(true);
  $("shot-dialog").close();
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
  verdict.textContent = ev.verdict ? `critic: ${ev.verdict}` : "";
  $("cut-meta").textContent = [ev.version != null ? `version ${ev.version}` : "", ev.duration ? `${fmt(ev.duration)} s` : ""].filter(Boolean).join(" · ");
  const labels = [["mp4", "MP4"], ["srt", "Subtitles (SRT)"], ["vtt", "Subtitles (VTT)"], ["otio", "OpenTimelineIO"],
    ["contact_sheet", "Contact sheet"], ["critique", "Critique"], ["manifest", "Manifest"], ["storyboard", "Storyboard YAML"]];
  const links = [];
  for (const [key, label] of labels) {
    const url = files[key] || Object.entries(files).find(([k]) => k.startsWith(`final.${key}`) || k.startsWith(`${key}.`))?.[1];
    if (!url) continue;
    const name = url.split("/").pop();
    links.push(el("a", { href: withToken(url), download: name, dataset: { kind: key } }, label));
  }
  if (!links.length && ev.url) links.push(el("a", { href: withToken(ev.url), download: "final.mp4", dataset: { kind: "mp4" } }, "MP4"));
  $("downloads").replaceChildren(...links);
}

function cutFromState(project) {
  const cuts = project.cuts || [];
  if (!cuts.length) return null;
  const c = cuts[cuts.length - 1];
  const base = `/media/${project.project?.id || state.projectId}`;
  const files = { mp4: `${base}/final.mp4`, srt: `${base}/final.srt`, vtt: `${base}/final.vtt`, otio: `${base}/final.otio`,
    contact_sheet: `${base}/contact_sheet.png`, manifest: `${base}/manifest.json` };
  return { cut_id: c.id, version: c.version, url: `${base}/final.mp4`, files, duration: c.manifest?.duration };
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
  $("cards").replaceChildren();
  $("empty").hidden = false;
  $("title").textContent = "No film yet";
  $("meta").textContent = "";
  $("cut").hidden = true; $("player").removeAttribute("src");
  $("overall").hidden = true; $("safety").hidden = true;
  $("approve").disabled = true; $("render").disabled = true;
  $("messages").replaceChildren();
}

async function loadProject(pid) {
  resetBoard();
  setProject(pid);
  if (!pid) {
    addMessage("system", "New film: describe it below.");
    return;
  }
  let project;
  try { project = await api(`/api/projects/${encodeURIComponent(pid)}`); } catch { setProject(null); return; }
  for (const m of project.messages || []) {
    const role = m.role === "user" ? "user" : "director";
    addMessage(role, m.text ?? m.content ?? "");
  }
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
  renderBoard(project.storyboard, [], latest.reason || "");
  for (const card of $("cards").children) {
    const p = state.progress.get(card.dataset.shot);
    if (p) paintProgress(card, p);
  }
  const cut = cutFromState(project);
  if (cut) showCut(cut);
  send({ type: "subscribe", project_id: pid });
}

async function refreshProjects() {
  let projects = [];
  try { projects = await api("/api/projects"); } catch { return; }
  const sel = $("project-select");
  sel.replaceChildren(el("option", { value: "" }, "New film"),
    ...projects.map((p) => el("option", { value: p.id }, `${p.title || p.id}`)));
  sel.value = state.projectId || "";
}

function setBusy(busy) {
  state.busy = busy;
  $("render").disabled = busy || !state.storyboard;
  $("cancel").disabled = !busy;
}

const fmt = (x) => (typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(Math.abs(x) < 10 ? 2 : 1)) : String(x));

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
  $("render").addEventListener("click", () => {
    if (!state.projectId) return;
    send({ type: "render", project_id: state.projectId });
    $("safety").hidden = true;  // each render is checked again; a new notice comes back if still needed
    setBusy(true);
    for (const s of state.storyboard?.shots || []) {
      state.progress.set(s.id, { stage: "queued", done: 0, total: 1 });
      const card = cardFor(s.id);
      if (card) paintProgress(card, state.progress.get(s.id));
    }
    paintOverall();
  });
  $("approve").addEventListener("click", () => state.projectId && send({ type: "approve_storyboard", project_id: state.projectId }));
  $("cancel").addEventListener("click", () => state.projectId && send({ type: "cancel", project_id: state.projectId }));
  $("shot-feedback").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("shot-feedback-input").value.trim();
    if (!text || !dialogShot) return;
    addMessage("user", `shot ${dialogShot}: ${text}`);
    send({ type: "feedback", project_id: state.projectId, text, shots: [dialogShot] });
    setBusy(true);
    $("shot-dialog").close();
  });
  $("project-select").addEventListener("change", (e) => loadProject(e.target.value || null));
  $("new-film").addEventListener("click", () => loadProject(null));
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const t = $("login-token").value.trim();
    if (!t) return;
    localStorage.setItem(TOKEN_KEY, t);
    location.reload();
  });
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
  if (last && [...$("project-select").options].some((o) => o.value === last)) await loadProject(last);
}

main();
