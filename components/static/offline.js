// SOLEil offline, the page side: registers the service worker (sw.js), makes setlists available offline through it,
// tells stale sets and refreshes them, keeps the reader's place, and clears it all on sign-out. Added to every page
// by components/pwa.py; the static offline stand (/offline) uses it too. No libraries, no build step.
//
// window.SoleilOffline: scope(), sets(), loadSet(id), make(id, {audio}), remove(id), clear(), check({force}),
// prepare(id, audio, name), estimate(), deviceWidths(), on(listener), place.get()/place.set(p), supported.
// Custom elements for pages to compose: <soleil-offline-set setlist="3" name="…">, <soleil-offline-storage>,
// <soleil-offline-status>.

(() => {
  if (window.SoleilOffline) return;
  const WIDTHS = [480, 800, 1200, 1600, 2400];
  const DATA_PREFIX = "soleil-data-";
  const SET_PREFIX = "/__soleil/sets/";
  const CHECK_EVERY_MS = 5 * 60 * 1000;
  const supported = "serviceWorker" in navigator && "caches" in window && window.isSecureContext;
  const listeners = new Set();
  const running = new Map(); // setlist id -> last progress message
  let signingOut = false; // this page is leaving for sign-out: it must not write anyone's data again

  const local = {
    get(key) {
      try {
        return JSON.parse(localStorage.getItem(key));
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        localStorage.setItem(key, JSON.stringify(value));
      } catch {
        /* private mode or full: this visit only */
      }
    },
    drop(key) {
      try {
        localStorage.removeItem(key);
      } catch {
        /* nothing kept */
      }
    },
  };

  function emit(message) {
    if (message.type === "progress") running.set(message.setlist_id, message);
    else if (["done", "error", "removed", "cleared"].includes(message.type)) running.delete(message.setlist_id);
    for (const listener of listeners) {
      try {
        listener(message);
      } catch (error) {
        console.error(error);
      }
    }
  }
  if ("BroadcastChannel" in window) new BroadcastChannel("soleil-offline").onmessage = (e) => emit(e.data || {});

  // --- who is signed in on this device -------------------------------------------------------------------------------
  let scopeInfo = null;
  function scope(fresh = false) {
    if (!scopeInfo || fresh) {
      scopeInfo = fetch("/pwa/scope", { cache: "no-store", credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
        .then((info) => {
          if (info.online !== false && !signingOut) {
            if (info.scope) local.set("soleil.scope", info.scope);
            else forgetLocal();
          }
          return info;
        })
        .catch(() => ({ scope: local.get("soleil.scope"), prepare: [], online: false }));
    }
    return scopeInfo;
  }

  function forgetLocal() {
    for (const key of ["soleil.scope", "soleil.place", "soleil.offline.checked", "soleil.offline.declined"]) local.drop(key);
  }

  // --- the service worker ----------------------------------------------------------------------------------------------
  function register() {
    if (!supported) return Promise.resolve(null);
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
      console.warn("SOLEil: no service worker", error);
      return null;
    });
  }

  async function ask(message, timeoutMs = 0) {
    const registration = await navigator.serviceWorker.ready;
    return new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      let timer;
      if (timeoutMs) timer = setTimeout(() => resolve({ timeout: true }), timeoutMs);
      channel.port1.onmessage = (e) => {
        clearTimeout(timer);
        if (e.data && e.data.error) reject(new Error(e.data.error));
        else resolve(e.data);
      };
      registration.active.postMessage(message, [channel.port2]);
    });
  }

  // --- offline sets -----------------------------------------------------------------------------------------------------
  function deviceWidths() {
    // what the stand's srcset picks here: the portrait page width, and half the long side for two pages side by side
    const snap = (px) => WIDTHS.find((w) => w >= px) || WIDTHS[WIDTHS.length - 1];
    const ratio = Math.min(Math.max(window.devicePixelRatio || 1, 1), 3);
    const short = Math.min(screen.width, screen.height);
    const long = Math.max(screen.width, screen.height);
    const widths = [snap(short * ratio)];
    if (long >= 900) widths.push(snap((long / 2) * ratio));
    return [...new Set(widths)];
  }

  async function dataCache(name) {
    const current = name === undefined ? local.get("soleil.scope") : name;
    if (!supported || !current) return null;
    if (!(await caches.has(DATA_PREFIX + current))) return null;
    return caches.open(DATA_PREFIX + current);
  }

  async function sets(name) {
    const cache = await dataCache(name);
    if (!cache) return [];
    const found = [];
    for (const key of await cache.keys()) {
      if (/^\/__soleil\/sets\/\d+$/.test(new URL(key.url).pathname)) found.push(await (await cache.match(key)).json());
    }
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  async function loadSet(setlistId, name) {
    const cache = await dataCache(name);
    const hit = cache && (await cache.match(SET_PREFIX + setlistId));
    return hit ? hit.json() : null;
  }

  async function make(setlistId, { audio = false } = {}) {
    if (!supported) throw new Error("Offline sets need HTTPS and a current browser.");
    const query = new URLSearchParams(deviceWidths().map((w) => ["w", String(w)]));
    if (audio) query.set("audio", "1");
    const response = await fetch(`/pwa/offline/setlists/${setlistId}?${query}`, { cache: "no-store" });
    if (!response.ok) throw new Error((await response.text()) || "The set couldn't be prepared.");
    const manifest = await response.json();
    if (signingOut) return;
    local.set("soleil.scope", manifest.scope);
    declined(manifest.scope, setlistId, false);
    navigator.storage?.persist?.().catch(() => {}); // ask the browser not to evict the charts under storage pressure
    emit({ type: "progress", setlist_id: manifest.setlist_id, done: 0, total: manifest.urls.length, bytes: 0 });
    return ask({ type: "download", manifest });
  }

  async function remove(setlistId) {
    const name = local.get("soleil.scope");
    if (!supported || !name) return;
    declined(name, setlistId, true);
    return ask({ type: "remove", scope: name, setlist_id: setlistId });
  }

  function declined(name, setlistId, on) {
    const all = local.get("soleil.offline.declined") || {};
    const key = `${name}/${setlistId}`;
    if (on) all[key] = Date.now();
    else delete all[key];
    local.set("soleil.offline.declined", all);
    return Boolean(all[key]);
  }

  async function clear() {
    // Sign out: nothing of this person's stays on the device (the worker also drops what it knows of them)
    signingOut = true;
    forgetLocal();
    scopeInfo = null;
    if (!("caches" in window)) return;
    const work = (async () => {
      if (supported && navigator.serviceWorker.controller) await ask({ type: "clear" }, 1500).catch(() => {});
      for (const name of await caches.keys()) if (name.startsWith(DATA_PREFIX) || name === "soleil-meta") await caches.delete(name);
    })();
    await Promise.race([work, new Promise((resolve) => setTimeout(resolve, 2500))]);
  }

  async function check({ force = false } = {}) {
    // Sets the leader asked for, and stale sets: brought up to date in the background while online
    if (!supported) return;
    const info = await scope();
    if (!info.scope || info.online === false) return;
    const stored = await sets(info.scope);
    for (const request of info.prepare || []) {
      const have = stored.find((s) => s.setlist_id === request.setlist_id);
      const said_no = (local.get("soleil.offline.declined") || {})[`${info.scope}/${request.setlist_id}`];
      if (!have && !(said_no && said_no > Date.parse(request.at)) && !running.has(request.setlist_id)) {
        make(request.setlist_id, { audio: request.audio }).catch(() => {});
      }
    }
    if (!stored.length || (!force && Date.now() - (local.get("soleil.offline.checked") || 0) < CHECK_EVERY_MS)) return;
    local.set("soleil.offline.checked", Date.now());
    const query = new URLSearchParams();
    for (const s of stored) {
      query.append("id", s.setlist_id);
      if (s.audio) query.append("audio", s.setlist_id);
    }
    let digests;
    try {
      const response = await fetch("/pwa/offline/status?" + query, { cache: "no-store" });
      if (!response.ok) return;
      digests = (await response.json()).digests;
    } catch {
      return;
    }
    for (const s of stored) {
      const now = digests[String(s.setlist_id)];
      if (now === null) await remove(s.setlist_id).catch(() => {}); // deleted, or no longer mine to see
      else if (now !== undefined && (now !== s.digest || !s.complete) && !running.has(s.setlist_id)) {
        emit({ type: "stale", setlist_id: s.setlist_id });
        make(s.setlist_id, { audio: s.audio }).catch(() => {});
      }
    }
  }

  function prepare(setlistId, audio, name) {
    // a leader asked every open device to get this set ready (hub event, components/pwa.py)
    sets().then((stored) => {
      if (stored.some((s) => s.setlist_id === setlistId && s.complete) || running.has(setlistId)) return check({ force: true });
      if (!document.documentElement.classList.contains("sl-stand-open")) {
        window.Quasar?.Notify?.create({ message: `Getting “${name}” ready for offline use`, caption: "Your leader asked", timeout: 4000 });
      }
      return make(setlistId, { audio }).catch(() => {});
    });
  }

  async function estimate() {
    try {
      return await navigator.storage.estimate();
    } catch {
      return { usage: null, quota: null };
    }
  }

  const place = {
    get() {
      const p = local.get("soleil.place");
      return p && p.scope === local.get("soleil.scope") ? p : null;
    },
    set(p) {
      local.set("soleil.place", { ...p, scope: local.get("soleil.scope"), t: Date.now() });
    },
  };

  // --- words ----------------------------------------------------------------------------------------------------------
  const mb = (bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`);
  const since = (t) => {
    const minutes = Math.floor((Date.now() - t) / 60000);
    if (minutes < 1) return "just now";
    if (minutes < 60) return `${minutes} min ago`;
    const hours = Math.floor(minutes / 60);
    return hours < 48 ? `${hours} h ago` : `${Math.floor(hours / 24)} days ago`;
  };

  // --- custom elements pages compose ------------------------------------------------------------------------------------
  const CSS = `
  soleil-offline-set { display: block; }
  .so-row { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  .so-text { flex: 1 1 12em; min-width: 0; font-size: 14px; color: #444; }
  .so-text b { color: #111; font-weight: 600; }
  .so-btn { min-height: 44px; padding: 0 16px; border: 0; border-radius: 4px; cursor: pointer; color: #fff;
    background: #b3541e; font: 500 14px/1.715 Roboto, -apple-system, "Helvetica Neue", Helvetica, Arial, sans-serif;
    text-transform: uppercase; letter-spacing: .0893em; }  /* like the app's other (Quasar) buttons, 44 px tall */
  .so-btn.so-quiet { color: #2f4858; background: transparent; border: 1px solid #2f485866; }
  .so-btn:disabled { opacity: .5; cursor: default; }
  .so-audio { font-size: 13px; color: #555; display: inline-flex; align-items: center; gap: 6px; min-height: 44px;
    min-width: 44px; cursor: pointer; }
  .so-audio input { width: 20px; height: 20px; margin: 0; }
  .so-bar { height: 6px; border-radius: 3px; background: #e5e1da; overflow: hidden; margin-top: 6px; }
  .so-bar > div { height: 100%; background: #b3541e; transition: width .2s; }
  soleil-offline-status { display: none; padding: 2px 10px; border-radius: 12px; font: 500 12px/20px system-ui, sans-serif;
    color: #fff; background: #78350f; }
  soleil-offline-status[data-online="false"] { display: inline-block; }
  .soleil-https-banner { position: fixed; z-index: 3000; left: 8px; right: 8px; bottom: calc(env(safe-area-inset-bottom) + 72px);
    display: flex; gap: 8px; align-items: flex-start; padding: 10px 12px; border-radius: 8px; color: #fff;
    background: #2f4858; box-shadow: 0 2px 10px #0005; font: 14px/1.35 system-ui, sans-serif; max-width: 640px; margin: 0 auto; }
  .soleil-https-banner a { color: #f2a541; }
  .soleil-https-banner button { border: 0; background: transparent; color: #fff; font-size: 20px; line-height: 1; cursor: pointer; }`;
  function addCss() {
    if (document.getElementById("soleil-offline-css")) return;
    const style = Object.assign(document.createElement("style"), { id: "soleil-offline-css", textContent: CSS });
    document.head.append(style);
  }

  class OfflineSet extends HTMLElement {
    connectedCallback() {
      addCss();
      this.id_ = Number(this.getAttribute("setlist"));
      this.listener = (m) => (m.setlist_id === undefined || m.setlist_id === this.id_ || m.type === "cleared") && this.refresh(m);
      listeners.add(this.listener);
      this.refresh();
    }
    disconnectedCallback() {
      listeners.delete(this.listener);
    }
    async refresh(message) {
      const name = this.getAttribute("name") || "This set";
      if (!supported) return this.show("unsupported", `<span class="so-text">Offline sets need HTTPS. <a href="/pwa/https">How to turn it on</a></span>`);
      if (message?.type === "stale") this.stale = true;
      const live = running.get(this.id_);
      if (live) {
        const share = live.total ? Math.round((100 * live.done) / live.total) : 0;
        return this.show(
          "downloading",
          `<div class="so-row"><span class="so-text"><b>${this.stale ? "Updating" : "Downloading"}…</b> ${live.done} of ${live.total} files · ${mb(live.bytes)}</span></div>` +
            `<div class="so-bar" role="progressbar" aria-label="Download of ${escapeHtml(name)}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${share}"><div style="width:${share}%"></div></div>`,
        );
      }
      if (message?.type === "error") this.failed = message.message || "stopped";
      const set = await loadSet(this.id_);
      if (set && set.complete) {
        this.stale = false;
        const songs = (set.songs || []).length;
        const note = this.failed ? " · couldn't update (offline?), will retry" : "";
        const expected = this.getAttribute("digest");
        if (expected && expected !== set.digest) {
          return this.show("stale", `<div class="so-row"><span class="so-text"><b>Out of date</b> · saved ${since(set.saved_at)} · the set changed since</span>${this.button("Update", "make")}</div>`);
        }
        return this.show(
          "ready",
          `<div class="so-row"><span class="so-text"><b>Ready offline</b> · ${songs} song${songs === 1 ? "" : "s"} · ${mb(set.bytes || 0)} · updated ${since(set.saved_at)}${note}</span>` +
            `${this.button("Remove", "remove", true)}</div>`,
        );
      }
      if (this.failed || (set && !set.complete)) {
        return this.show("error", `<div class="so-row"><span class="so-text"><b>Download incomplete</b> · connection lost? Try again when online.</span>${this.button("Retry", "make")}</div>`);
      }
      const audio = this.hasAttribute("no-audio") ? "" : `<label class="so-audio"><input type="checkbox" data-audio> with recordings</label>`;
      return this.show("none", `<div class="so-row"><span class="so-text">Not on this device yet</span>${audio}${this.button("Make available offline", "make")}</div>`);
    }
    button(label, action, quiet = false) {
      return `<button type="button" class="so-btn${quiet ? " so-quiet" : ""}" data-action="${action}" data-testid="offline-${action}">${label}</button>`;
    }
    show(state, html) {
      this.dataset.state = state;
      this.innerHTML = html;
      this.querySelector("[data-action]")?.addEventListener("click", (e) => this.act(e.currentTarget.dataset.action));
    }
    async act(action) {
      this.failed = null;
      try {
        if (action === "remove") await remove(this.id_);
        else {
          const stored = await loadSet(this.id_);
          const audio = this.querySelector("[data-audio]")?.checked ?? stored?.audio ?? false;
          await make(this.id_, { audio });
        }
      } catch (error) {
        this.failed = String(error.message || error);
      }
      this.refresh();
      this.dispatchEvent(new CustomEvent("soleil-offline-changed", { bubbles: true }));
    }
  }

  class OfflineStorage extends HTMLElement {
    connectedCallback() {
      this.listener = (m) => ["done", "removed", "cleared"].includes(m.type) && this.refresh();
      listeners.add(this.listener);
      this.refresh();
    }
    disconnectedCallback() {
      listeners.delete(this.listener);
    }
    async refresh() {
      if (!supported) {
        this.dataset.state = "unsupported";
        this.textContent = "This browser can't keep sets offline here: it needs HTTPS.";
        return;
      }
      const [stored, { usage, quota }] = await Promise.all([sets(), estimate()]);
      const bytes = stored.reduce((total, s) => total + (s.bytes || 0), 0);
      const free = usage != null && quota ? ` · ${mb(Math.max(0, quota - usage))} free for this site` : "";
      this.dataset.state = "ready";
      this.textContent = stored.length
        ? `${stored.length} set${stored.length === 1 ? "" : "s"} on this device · ${mb(bytes)}${free}`
        : `No sets on this device yet${free}`;
    }
  }

  class OfflineStatus extends HTMLElement {
    // a quiet "Offline" chip for page headers: shown while NiceGUI's socket is down
    connectedCallback() {
      addCss();
      this.textContent = "Offline";
      this.setAttribute("role", "status");
      this.timer = setInterval(() => {
        const socket = window.socket;
        if (socket?.connected) this.seen = true;
        this.dataset.online = String(!this.seen || Boolean(socket?.connected));
      }, 1000);
    }
    disconnectedCallback() {
      clearInterval(this.timer);
    }
  }

  function escapeHtml(text) {
    return String(text).replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  customElements.define("soleil-offline-set", OfflineSet);
  customElements.define("soleil-offline-storage", OfflineStorage);
  customElements.define("soleil-offline-status", OfflineStatus);

  // --- plain HTTP on a LAN: say what is off, once -------------------------------------------------------------------------
  function httpsBanner() {
    if (window.isSecureContext || local.get("soleil.https-banner") || document.documentElement.classList.contains("sl-stand-open")) return;
    if (/^\/(stand|live|offline)\b/.test(location.pathname)) return; // never over a chart
    local.set("soleil.https-banner", Date.now());
    addCss();
    const banner = document.createElement("div");
    banner.className = "soleil-https-banner";
    banner.setAttribute("role", "note");
    banner.dataset.testid = "https-banner";
    banner.innerHTML =
      `<span>This address is plain HTTP, so offline sets, keeping the screen on and Add to Home Screen are off. ` +
      `<a href="/pwa/https">How to turn them on</a></span><button type="button" aria-label="Dismiss">×</button>`;
    banner.querySelector("button").addEventListener("click", () => banner.remove());
    document.body.append(banner);
  }

  window.SoleilOffline = { supported, scope, sets, loadSet, make, remove, clear, check, prepare, estimate, deviceWidths, place, on: (f) => (listeners.add(f), () => listeners.delete(f)), register };

  const boot = () => {
    register();
    if (location.pathname === "/offline" || document.documentElement.dataset.offlineStand) return;
    httpsBanner();
    setTimeout(() => check().catch(() => {}), 1500); // after the page has what it needs
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
