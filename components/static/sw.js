// SOLEil service worker: offline sets and the static offline stand. Served by pages/pwa.py at /sw.js (root scope),
// with the build id and the shell URLs filled in, so a new app version is a new worker (browsers compare the bytes).
//
// Rules:
// - Page navigations: network first, never cached (each NiceGUI page carries a one-time client id). When the network
//   fails or hangs, the static offline stand (/offline, cached at install) answers instead.
// - /media/ (page images, reference audio): cache first from the offline sets of the person using this page, then
//   the network; offline, a missing width falls back to the nearest cached width of the same file version (v=).
// - Offline data lives in one cache per band and person ("soleil-data-b<band>-u<user>"), so one band's images are
//   never served to another band's member. Who is using a page is asked of the server (/pwa/scope) after each
//   navigation; offline, the last answer (kept in "soleil-meta") stands. A definite "nobody is signed in" answer,
//   or a 'clear' message (the Sign out menu item), deletes every offline set on the device.
// - Downloads run here ('download' messages), report progress on the "soleil-offline" BroadcastChannel, and keep a
//   manifest per set (/__soleil/sets/<id>) next to its files. URLs no stored set needs any more are dropped.
// - NiceGUI's versioned files (/_nicegui/<version>/…: Vue, Quasar, the stand's component script, …): cache first,
//   kept on first use in "soleil-static-<build>", so a page after the first (and a page opened in a fresh tab whose
//   HTTP cache was evicted) starts without fetching its scripts. A new build starts that cache afresh.

const BUILD = "__BUILD__";
const SHELL = __SHELL__;
const SHELL_CACHE = "soleil-shell-" + BUILD;
const NICEGUI = "__NICEGUI__"; // "/_nicegui/<version>/"
const STATIC_CACHE = "soleil-static-" + BUILD;
const META_CACHE = "soleil-meta";
const DATA_PREFIX = "soleil-data-";
const SET_PREFIX = "/__soleil/sets/";
const SCOPE_KEY = "/__soleil/scope";
const NAV_TIMEOUT_MS = 8000; // a hanging network (Wi-Fi up, internet gone) must not keep the stand blank for long
const PARALLEL = 4;

const channel = new BroadcastChannel("soleil-offline");
const clientScopes = new Map(); // client id -> Promise<scope info> for pages this worker saw navigate
const jobs = new Map(); // "<scope>/<setlist>" -> Promise of a running download

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("soleil-shell-") && name !== SHELL_CACHE) await caches.delete(name);
        if (name.startsWith("soleil-static-") && name !== STATIC_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

// --- who is using a page ------------------------------------------------------------------------------------------
const json = (data, status = 200) =>
  new Response(JSON.stringify(data), { status, headers: { "Content-Type": "application/json", "Cache-Control": "no-store" } });

async function lastScope() {
  const hit = await (await caches.open(META_CACHE)).match(SCOPE_KEY);
  return hit ? hit.json() : { scope: null, prepare: [] };
}

async function fetchScope() {
  let info;
  try {
    const response = await fetch("/pwa/scope", { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) throw new Error("scope " + response.status);
    info = await response.json();
  } catch {
    return { ...(await lastScope()), online: false };
  }
  await (await caches.open(META_CACHE)).put(SCOPE_KEY, json(info));
  if (!info.scope) await clearAll(false); // signed out (here or everywhere): nothing of anyone stays on the device
  return { ...info, online: true };
}

function scopeFor(clientId) {
  return clientScopes.get(clientId) || lastScope();
}

// --- fetch ------------------------------------------------------------------------------------------------------------
self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") return event.respondWith(navigate(event));
  if (url.pathname === "/pwa/scope") return event.respondWith(scopeAnswer(event));
  if (url.pathname.startsWith("/media/")) return event.respondWith(media(event, url));
  if (SHELL.includes(url.pathname + url.search)) return event.respondWith(shell(request));
  if (url.pathname.startsWith(NICEGUI)) return event.respondWith(staticFile(event));
  // everything else (NiceGUI's socket, its static files, uploads): the browser's own handling
});

async function navigate(event) {
  let settle;
  const scope = new Promise((resolve) => (settle = resolve));
  if (event.resultingClientId) clientScopes.set(event.resultingClientId, scope);
  try {
    const response = await withTimeout(fetch(event.request), NAV_TIMEOUT_MS);
    // after the answer, so a sign-in's new cookie counts; the page's images wait for this
    event.waitUntil(fetchScope().then(settle, () => settle(lastScope())));
    return response;
  } catch {
    settle(lastScope());
    const offline = await caches.match("/offline", { cacheName: SHELL_CACHE });
    return offline || new Response("You are offline.", { status: 503, headers: { "Content-Type": "text/plain" } });
  }
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}

async function scopeAnswer(event) {
  const known = clientScopes.get(event.clientId);
  return json(known ? await known : await fetchScope());
}

async function shell(request) {
  const hit = await caches.match(request, { cacheName: SHELL_CACHE });
  return hit || fetch(request);
}

async function staticFile(event) {
  const request = event.request;
  const hit = await caches.match(request, { cacheName: STATIC_CACHE });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.status === 200) {
    const copy = response.clone();
    event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.put(request, copy)).catch(() => {}));
  }
  return response;
}

async function media(event, url) {
  const request = event.request;
  const { scope } = await scopeFor(event.clientId);
  const cache = scope ? await caches.open(DATA_PREFIX + scope) : null;
  const hit = cache && (await cache.match(url.href));
  if (hit) return ranged(request, hit);
  try {
    return await fetch(request);
  } catch (error) {
    const near = cache && (await nearest(cache, url));
    if (near) return ranged(request, near);
    throw error;
  }
}

async function nearest(cache, url) {
  // the same file version (v=) at another width: the closest one at least as wide, else the widest (a recording
  // asked for without v=, as the song page does, is whichever version the set keeps)
  const wanted = Number(url.searchParams.get("w") || 0);
  const version = url.searchParams.get("v");
  let above = null;
  let below = null;
  for (const key of await cache.keys(url.href, { ignoreSearch: true })) {
    const found = new URL(key.url);
    if (found.pathname !== url.pathname || (version !== null && found.searchParams.get("v") !== version)) continue;
    const width = Number(found.searchParams.get("w") || 0);
    if (width >= wanted) {
      if (!above || width < above.width) above = { key, width };
    } else if (!below || width > below.width) below = { key, width };
  }
  const best = above || below;
  return best && cache.match(best.key);
}

async function ranged(request, response) {
  // the audio player asks for byte ranges; a cached recording is a whole file
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get("range") || "");
  if (!range || response.status !== 200) return response;
  const body = await response.blob();
  const start = range[1] ? Number(range[1]) : Math.max(0, body.size - Number(range[2]));
  const end = range[1] && range[2] ? Math.min(Number(range[2]), body.size - 1) : body.size - 1;
  if (start >= body.size) return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${body.size}` } });
  const headers = new Headers(response.headers);
  headers.set("Content-Range", `bytes ${start}-${end}/${body.size}`);
  headers.set("Content-Length", String(end - start + 1));
  return new Response(body.slice(start, end + 1), { status: 206, headers });
}

// --- messages from pages --------------------------------------------------------------------------------------------
self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = (value) => event.ports[0]?.postMessage(value);
  let work;
  if (data.type === "download") work = download(data.manifest);
  else if (data.type === "remove") work = remove(data.scope, data.setlist_id);
  else if (data.type === "clear") work = clearAll(true);
  else return;
  event.waitUntil(work.then(reply, (error) => reply({ error: String(error) })));
});

function post(message) {
  channel.postMessage(message);
}

async function storedSets(cache) {
  const sets = [];
  for (const key of await cache.keys()) {
    if (new URL(key.url).pathname.startsWith(SET_PREFIX)) sets.push(await (await cache.match(key)).json());
  }
  return sets;
}

function download(manifest) {
  const key = manifest.scope + "/" + manifest.setlist_id;
  if (!jobs.has(key)) {
    const job = runDownload(manifest).finally(() => jobs.delete(key));
    jobs.set(key, job);
  }
  return jobs.get(key);
}

async function runDownload(manifest) {
  if (!manifest || !manifest.scope || !Array.isArray(manifest.urls)) throw new Error("not a manifest");
  const cache = await caches.open(DATA_PREFIX + manifest.scope);
  const setKey = SET_PREFIX + manifest.setlist_id;
  const previous = await cache.match(setKey).then((r) => (r ? r.json() : null));
  // an update keeps the complete copy readable until the new one is whole; its files are kept meanwhile (prune)
  const workKey = previous?.complete ? setKey + "/pending" : setKey;
  const record = { ...manifest, complete: false, bytes: 0, started_at: Date.now(), saved_at: null };
  await cache.put(workKey, json(record));
  const urls = manifest.urls;
  const sizes = new Map();
  let next = 0;
  let done = 0;
  const progress = () =>
    post({ type: "progress", scope: manifest.scope, setlist_id: manifest.setlist_id, done, total: urls.length, bytes: sum(sizes) });
  progress();
  const worker = async () => {
    while (next < urls.length) {
      const url = urls[next++];
      let response = await cache.match(url);
      if (!response) {
        const fresh = await fetch(url, { credentials: "same-origin" });
        if (!fresh.ok) throw new Error(`${fresh.status} for ${url}`);
        await cache.put(url, fresh.clone());
        response = fresh;
      }
      sizes.set(url, await size(response));
      done += 1;
      progress();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PARALLEL, urls.length) }, worker));
  } catch (error) {
    post({ type: "error", scope: manifest.scope, setlist_id: manifest.setlist_id, done, total: urls.length, message: String(error) });
    throw error;
  }
  const saved = { ...record, complete: true, bytes: sum(sizes), saved_at: Date.now() };
  await cache.put(setKey, json(saved));
  if (workKey !== setKey) await cache.delete(workKey);
  await prune(cache);
  post({ type: "done", scope: manifest.scope, setlist_id: manifest.setlist_id, done, total: urls.length, bytes: saved.bytes });
  return { bytes: saved.bytes };
}

async function size(response) {
  const length = Number(response.headers.get("content-length"));
  return length > 0 ? length : (await response.clone().blob()).size;
}

function sum(map) {
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}

async function prune(cache) {
  // drop files no stored set lists any more (a new library version: exactly the changed pages get new URLs)
  const keep = new Set();
  for (const set of await storedSets(cache)) for (const url of set.urls || []) keep.add(new URL(url, self.location.origin).href);
  for (const key of await cache.keys()) {
    if (new URL(key.url).pathname.startsWith("/media/") && !keep.has(key.url)) await cache.delete(key);
  }
}

async function remove(scope, setlistId) {
  const cache = await caches.open(DATA_PREFIX + scope);
  await cache.delete(SET_PREFIX + setlistId);
  await cache.delete(SET_PREFIX + setlistId + "/pending");
  await prune(cache);
  post({ type: "removed", scope, setlist_id: setlistId });
  return { ok: true };
}

async function clearAll(forget) {
  for (const name of await caches.keys()) if (name.startsWith(DATA_PREFIX)) await caches.delete(name);
  if (forget) {
    await caches.delete(META_CACHE);
    clientScopes.clear();
  }
  post({ type: "cleared" });
  return { ok: true };
}
