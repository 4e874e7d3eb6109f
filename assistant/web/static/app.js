// The on-set web monitor: the live picture (GET /stream.mjpg), the run's state drawn from GET /state, and the
// operator's controls posting the keys' command words to POST /command. Plain JS, no build step, no network
// beyond the assistant itself. The token comes from the page's own address: /?token=...
"use strict";

(() => {
  const POLL_MS = 150;          // /state every 150 ms while the page is visible
  const STALE_MS = 1500;        // no new frame for this long: the connection dot blinks red
  const REQUEST_TIMEOUT_MS = 2500;
  const MESSAGE_MS = {ok: 2500, info: 5000, error: 12000};
  const TAP_SLACK = 0.04;       // a tap this close (share of the picture's width) to a face still selects it
  const TICKS_M = [0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, Infinity];
  const NEAR_ENDS_M = [1.0, 0.5, 0.3];
  const KEY_COMMANDS = {"e": "toggle_mode", " ": "emergency_stop", ",": "nudge:nearer", ".": "nudge:farther",
                        "Enter": "cue_go"};
  const STATUS_REASONS = {400: "refused", 401: "not a valid token for this assistant",
                          403: "viewers cannot send commands", 413: "request too large",
                          429: "too many commands; wait a moment", 503: "the run is not taking commands now"};

  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (id) => document.getElementById(id);
  const el = {
    body: document.body, stream: $("stream"), picture: $("picture"), hits: $("hits"), noPicture: $("no-picture"),
    mode: $("state-mode"), target: $("state-target"), focus: $("state-focus"), driver: $("state-driver"),
    fps: $("state-fps"), viewers: $("state-viewers"), role: $("state-role"), connection: $("connection"),
    guidance: $("guidance"), arrow: $("guidance-arrow"), guidanceText: $("state-guidance"),
    focusbar: $("focusbar"), ticker: $("ticker"), events: $("events"), subjects: $("subjects"),
    message: $("message"), noSignal: $("no-signal"), viewerNote: $("viewer-note"), modeToggle: $("mode-toggle"),
  };

  let latest = null;            // the last /state answer
  let lastFrameAt = 0;          // when the frame number last advanced (performance.now())
  let pollTimer = null;
  let messageTimer = null;
  let streamRetry = null;
  let streamAttempt = 0;
  let pictureWasLive = false;

  // ------------------------------------------------------------------ formatting
  const metres = (m) => (m === null || m === undefined) ? "\u2013" : (m >= 100 ? "\u221e" : `${m.toFixed(2)} m`);
  const tag = (subject) => subject ? (subject.label ? `${subject.label} #${subject.id}` : `#${subject.id}`) : "\u2013";

  function text(node, value) {
    if (node.textContent !== value) node.textContent = value;
  }

  function flag(node, name, on) {
    node.classList.toggle(name, Boolean(on));
  }

  // ------------------------------------------------------------------ messages
  function say(kind, words) {
    clearTimeout(messageTimer);
    el.message.hidden = false;
    el.message.dataset.kind = kind;
    el.message.textContent = words;
    messageTimer = setTimeout(() => { el.message.hidden = true; }, MESSAGE_MS[kind] || 5000);
  }

  // ------------------------------------------------------------------ commands
  async function request(url, options = {}) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
    try {
      return await fetch(url, {cache: "no-store", ...options, signal: abort.signal});
    } finally {
      clearTimeout(timer);
    }
  }

  async function send(command, button) {
    if (!token) {
      say("error", "no token: open the address focus-assistant printed (http://HOST:PORT/?token=...)");
      return false;
    }
    if (button) button.classList.add("pending");
    let response = null;
    let body = {};
    try {
      response = await request("/command", {
        method: "POST",
        headers: {"Authorization": `Bearer ${token}`, "Content-Type": "application/json"},
        body: JSON.stringify({command}),
      });
      body = await response.json().catch(() => ({}));
    } catch (error) {
      const why = error.name === "AbortError" ? "timed out" : "offline";
      say("error", `${command}: no answer from the assistant (${why})`);
    } finally {
      if (button) button.classList.remove("pending");
    }
    if (response === null) return false;
    const ok = response.ok && body.ok !== false;
    if (ok) {
      say("ok", `\u2713 ${command}`);
    } else {
      const reason = body.error || body.reason || STATUS_REASONS[response.status] || response.statusText || "refused";
      say("error", `${response.status}: ${reason}`);
    }
    if (button) {
      button.classList.remove("done", "refused");
      void button.offsetWidth;  // restart the flash
      button.classList.add(ok ? "done" : "refused");
    }
    return ok;
  }

  function bindButtons() {
    for (const button of document.querySelectorAll("button[data-command]")) {
      if (button.id === "stop") continue;
      button.addEventListener("click", () => send(button.dataset.command, button));
    }
    // The emergency stop goes on the finger's touch, not its release; a click after it is the same press.
    const stop = $("stop");
    let pressedAt = -Infinity;
    stop.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      pressedAt = performance.now();
      send("emergency_stop", stop);
    });
    stop.addEventListener("click", () => {
      if (performance.now() - pressedAt > 1000) send("emergency_stop", stop);
    });
  }

  // The window's keys, for a laptop: 1-9 select, a-d rack, Shift+A-D mark, e, Space, , . and Enter.
  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const focused = document.activeElement;
    if (event.key === "Enter" && focused && focused.matches("button, [role=button]")) {
      if (focused.matches("[role=button]")) focused.click();  // a subject card: Enter selects it
      return;  // a focused control takes Enter as a press; Space stays the emergency stop everywhere
    }
    let command = KEY_COMMANDS[event.key];
    if (!command && /^[1-9]$/.test(event.key)) command = `select:${event.key}`;
    if (!command && /^[a-d]$/.test(event.key)) command = `rack:${event.key.toUpperCase()}`;
    if (!command && /^[A-D]$/.test(event.key) && event.shiftKey) command = `mark:${event.key}`;
    if (!command) return;
    event.preventDefault();  // Space and Enter must not also press whichever button has the focus
    send(command, document.querySelector(`button[data-command="${command}"]`));
  }

  // ------------------------------------------------------------------ tapping a face
  function pictureSize() {
    if (latest && Array.isArray(latest.frame_size) && latest.frame_size[0] > 0) return latest.frame_size;
    return [el.stream.naturalWidth, el.stream.naturalHeight];
  }

  /** The subject under the picture point (x, y): the smallest box holding it (a face in front of another wins),
   * else the nearest box within TAP_SLACK of the picture's width (small faces on a phone). */
  function subjectAt(x, y) {
    const subjects = (latest && latest.subjects) || [];
    const width = pictureSize()[0] || 1;
    let best = null;
    let bestScore = Infinity;
    for (const s of subjects) {
      const [bx, by, bw, bh] = s.box;
      const dx = Math.max(bx - x, 0, x - (bx + bw));
      const dy = Math.max(by - y, 0, y - (by + bh));
      const gap = Math.hypot(dx, dy);
      if (gap > TAP_SLACK * width) continue;
      const score = gap * 1e9 + bw * bh;  // inside first, then the smaller box
      if (score < bestScore) { best = s; bestScore = score; }
    }
    return best;
  }

  function onPictureTap(event) {
    const [width, height] = pictureSize();
    const rect = el.stream.getBoundingClientRect();
    if (!width || !height || rect.width <= 0 || rect.height <= 0) return;
    const x = Math.round((event.clientX - rect.left) * width / rect.width);
    const y = Math.round((event.clientY - rect.top) * height / rect.height);
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const box = el.picture.getBoundingClientRect();
    ripple(event.clientX - box.left, event.clientY - box.top);
    const subject = subjectAt(x, y);
    if (!subject) {
      say("info", "no face there: tap inside a face's box");
      return;
    }
    const hit = el.hits.querySelector(`.hit[data-id="${subject.id}"]`);
    if (hit) {
      hit.classList.remove("tapped");
      void hit.offsetWidth;
      hit.classList.add("tapped");
    }
    send(`select:${subject.id}`, null);
  }

  function ripple(x, y) {
    const dot = document.createElement("span");
    dot.className = "ripple";
    dot.style.left = `${x}px`;
    dot.style.top = `${y}px`;
    el.picture.appendChild(dot);
    setTimeout(() => dot.remove(), 600);
  }

  // ------------------------------------------------------------------ the picture
  function streamUrl() {
    return `/stream.mjpg?token=${encodeURIComponent(token)}${streamAttempt ? `&retry=${streamAttempt}` : ""}`;
  }

  function startStream() {
    clearTimeout(streamRetry);
    el.stream.src = streamUrl();
  }

  function stopStream() {
    clearTimeout(streamRetry);
    el.stream.removeAttribute("src");  // closes the MJPEG connection while nobody looks
  }

  /** The stream failed or ended (the run stopped, or the server dropped a stalled connection): try again. */
  function pictureLost() {
    if (document.hidden || !el.stream.getAttribute("src")) return;
    el.noPicture.textContent = "picture lost \u2013 reconnecting\u2026";
    el.picture.classList.remove("live");
    pictureWasLive = false;
    streamAttempt += 1;
    clearTimeout(streamRetry);
    streamRetry = setTimeout(startStream, Math.min(5000, 500 * streamAttempt));
  }

  el.stream.addEventListener("error", pictureLost);

  function checkPicture() {
    const live = el.stream.naturalWidth > 0 && Boolean(el.stream.getAttribute("src"));
    if (!live && pictureWasLive) pictureLost();  // an ended stream fires no event: the image just empties
    pictureWasLive = live;
    flag(el.picture, "live", live);
    if (live) {
      streamAttempt = 0;
      el.picture.style.setProperty("--aspect", `${el.stream.naturalWidth} / ${el.stream.naturalHeight}`);
    }
  }

  // ------------------------------------------------------------------ the state
  async function poll() {
    pollTimer = null;
    if (document.hidden) return;
    let wait = POLL_MS;
    try {
      const response = await request(`/state?token=${encodeURIComponent(token)}`);
      if (response.ok) {
        render(await response.json());
      } else {
        const body = await response.json().catch(() => ({}));
        setConnection("refused");
        say("error", `${response.status}: ${body.error || STATUS_REASONS[response.status] || response.statusText}`);
        wait = 2000;
      }
    } catch (error) {
      setConnection("lost");
      wait = 1000;
    }
    checkPicture();
    schedule(wait);
  }

  function schedule(wait) {
    clearTimeout(pollTimer);
    if (!document.hidden) pollTimer = setTimeout(poll, wait);
  }

  function setConnection(state) {
    const was = el.body.dataset.connection;
    if (was === state) return;
    el.body.dataset.connection = state;
    if (state === "lost") say("error", "no connection to the assistant: is the run still going? (retrying)");
    if (state === "live" && was === "lost") say("ok", "connected again");
    const titles = {live: "live", stale: "no new frame", lost: "no connection to the assistant",
                    refused: "token refused", connecting: "connecting"};
    el.connection.title = titles[state] || state;
  }

  function render(state) {
    const previous = latest;
    latest = state;
    const now = performance.now();
    if (!previous || previous.frame !== state.frame) lastFrameAt = now;
    setConnection(now - lastFrameAt > STALE_MS ? "stale" : "live");
    el.body.dataset.frame = String(state.frame);

    // Mode, role and the status line.
    const mode = state.mode || "";
    el.body.dataset.mode = mode;
    text(el.mode, mode ? (mode === "monitor" ? "monitor" : mode.toUpperCase()) : "\u2013");
    const role = state.role || "unknown";
    if (el.body.dataset.role !== role) {
      el.body.dataset.role = role;
      const locked = role !== "operator";
      for (const button of document.querySelectorAll("#controls button")) {
        button.setAttribute("aria-disabled", String(locked));
      }
      el.viewerNote.hidden = !locked;
    }
    text(el.role, role);
    const subjects = Array.isArray(state.subjects) ? state.subjects : [];
    const targetId = state.target ? state.target.id : null;
    const target = subjects.find((s) => s.id === targetId) || state.target;
    text(el.target, state.target ? tag(target) : "none");
    text(el.focus, metres(state.focus_m));
    const driver = state.driver || {text: "", fault: false};
    text(el.driver, driver.text || "no driver");
    flag(el.driver, "fault", driver.fault);
    text(el.fps, state.fps ? `${state.fps.toFixed(1)} fps` : "\u2013 fps");
    text(el.viewers, `${state.viewers ?? "\u2013"} watching`);
    const paused = state.guidance && state.guidance.direction === "paused";
    text(el.modeToggle, mode === "drive" && !paused ? "to suggest" : (paused ? "re-engage drive" : "to drive"));

    const gone = state.no_signal;
    el.noSignal.hidden = !gone;
    if (gone) text(el.noSignal, `NO SIGNAL \u2013 ${gone.silent_s.toFixed(1)} s` +
                               (gone.reconnects ? `, ${gone.reconnects} reconnects` : ""));
    renderGuidance(state.guidance);
    renderSubjects(subjects, targetId);
    renderHits(subjects, targetId);
    renderTicker(state.ticker || []);
    renderEvents(state.events || []);
    drawFocusBar(subjects, targetId, state.focus_m, state.guidance);
  }

  function renderGuidance(guidance) {
    const direction = guidance ? guidance.direction : "none";
    el.guidance.dataset.direction = direction;
    const arrows = {nearer: "\u25C0", farther: "\u25B6", hold: "\u25CF", rack: "\u21C4", search: "\u2194"};
    text(el.arrow, arrows[direction] || "");
    let words = guidance ? guidance.text : "";
    if (!words && guidance && (direction === "nearer" || direction === "farther")) {
      words = `turn ${direction}${guidance.delta_m !== null ? ` ${Math.abs(guidance.delta_m).toFixed(2)} m` : ""}`;
    }
    text(el.guidanceText, words || (guidance ? direction : "no target"));
  }

  function renderSubjects(subjects, targetId) {
    const seen = new Set();
    const ordered = [...subjects].sort((a, b) => (a.label || "~").localeCompare(b.label || "~") || a.id - b.id);
    ordered.forEach((s, index) => {
      seen.add(String(s.id));
      let card = el.subjects.querySelector(`.subject[data-id="${s.id}"]`);
      if (!card) {
        card = document.createElement("li");
        card.className = "subject";
        card.dataset.id = String(s.id);
        card.innerHTML = '<span class="label"></span><span class="sid"></span><span class="distance"></span>' +
                         '<span class="meter"><span class="fill"></span></span>';
        card.setAttribute("role", "button");
        card.tabIndex = 0;
        card.title = "tap to make this subject the target";
        card.addEventListener("click", () => send(`select:${s.id}`, null));
      }
      if (el.subjects.children[index] !== card) el.subjects.insertBefore(card, el.subjects.children[index] || null);
      flag(card, "target", s.id === targetId);
      flag(card, "sharp", s.in_focus === true);
      flag(card, "soft", s.in_focus === false);
      flag(card, "coasting", s.coasting);
      text(card.querySelector(".label"), s.label || "\u00b7");
      text(card.querySelector(".sid"), `#${s.id}`);
      text(card.querySelector(".distance"), metres(s.distance_m));
      const score = Math.max(0, Math.min(1, s.focus_score ?? 0));
      card.querySelector(".fill").style.width = `${Math.round(score * 100)}%`;
      card.querySelector(".meter").title = `in focus ${Math.round(score * 100)}%`;
    });
    for (const card of [...el.subjects.children]) {
      if (!seen.has(card.dataset.id)) card.remove();
    }
    flag(el.subjects, "empty", subjects.length === 0);
  }

  /** Tap zones over the faces, placed in shares of the picture so they follow any displayed size. */
  function renderHits(subjects, targetId) {
    const [width, height] = pictureSize();
    if (!width || !height) return;
    const seen = new Set();
    for (const s of subjects) {
      seen.add(String(s.id));
      let hit = el.hits.querySelector(`.hit[data-id="${s.id}"]`);
      if (!hit) {
        hit = document.createElement("div");
        hit.className = "hit";
        hit.dataset.id = String(s.id);
        el.hits.appendChild(hit);
      }
      const [x, y, w, h] = s.box;
      hit.style.left = `${(100 * x / width).toFixed(3)}%`;
      hit.style.top = `${(100 * y / height).toFixed(3)}%`;
      hit.style.width = `${(100 * w / width).toFixed(3)}%`;
      hit.style.height = `${(100 * h / height).toFixed(3)}%`;
      flag(hit, "target", s.id === targetId);
      hit.dataset.label = s.label || `#${s.id}`;
    }
    for (const hit of [...el.hits.children]) {
      if (!seen.has(hit.dataset.id)) hit.remove();
    }
  }

  function renderTicker(lines) {
    const shown = lines.slice(-4);
    const key = shown.join("\n");
    if (el.ticker.dataset.key === key) return;
    el.ticker.dataset.key = key;
    el.ticker.replaceChildren(...shown.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      if (line.startsWith("!")) item.className = "refusal";
      return item;
    }));
  }

  function describeEvent(e) {
    const when = typeof e.start === "number" ? `${e.start.toFixed(1)} s` : "";
    const who = (e.from !== undefined || e.to !== undefined) && e.from !== e.to
      ? ` #${e.from ?? "?"}\u2192#${e.to ?? "?"}` : (e.to !== undefined && e.to !== null ? ` #${e.to}` : "");
    const where = typeof e.distance_to_m === "number" ? ` to ${e.distance_to_m.toFixed(2)} m` : "";
    const detail = e.detail ? ` \u2013 ${e.detail}` : "";
    return [when, `${e.type}${who}${where}`, `${e.origin || ""}${detail}`];
  }

  function renderEvents(events) {
    const key = JSON.stringify(events.slice(-10));
    if (el.events.dataset.key === key) return;
    el.events.dataset.key = key;
    el.events.replaceChildren(...events.slice(-10).reverse().map((e) => {
      const item = document.createElement("li");
      item.className = `event ${e.type || ""}`;
      for (const part of describeEvent(e)) {
        const span = document.createElement("span");
        span.textContent = part;
        item.appendChild(span);
      }
      return item;
    }));
  }

  // ------------------------------------------------------------------ the focus bar
  function nearEnd(distances) {
    const shown = distances.filter((d) => d > 0);
    const near = shown.length ? Math.min(...shown) : NEAR_ENDS_M[NEAR_ENDS_M.length - 1];
    return NEAR_ENDS_M.find((end) => end <= 0.6 * near) || NEAR_ENDS_M[NEAR_ENDS_M.length - 1];
  }

  function colour(name) {
    return getComputedStyle(el.body).getPropertyValue(name).trim() || "#fff";
  }

  /** Near to far, linear in dioptres like a lens's distance scale, ending at infinity (as the overlay's). */
  function drawFocusBar(subjects, targetId, focusM, guidance) {
    const canvas = el.focusbar;
    const ratio = window.devicePixelRatio || 1;
    const cssWidth = canvas.clientWidth;
    const cssHeight = canvas.clientHeight;
    if (!cssWidth || !cssHeight) return;
    if (canvas.width !== Math.round(cssWidth * ratio) || canvas.height !== Math.round(cssHeight * ratio)) {
      canvas.width = Math.round(cssWidth * ratio);
      canvas.height = Math.round(cssHeight * ratio);
    }
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, cssWidth, cssHeight);
    const distances = subjects.map((s) => s.distance_m).filter((d) => typeof d === "number");
    if (typeof focusM === "number") distances.push(focusM);
    const nearM = nearEnd(distances);
    const left = 18;
    const right = cssWidth - 22;
    const axis = Math.round(cssHeight * 0.58);
    const x = (m) => left + (right - left) * (1 - (m === Infinity ? 0 : (1 / Math.max(m, nearM))) * nearM);
    const font = getComputedStyle(el.body).fontFamily;

    g.strokeStyle = colour("--scale");
    g.fillStyle = colour("--scale");
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(left, axis);
    g.lineTo(right, axis);
    g.stroke();
    g.font = `11px ${font}`;
    g.textAlign = "center";
    g.textBaseline = "top";
    for (const m of TICKS_M.filter((m) => m >= nearM)) {
      const at = x(m);
      g.beginPath();
      g.moveTo(at, axis - 4);
      g.lineTo(at, axis + 4);
      g.stroke();
      g.fillText(m === Infinity ? "\u221e" : (m < 1 ? String(m) : `${m}`), at, axis + 7);
    }
    g.textAlign = "left";
    g.fillText("m", right + 8, axis + 7);

    // Subjects: a triangle at each distance (amber the target, grey while held on the prediction).
    g.textBaseline = "bottom";
    g.textAlign = "center";
    g.font = `bold 12px ${font}`;
    for (const s of subjects) {
      if (typeof s.distance_m !== "number") continue;
      const at = x(s.distance_m);
      g.fillStyle = s.id === targetId ? colour("--target") : (s.coasting ? colour("--held") : colour("--other"));
      g.beginPath();
      g.moveTo(at - 6, axis - 16);
      g.lineTo(at + 6, axis - 16);
      g.lineTo(at, axis - 5);
      g.closePath();
      g.fill();
      g.fillText(s.label || `#${s.id}`, at, axis - 18);
    }

    // The focus: a green line (the distances that are sharp are green).
    if (typeof focusM === "number") {
      const at = x(focusM);
      g.strokeStyle = colour("--sharp");
      g.lineWidth = 3;
      g.beginPath();
      g.moveTo(at, axis - 22);
      g.lineTo(at, axis + 5);
      g.stroke();
      // Suggest mode: an amber arrow from the focus to the target, which way to turn.
      const target = subjects.find((s) => s.id === targetId);
      const turning = guidance && (guidance.direction === "nearer" || guidance.direction === "farther");
      if (turning && target && typeof target.distance_m === "number") {
        const to = x(target.distance_m);
        const y = axis - 8;
        g.strokeStyle = colour("--target");
        g.fillStyle = colour("--target");
        g.lineWidth = 3;
        g.beginPath();
        g.moveTo(at, y);
        g.lineTo(to, y);
        g.stroke();
        const side = Math.sign(to - at) || 1;
        g.beginPath();
        g.moveTo(to, y);
        g.lineTo(to - side * 9, y - 6);
        g.lineTo(to - side * 9, y + 6);
        g.closePath();
        g.fill();
      }
    }
  }

  // ------------------------------------------------------------------ start
  function onVisibility() {
    if (document.hidden) {
      clearTimeout(pollTimer);
      pollTimer = null;
      stopStream();
    } else {
      startStream();
      schedule(0);
    }
  }

  function start() {
    bindButtons();
    el.picture.addEventListener("click", onPictureTap);
    document.addEventListener("keydown", onKey);
    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("resize", () => latest && drawFocusBar(latest.subjects || [],
      latest.target ? latest.target.id : null, latest.focus_m, latest.guidance));
    if (!token) {
      setConnection("refused");
      say("error", "no token in the address: open the link focus-assistant printed (http://HOST:PORT/?token=...)");
      return;
    }
    startStream();
    poll();
  }

  // For tests and the curious: the last state and a command sender (the buttons' own path).
  window.focusMonitor = {state: () => latest, send, subjectAt};
  start();
})();
