// SOLEil music stand: a full-screen chart reader.
// Every page turn happens here, in the browser, with no server round trip: the websocket may be down on stage.
// Pages are <img> nodes that were created, loaded and decoded ahead of time; a turn moves them into the spread.
// Styles live in stand.css (added by stand.py). No libraries, no build step.
// With a `songs` list (the setlist in the reader's part) previous/next song also happen here; without one, a setlist
// made available offline (window.SoleilOffline, components/static/offline.js) stands in while the socket is down.
// The reader's place (song and page) is kept in localStorage, so a reload, or the offline stand, opens right there.
// Who moved the stand matters in live mode: the reader's own song moves are numbered (`choice`), every report carries
// the number, and the server's moves (a leader's call) carry the last number it had heard. So a call made before the
// reader browsed away (replayed after a network cut) leaves them where they chose, and a report that arrives late
// (or is repeated on reconnect) never counts as browsing away.

const NEXT_KEYS = new Set(["ArrowRight", "ArrowDown", "PageDown", " ", "Enter"]);
const PREV_KEYS = new Set(["ArrowLeft", "ArrowUp", "PageUp", "Backspace"]);
const TAP_MS = 350; // longest press that still counts as a tap
const TAP_PX = 12; // farthest a tap may wander
const DOUBLE_MS = 280; // second tap within this time in the middle third zooms
const SWIPE_PX = 50; // shortest horizontal travel that turns
const MAX_ZOOM = 4;
const REPORT_MS = 400; // page_change debounce
const GAP = 4; // px between two pages side by side
const RESTORE_MS = 30 * 60 * 1000; // a reload within this time of the last turn opens at the same page
const RETRY_MAX_MS = 2000; // longest wait between two reconnect attempts
const CHART_RE = /\/media\/charts\/(\d+)\/(?:pages|svg)\//; // a PDF page image or an engraved page
const CROPS_KEY = "soleil.stand.crops"; // the reader's crop per chart on this device (the offline stand reads it)
const WHOLE = [0, 0, 1, 1];
const CROP_MODES = ["auto", "off", "manual"]; // the toolbar's button steps through them
const CROP_SIDES = ["Left", "Top", "Right", "Bottom"]; // manual margins, in this order
const CROP_NAMES = { auto: "Crop", off: "Full page", manual: "Margins" };

const prefixed = (url) => (url && url.startsWith("/") ? (window.path_prefix || "") + url : url);
const prefixedSrcset = (srcset) =>
  srcset
    .split(",")
    .map((s) => prefixed(s.trim()))
    .join(", ");
const stored = (key) => {
  try {
    return localStorage.getItem("soleil.stand." + key) === "1";
  } catch {
    return false;
  }
};
const store = (key, on) => {
  try {
    localStorage.setItem("soleil.stand." + key, on ? "1" : "0");
  } catch {
    /* private mode: keep it for this visit only */
  }
};

const chartOf = (pages) => {
  const match = CHART_RE.exec((pages && pages[0] && pages[0].src) || "");
  return match ? Number(match[1]) : null;
};
const ago = (ms) => {
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.floor(hours / 24)} days ago`;
};
const placeholder = (title, reason) => {
  const esc = (t) => String(t || "").slice(0, 60).replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="1035" viewBox="0 0 800 1035">' +
    '<rect width="100%" height="100%" fill="#fff"/><text x="400" y="470" font-size="46" font-family="sans-serif" ' +
    `text-anchor="middle">${esc(title)}</text><text x="400" y="540" font-size="26" font-family="sans-serif" ` +
    `text-anchor="middle" fill="#666">${esc(reason)}</text></svg>`;
  return [{ src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg), width: 800, height: 1035 }];
};
const offline = () => window.SoleilOffline;
const storedCrops = () => {
  try {
    const kept = JSON.parse(localStorage.getItem(CROPS_KEY) || "{}");
    return kept && typeof kept === "object" ? kept : {};
  } catch {
    return {};
  }
};
// The reader's pedal: the keys their pedal sends, learnt on this device ({next, prev}); the default keys still work.
const PEDAL_KEY = "soleil.stand.pedal";
const loadPedal = () => {
  try {
    const kept = JSON.parse(localStorage.getItem(PEDAL_KEY) || "null");
    return kept && typeof kept.next === "string" && typeof kept.prev === "string" ? kept : null;
  } catch {
    return null;
  }
};
const savePedal = (keys) => {
  try {
    if (keys) localStorage.setItem(PEDAL_KEY, JSON.stringify(keys));
    else localStorage.removeItem(PEDAL_KEY);
  } catch {
    /* private mode: kept for this visit only */
  }
};
const keyName = (key) => (key === " " ? "Space" : key.length === 1 ? key.toUpperCase() : key.replace(/([a-z])([A-Z])/g, "$1 $2"));
const NOT_PEDAL = new Set(["Shift", "Control", "Alt", "Meta", "Tab", "CapsLock", "Unidentified"]);
const SPEEDS = [1, 0.75, 0.5];
const minutes = (s) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}` : "0:00");

export default {
  template: `
    <div class="sl-stand" role="region" data-testid="stand"
        :class="{ 'sl-night': isNight, 'sl-fit-width': fitWidth, 'sl-zoomed': zoomed, 'sl-two-up': perView === 2,
                 'sl-half-on': half, 'sl-has-player': playerShown }"
        :aria-label="'Chart: ' + shownTitle" :data-page="page" :data-pages="shownPages.length" :data-per-view="perView"
        :data-song="songIndex === null ? '' : songIndex" :data-online="String(online)" :data-half="half ? '1' : '0'"
        :data-pedal="pedal ? pedal.next + '|' + pedal.prev : ''" :data-crop="cropMode">
      <h1 class="sl-sr">{{ shownTitle }}</h1>
      <button class="sl-show" type="button" aria-label="Stand controls" :aria-expanded="String(toolbar)"
          aria-keyshortcuts="t" data-testid="stand-show-controls" @click="act($event, 'toolbar')">
        <span class="material-icons" aria-hidden="true">{{ toolbar ? "expand_less" : "tune" }}</span>
        <span>Stand controls</span></button>
      <div ref="viewport" class="sl-viewport" data-testid="stand-viewport"
          @pointerdown="onDown" @pointermove="onMove" @pointerup="onUp" @pointercancel="onCancel"
          @contextmenu.prevent @dragstart.prevent>
        <div ref="spread" class="sl-spread">
          <div ref="slot0" class="sl-slot" data-testid="stand-slot"></div>
          <div ref="slot1" class="sl-slot" data-testid="stand-slot"></div>
        </div>
      </div>
      <div class="sl-indicator" :class="{ 'sl-flash': flash, 'sl-off': toolbar }" data-testid="stand-indicator"
          aria-live="polite">{{ indicator }}</div>
      <div v-if="playerShown" class="sl-player" role="group" aria-label="Recording" data-testid="stand-player">
        <audio ref="audio" :src="prefixedUrl(recordingUrl)" preload="metadata" data-testid="stand-audio"
            @play="playing = true" @pause="playing = false" @ended="playing = false"
            @timeupdate="position = $refs.audio.currentTime" @loadedmetadata="onAudioMeta"></audio>
        <button class="sl-btn" :aria-label="playing ? 'Pause recording' : 'Play recording'"
            data-testid="stand-play" @click="act($event, 'play')">
          <span class="material-icons" aria-hidden="true">{{ playing ? "pause" : "play_arrow" }}</span></button>
        <input class="sl-seek" type="range" min="0" :max="duration || 0" step="1" :value="position"
            aria-label="Position in the recording" :aria-valuetext="timeText(position) + ' of ' + timeText(duration)"
            data-testid="stand-seek" @input="seek($event.target.value)">
        <span class="sl-time" aria-hidden="true">{{ timeText(position) }} / {{ timeText(duration) }}</span>
        <button class="sl-btn" :aria-label="'Playback speed ' + speed + '×'" data-testid="stand-speed"
            @click="act($event, 'speed')"><span class="sl-speed">{{ speed }}×</span></button>
      </div>
      <div v-if="!online" class="sl-offline" data-testid="stand-offline">{{ offlineText }}</div>
      <div class="sl-sr" aria-live="polite" aria-atomic="true" data-testid="stand-announce">{{ announcement }}</div>
      <template v-if="toolbar">
        <div class="sl-bar sl-top" role="toolbar" aria-label="Chart" data-testid="stand-toolbar">
          <button class="sl-btn" aria-label="Close chart" data-testid="stand-close" @click="act($event, 'close')">
            <span class="material-icons" aria-hidden="true">arrow_back</span></button>
          <div class="sl-titles"><div class="sl-title">{{ shownTitle }}</div><div class="sl-part">{{ shownPart }}</div></div>
          <button v-if="recordingUrl" class="sl-btn sl-toggle" aria-label="Recording" :aria-pressed="String(playerOpen)"
              data-testid="stand-recording" @click="act($event, 'recording')">
            <span class="material-icons" aria-hidden="true">headphones</span></button>
          <button class="sl-btn sl-toggle" :aria-label="'Crop margins: ' + cropMode" :aria-pressed="String(cropMode !== 'off')"
              data-testid="stand-crop" :disabled="!shownChart" @click="act($event, 'crop')">
            <span class="material-icons" aria-hidden="true">crop</span>
            <span class="sl-label">{{ cropName }}</span></button>
          <div class="sl-count" data-testid="stand-count">{{ indicator }}</div>
        </div>
        <div class="sl-bar sl-bottom" role="toolbar" aria-label="Stand controls">
          <div v-if="pedalOpen" class="sl-pedal" role="group" aria-label="Pedal keys" data-testid="stand-pedal-panel">
            <div class="sl-pedal-text" aria-live="polite" data-testid="stand-pedal-text">{{ pedalText }}</div>
            <button class="sl-btn sl-wide" :aria-label="learning ? 'Cancel learning' : 'Learn pedal keys'"
                data-testid="stand-pedal-learn" @click="act($event, 'learn')">
              {{ learning ? "Cancel" : "Learn" }}</button>
            <button class="sl-btn sl-wide" aria-label="Reset pedal keys" data-testid="stand-pedal-reset"
                :disabled="!pedal && !learning" @click="act($event, 'pedal-reset')">Reset</button>
          </div>
          <div v-if="prevTitle || nextTitle" class="sl-songs">
            <button v-if="prevTitle" class="sl-btn sl-song" :aria-label="'Previous song: ' + prevTitle"
                data-testid="stand-prev-song" @click="act($event, 'song', 'prev')">
              <span class="material-icons" aria-hidden="true">skip_previous</span><span>{{ prevTitle }}</span></button>
            <span v-else></span>
            <button v-if="nextTitle" class="sl-btn sl-song" :aria-label="'Next song: ' + nextTitle"
                data-testid="stand-next-song" @click="act($event, 'song', 'next')">
              <span>{{ nextTitle }}</span><span class="material-icons" aria-hidden="true">skip_next</span></button>
          </div>
          <div class="sl-tools">
            <button class="sl-btn sl-turn" aria-label="Previous page" data-testid="stand-prev" :disabled="page === 0"
                @click="act($event, 'prev')"><span class="material-icons" aria-hidden="true">chevron_left</span></button>
            <button class="sl-btn sl-toggle" aria-label="Night mode" :aria-pressed="String(isNight)"
                data-testid="stand-night" @click="act($event, 'night')">
              <span class="material-icons" aria-hidden="true">dark_mode</span>
              <span class="sl-label">Night</span></button>
            <button class="sl-btn sl-toggle" aria-label="Fit to width" :aria-pressed="String(fitWidth)"
                data-testid="stand-fit" @click="act($event, 'fit')">
              <span class="material-icons" aria-hidden="true">width_wide</span>
              <span class="sl-label">Width</span></button>
            <button class="sl-btn sl-toggle" aria-label="2 pages side by side" :aria-pressed="String(perView === 2)"
                data-testid="stand-two-up" :disabled="!wide" @click="act($event, 'single')">
              <span class="material-icons" aria-hidden="true">import_contacts</span>
              <span class="sl-label">2 pages</span></button>
            <button class="sl-btn sl-toggle" aria-label="Half-page turns" :aria-pressed="String(halfTurns)"
                data-testid="stand-half" :disabled="perView === 2" @click="act($event, 'half')">
              <span class="material-icons" aria-hidden="true">vertical_split</span>
              <span class="sl-label">Half</span></button>
            <button class="sl-btn" aria-label="Pedal keys" :aria-expanded="String(pedalOpen)"
                data-testid="stand-pedal" @click="act($event, 'pedal')">
              <span class="material-icons" aria-hidden="true">keyboard</span>
              <span class="sl-label">Pedal</span></button>
            <button class="sl-btn sl-turn" aria-label="Next page" data-testid="stand-next" :disabled="atEnd"
                @click="act($event, 'next')"><span class="material-icons" aria-hidden="true">chevron_right</span></button>
          </div>
        </div>
        <div v-if="cropMode === 'manual'" class="sl-crop-panel" role="group" aria-label="Crop margins"
            data-testid="stand-crop-panel">
          <label v-for="(side, k) in cropSides" :key="side" class="sl-crop-side">
            <span>{{ side }}</span>
            <input type="range" min="0" max="40" step="1" :value="Math.round(cropMargins[k] * 100)"
                :aria-label="side + ' margin, percent of the page'" :data-testid="'stand-crop-' + side.toLowerCase()"
                @input="setMargin(k, $event.target.value)" @change="saveCrop" /></label>
        </div>
      </template>
    </div>`,
  props: {
    title: { type: String, default: "" },
    part_label: { type: String, default: "" },
    pages: { type: Array, default: () => [] },
    night: Boolean,
    start_page: { type: Number, default: 0 },
    chart_key: { type: Number, default: 0 },
    prev_title: String,
    next_title: String,
    songs: { type: Array, default: null }, // [{title, part_label, pages, item_id, chart_id, explanation}]
    song_index: { type: Number, default: 0 },
    setlist_id: { type: Number, default: null },
    standalone: Boolean, // the offline stand: no server at all
    live: { type: Object, default: null }, // {kind, live, setlist, item, seq}: the live call as the page was built
    following: Boolean, // this stand follows the leader's calls (live mode)
    drives: Boolean, // the leader's live stand: its own turns are the ones the followers get
    offline_since: { type: Number, default: 0 }, // standalone: when the data was last brought up to date
    recording: { type: String, default: "" }, // the chart's song's reference recording (a /media/audio URL)
    crops: { type: Object, default: () => ({}) }, // the reader's own crop per chart id: {mode, margins}
  },
  data() {
    return {
      page: 0,
      isNight: this.night,
      fitWidth: stored("fit-width"),
      forceSingle: stored("single"),
      wide: false,
      zoomed: false,
      toolbar: false,
      flash: true,
      songIndex: null, // index into songList of the song shown; null: the chart in the props
      orphan: null, // {song, at}: the song shown was taken out of the setlist; it stays until the reader moves on
      autoSongs: null, // offline, without `songs`: the setlist made available offline
      online: !this.standalone,
      lastUp: this.offline_since || Date.now(),
      now: Date.now(),
      announcement: "", // said politely by screen readers: the song now on the stand, offline, back online
      cropChoices: { ...storedCrops(), ...(this.crops || {}) }, // chart id -> {mode, margins}; the server's wins
      cropSides: CROP_SIDES,
      halfTurns: stored("half-turns"), // "next" shows the next page's top half first (this device's choice)
      half: false, // between page and page + 1: the top half shows the next page, the bottom half this one
      pedal: loadPedal(), // {next, prev}: the keys this device's pedal sends, or null (the default keys)
      pedalOpen: false,
      learning: null, // "next" | "prev": waiting for the pedal's key
      learnt: null,
      pedalMessage: "",
      playerOpen: false,
      playing: false,
      position: 0,
      duration: 0,
      speed: 1,
    };
  },
  computed: {
    songList() {
      return this.songs && this.songs.length ? this.songs : this.autoSongs;
    },
    song() {
      if (this.orphan) return this.orphan.song;
      return this.songIndex !== null && this.songList ? this.songList[this.songIndex] || null : null;
    },
    shownTitle() {
      return this.song ? this.song.title : this.title;
    },
    shownPart() {
      return this.song ? this.song.part_label || "" : this.part_label;
    },
    shownPages() {
      if (!this.song) return this.pages;
      return this.song.pages && this.song.pages.length ? this.song.pages : placeholder(this.song.title, this.song.explanation);
    },
    prevTitle() {
      if (this.orphan) return this.songList?.[this.orphan.at - 1]?.title;
      return this.song ? this.songList[this.songIndex - 1]?.title : this.prev_title;
    },
    nextTitle() {
      if (this.orphan) return this.songList?.[this.orphan.at]?.title;
      return this.song ? this.songList[this.songIndex + 1]?.title : this.next_title;
    },
    nowText() {
      const part = (this.shownPart || "").split(" · ")[0]; // the part, without the setlist's key and notes
      return part ? `Now: ${this.shownTitle}, your ${part} part` : `Now: ${this.shownTitle}`;
    },
    offlineText() {
      return `offline · last update ${ago(this.now - this.lastUp)}`;
    },
    perView() {
      return this.wide && !this.forceSingle ? 2 : 1;
    },
    indicator() {
      const n = this.shownPages.length;
      if (!n) return "–";
      if (this.half) return `${this.page + 1}½ / ${n}`; // between two pages: the next one's top half shows
      const last = Math.min(n, this.page + this.perView);
      return last > this.page + 1 ? `${this.page + 1}–${last} / ${n}` : `${this.page + 1} / ${n}`;
    },
    atEnd() {
      return this.page + this.perView > this.shownPages.length - 1;
    },
    shownChart() {
      return chartOf(this.shownPages);
    },
    cropChoice() {
      const choice = this.shownChart === null ? null : this.cropChoices[this.shownChart];
      return choice && CROP_MODES.includes(choice.mode) ? choice : { mode: "auto", margins: [] };
    },
    cropMode() {
      return this.cropChoice.mode;
    },
    cropName() {
      return CROP_NAMES[this.cropMode];
    },
    cropMargins() {
      const m = this.cropChoice.margins;
      return Array.isArray(m) && m.length === 4 ? m : [0, 0, 0, 0];
    },
    halfOn() {
      return this.halfTurns && this.perView === 1;
    },
    pedalText() {
      if (this.learning === "next") return "Press your pedal's forward key";
      if (this.learning === "prev") return this.pedalMessage || `Forward: ${keyName(this.learnt.next)}. Now press its back key`;
      if (this.pedalMessage) return this.pedalMessage;
      if (!this.pedal) return "Default keys: Page Down, →, Space, Enter forward; Page Up, ← back";
      return `Forward: ${keyName(this.pedal.next)} · Back: ${keyName(this.pedal.prev)}`;
    },
    recordingUrl() {
      // a song of the setlist carries its own (an offline set: the recording it made available); else the prop
      if (this.song) return this.song.recording || this.song.audio?.[0]?.url || "";
      return this.recording || "";
    },
    playerShown() {
      return this.playerOpen && !!this.recordingUrl;
    },
  },
  watch: {
    chart_key: { handler: "serverChart", flush: "post" },
    songs: "songsChanged",
    night(on) {
      this.isNight = on;
    },
    live(message) {
      this.heardCall(message); // the server set it (the reader chose to follow): newer than what we had, or nothing
    },
    isNight(on) {
      store("night", on); // the offline stand opens in the same mode
    },
    nowText(text) {
      this.announcement = text; // a leader's call, or the reader's own move to another song
    },
    shownTitle: {
      handler(title) {
        if (title) document.title = `${title} · SOLEil`;
      },
      immediate: true,
    },
    online(up) {
      this.announcement = up ? "Back online" : "Offline: pages still turn";
    },
    perView: { handler: "render", flush: "post" },
    cropChoice: { handler: "layout", flush: "post" },
    toolbar(open) {
      if (open) return;
      this.learning = null; // a pedal key must never be learnt with the panel out of sight
      this.pedalOpen = false;
    },
    recordingUrl() {
      // another song (a leader's call, the reader's move): its own recording, from the start
      this.playing = false;
      this.position = this.duration = 0;
    },
    fitWidth: { handler: "render", flush: "post" },
  },
  created() {
    // Plain (non-reactive) state: touched on every pointer move, never rendered by Vue.
    this.cache = new Map(); // page index -> { img, ready }
    this.pointers = new Map();
    this.gesture = null;
    this.zoom = { s: 1, x: 0, y: 0 };
    this.choice = 0; // the reader's own song moves on this page, numbered
    this.liveNow = this.live; // the newest call this page has applied or passed over (see heardCall)
    this.chosen = false; // the song shown is the reader's choice (not the server's call)
  },
  mounted() {
    this.onKey = this.onKey.bind(this);
    this.onVisibility = this.onVisibility.bind(this);
    document.addEventListener("keydown", this.onKey);
    document.addEventListener("visibilitychange", this.onVisibility);
    this.onGoto = (e) => this.goTo(Number(e.detail?.page) || 0); // the pencil's links jump here (pencil.js)
    this.$el.addEventListener("soleil-goto", this.onGoto);
    document.documentElement.classList.add("sl-stand-open");
    this.resizer = new ResizeObserver(() => this.measure());
    this.resizer.observe(this.$refs.viewport);
    this.$el.dataset.wakeLock = "pending";
    this.acquireWakeLock();
    this.flashIndicator();
    this.songIndex = this.findSong();
    if (!this.standalone) store("night", this.isNight);
    const restored = this.restoredChoice();
    this.clock = setInterval(() => (this.now = Date.now()), 15000);
    queueMicrotask(() => {
      // after the app's mounted() has set window.path_prefix and window.socket
      if (restored) {
        this.enterSong(restored.index, restored.page, true);
        this.tellSong(true); // chosen while cut off: a leader's stand never calls it late
      } else this.loadChart(this.restoredPage());
      document.getElementById("sl-first")?.remove(); // the server HTML's first page: the stand has its own now
      if (!this.standalone) this.watchSocket();
    });
  },
  beforeUnmount() {
    this.flushReport();
  },
  unmounted() {
    this.gone = true;
    document.removeEventListener("keydown", this.onKey);
    document.removeEventListener("visibilitychange", this.onVisibility);
    document.documentElement.classList.remove("sl-stand-open");
    this.resizer.disconnect();
    clearTimeout(this.tapTimer);
    clearTimeout(this.flashTimer);
    clearTimeout(this.reportTimer);
    clearInterval(this.clock);
    this.unwatchSocket?.();
    this.wakeLock?.release().catch(() => {});
    this.cache.clear();
  },
  methods: {
    // --- chart and pages -------------------------------------------------------------------------
    loadChart(start = this.start_page) {
      this.half = false; // a song opens whole at its page (a leader's call: at the first)
      this.cache.clear();
      this.page = Math.max(0, Math.min(start || 0, this.shownPages.length - 1));
      this.resetZoom();
      this.measure();
      this.render();
      this.flashIndicator();
      this.savePlace();
    },
    serverChart() {
      // the server swapped the chart (set_chart): show it, and find it in the song list if there is one
      this.orphan = null;
      this.songIndex = this.findSong();
      this.loadChart();
    },
    findSong() {
      const list = this.songList;
      if (!list || !list.length) return null;
      const chart = chartOf(this.pages);
      const found = chart === null ? -1 : list.findIndex((s) => s.chart_id === chart);
      if (found >= 0) return found;
      return this.songs && this.songs.length && this.song_index < this.songs.length ? Math.max(0, this.song_index) : null;
    },
    goTo(target) {
      const n = this.shownPages.length;
      target = Math.max(0, Math.min(target, n - 1));
      if (this.half && target === this.page) return this.setHalf(false);
      if (!n || target === this.page) return false;
      this.half = false;
      this.page = target;
      this.resetZoom();
      this.$refs.viewport.scrollTop = 0;
      this.render();
      this.flashIndicator();
      this.savePlace();
      clearTimeout(this.reportTimer);
      this.reportTimer = setTimeout(() => this.report(), REPORT_MS);
      return true;
    },
    // --- songs of a setlist, in the browser ------------------------------------------------------
    songStep(direction) {
      const list = this.songList;
      if (!list || (this.songIndex === null && !this.orphan)) {
        // the server decides; offline it can't, and a request queued until the reconnect would jump the stand then
        if (this.online) this.$emit("song_request", { direction });
        return;
      }
      const here = this.orphan ? this.orphan.at - (direction === "next" ? 1 : 0) : this.songIndex;
      const target = here + (direction === "next" ? 1 : -1);
      if (target < 0 || target >= list.length) return;
      this.choice += 1;
      this.enterSong(target, 0, true);
      this.tellSong();
    },
    showSong(index, page = 0, choice = null) {
      // the server moves the reader (the leader's call, "back to live"): only the index crosses the wire. A move
      // decided before the server heard of the reader's latest choice (e.g. replayed after a cut) is dropped.
      const list = this.songList;
      if (!list || index < 0 || index >= list.length) return;
      if (choice !== null && choice < this.choice) return;
      this.enterSong(index, page, false);
    },
    enterSong(index, page, chosen) {
      this.flushReport();
      this.orphan = null;
      this.songIndex = index;
      this.chosen = chosen;
      this.loadChart(page);
      this.toolbar = false;
      const chart = this.songList[index].chart_id;
      const setlist = this.setlistId();
      if (chart && setlist && /^\/stand\//.test(location.pathname)) {
        history.replaceState(history.state, "", `/stand/${chart}?setlist=${setlist}`); // a reload opens this song
      }
    },
    songsChanged(list, old) {
      // the leader edited the setlist: keep reading the same entry wherever it went; if it was taken out, keep it
      // on the stand (with its new neighbours) until the reader moves on
      if (this.orphan) this.orphan.at = Math.min(this.orphan.at, list ? list.length : 0);
      if (!list || !list.length || !old || this.songIndex === null || this.orphan) return;
      const shown = old[this.songIndex];
      if (!shown) return;
      const found = list.findIndex((s) => s.item_id === shown.item_id);
      if (found >= 0) this.songIndex = found;
      else this.orphan = { song: shown, at: Math.min(this.songIndex, list.length) };
    },
    tellSong(resync = false) {
      // offline the server can't hear it (and a queued report would arrive late): it asks again on reconnect
      if (!this.songs || !this.songs.length || this.songIndex === null || this.orphan || !this.online) return;
      const s = this.songs[this.songIndex];
      try {
        this.$emit("song_change", { index: this.songIndex, item_id: s.item_id ?? null, chart_id: s.chart_id ?? null,
                                    choice: this.choice, resync });
      } catch {
        /* told again on reconnect */
      }
    },
    heardCall(message) {
      // The leader's call, once per room for every follower (components/live_room.py), or this page alone after a
      // reconnect. The follower's rule (soleil_ui/live_follow.py, follows_call): a stand that follows and shows the
      // song called last (or any song, when a new session starts) moves to the new call; one that browsed away stays.
      // A call is applied once: an older or repeated (live, seq) is ignored.
      if (!message || message.setlist !== this.setlistId()) return;
      const last = this.liveNow;
      if (last && last.setlist === message.setlist) {
        if (message.live < last.live || (message.live === last.live && message.seq <= last.seq)) return;
      }
      const sameSession = last && last.setlist === message.setlist && last.live === message.live;
      const attached = !sameSession || (!this.orphan && this.song !== null && this.song.item_id === last.item);
      this.liveNow = message;
      if (!this.following || !attached || message.kind === "stop" || message.item === null) return;
      const index = (this.songList || []).findIndex((s) => s.item_id === message.item);
      if (index < 0) return;
      // with the leader's "turn their pages with mine", the follower also opens (or turns to) the leader's page
      const page = message.turns && !this.drives ? message.page || 0 : 0;
      if (index !== this.songIndex || this.orphan) this.enterSong(index, page, false);
      else if (message.turns && !this.drives && message.kind !== "stop") this.goTo(page);
    },
    resync() {
      // the server asks after a reconnect, once it has replayed what the page missed: where is the reader now?
      this.tellSong(true);
      this.report();
    },
    setlistId() {
      if (this.setlist_id) return this.setlist_id;
      const live = /^\/live\/(\d+)/.exec(location.pathname);
      const query = /[?&]setlist=(\d+)/.exec(location.search);
      return live ? Number(live[1]) : query ? Number(query[1]) : null;
    },
    // --- the reader's place, kept for reloads and the offline stand ------------------------------
    savePlace() {
      const keeper = offline()?.place;
      if (!keeper) return;
      const chart = chartOf(this.shownPages);
      const setlist = this.setlistId();
      let path = location.pathname + location.search;
      const before = keeper.get();
      if (/^\/live\//.test(location.pathname)) path = location.pathname;
      else if (this.standalone && before?.path?.startsWith("/live/") && before.setlist_id === setlist) path = before.path;
      else if (chart) path = `/stand/${chart}` + (setlist ? `?setlist=${setlist}` : "");
      else if (this.standalone) path = setlist ? `/live/${setlist}` : "/";
      keeper.set({ setlist_id: setlist, chart_id: chart, item_id: this.song?.item_id ?? null, page: this.page, path,
                   chosen: this.chosen });
    },
    restoredChoice() {
      // a live stand reloaded (after a long outage, say) where the reader had browsed away: back at their song, which
      // the server then hears as their choice; it never drags them to the called song
      if (this.standalone || !this.songs || !this.songs.length || !/^\/live\//.test(location.pathname)) return null;
      const place = offline()?.place.get();
      if (!place?.chosen || Date.now() - place.t > RESTORE_MS || place.setlist_id !== this.setlistId()) return null;
      const index = this.songs.findIndex((s) => s.item_id === place.item_id);
      if (index < 0 || index === this.songIndex) return null;
      this.choice = 1;
      return { index, page: place.page || 0 };
    },
    restoredPage() {
      // a reload (by the reader, by NiceGUI after a long outage, or back from the offline stand) keeps the page
      if (this.standalone || this.start_page) return this.start_page;
      const place = offline()?.place.get();
      const chart = chartOf(this.shownPages);
      if (!place || !chart || place.chart_id !== chart || Date.now() - place.t > RESTORE_MS) return 0;
      if ((place.setlist_id ?? null) !== (this.setlistId() ?? null)) return 0;
      if (place.page > 0) this.reportTimer = setTimeout(() => this.report(), REPORT_MS); // tell the server too
      return place.page;
    },
    // --- the connection: an indicator that never blocks, and catching up when it returns -----------
    watchSocket() {
      const socket = window.socket;
      if (!socket) return setTimeout(() => !this.gone && this.watchSocket(), 200);
      const up = () => this.connection(true);
      const down = () => this.connection(false);
      // NiceGUI reloads the page when a reconnect attempt times out; on the stand that would blank the chart on a
      // flapping network, so keep socket.io retrying instead (the other reasons to reload stay as they are).
      // once the network is back, be back within ~2 s (socket.io's default backoff grows to 7.5 s between tries)
      socket.io.reconnectionDelayMax(RETRY_MAX_MS);
      socket.off("connect_error");
      socket.on("connect_error", (error) => {
        if (error?.message === "Implicit handshake failed") location.reload();
        else if (error?.message === "timeout") socket.io.opts.transports = ["polling", "websocket"];
      });
      // the device saying it lost the network is news sooner than the socket's heartbeat
      const device = () => (navigator.onLine ? socket.connected && up() : down());
      const call = (message) => this.heardCall(message);
      socket.on("connect", up);
      socket.on("disconnect", down);
      socket.on("soleil_live", call);
      window.addEventListener("offline", device);
      window.addEventListener("online", device);
      this.unwatchSocket = () => {
        socket.off("soleil_live", call);
        socket.off("connect", up);
        socket.off("disconnect", down);
        window.removeEventListener("offline", device);
        window.removeEventListener("online", device);
      };
      if (!socket.connected && window.did_handshake) down();
    },
    connection(up) {
      if (up === this.online || this.gone) return;
      this.online = up;
      this.now = Date.now();
      if (!up) {
        this.lastUp = this.now;
        this.useOfflineSet();
        return;
      }
      this.lastUp = this.now;
      const chart = chartOf(this.pages);
      if (this.autoSongs) {
        const shown = this.song?.chart_id ?? null;
        if (this.song && shown !== chart) {
          // the server still shows the song before the reader moved on offline: open the reader's song afresh
          this.savePlace();
          const setlist = this.setlistId();
          return location.replace(shown ? `/stand/${shown}?setlist=${setlist}` : `/live/${setlist}`);
        }
        this.autoSongs = null;
        this.songIndex = this.findSong();
      }
      // the server asks where the reader is (resync) once it has replayed what the page missed
    },
    useOfflineSet() {
      const setlist = this.setlistId();
      if ((this.songs && this.songs.length) || !setlist || !offline()) return;
      offline()
        .loadSet(setlist)
        .then((set) => {
          if (!set || this.online || this.gone || this.autoSongs) return;
          this.autoSongs = set.songs || [];
          this.songIndex = this.findSong();
          if (this.songIndex === null) this.autoSongs = null; // this chart isn't in the offline set
        })
        .catch(() => {});
    },
    next() {
      if (this.halfOn && !this.half && this.page < this.shownPages.length - 1) return this.setHalf(true);
      if (this.half) return this.goTo(this.page + 1); // the turn completes
      return !this.atEnd && this.goTo(this.page + this.perView);
    },
    prev() {
      if (this.half) return this.setHalf(false);
      if (this.halfOn && this.page > 0) return this.goTo(this.page - 1) && this.setHalf(true); // the reverse
      return this.goTo(this.page - this.perView);
    },
    flushReport() {
      if (this.reportTimer) this.report();
    },
    report() {
      clearTimeout(this.reportTimer);
      this.reportTimer = null;
      try {
        this.$emit("page_change", { page: this.page, pages: this.shownPages.length }); // fire and forget
      } catch {
        /* offline: the place is kept here anyway */
      }
    },
    image(i) {
      let entry = this.cache.get(i);
      if (entry) return entry;
      const p = this.shownPages[i];
      // the page's <head> may have started loading and decoding this very image while the app's scripts loaded
      const early = window.soleilFirstPage;
      const img = early && early.src === p.src ? early.img : new Image();
      if (early && img === early.img) window.soleilFirstPage = null; // shown in #sl-first until now: moved here
      entry = { img, ready: false };
      this.cache.set(i, entry);
      img.className = "sl-page";
      img.draggable = false;
      img.decoding = "async";
      img.dataset.testid = "stand-page-img";
      img.dataset.index = i;
      img.sizes = this.fullWidth(i) + "px";
      if (p.srcset) img.srcset = prefixedSrcset(p.srcset);
      img.src = prefixed(p.src);
      const decoded = () => {
        entry.ready = true;
        if (this.cache.get(i) === entry) this.markReady();
      };
      // decode() rejects when the source changes mid-way (e.g. a resize picked another srcset width): retry once
      img.decode().then(decoded, () => img.decode().then(decoded, () => {}));
      return entry;
    },
    render() {
      const n = this.shownPages.length;
      [this.$refs.slot0, this.$refs.slot1].forEach((slot, k) => {
        if (!slot) return;
        const i = this.page + k;
        if (k >= this.perView || i >= n) return slot.replaceChildren();
        const { img } = this.image(i);
        img.alt = `${this.shownTitle}, page ${i + 1} of ${n}`;
        if (slot.firstChild !== img) slot.replaceChildren(img);
      });
      this.renderHalf();
      this.layout();
      this.preload();
    },
    preload() {
      // Next 2 pages (a spread ahead when two-up) and the previous one (spread), nearest first.
      const v = this.perView;
      const first = this.page;
      const wanted = [];
      for (let k = 1; k <= 2 * v; k++) wanted.push(first + v - 1 + k);
      for (let k = 1; k <= v; k++) wanted.push(first - k);
      for (const i of wanted) if (i >= 0 && i < this.shownPages.length) this.image(i);
      for (const i of this.cache.keys()) if (i < first - 2 * v || i > first + 4 * v) this.cache.delete(i);
      this.markReady();
    },
    markReady() {
      // test hook: which pages sit decoded in the cache, e.g. "0,1,2"
      const ready = [...this.cache].filter(([, e]) => e.ready).map(([i]) => i);
      if (!this.gone) this.$el.dataset.ready = ready.sort((a, b) => a - b).join(",");
    },
    // --- layout ----------------------------------------------------------------------------------
    measure() {
      const vp = this.$refs.viewport;
      if (!vp || !vp.clientWidth) return;
      this.wide = vp.clientWidth > vp.clientHeight && vp.clientWidth >= 900;
      this.layout();
    },
    box(i) {
      // CSS size of page i in the current layout (before zoom)
      const vp = this.$refs.viewport;
      const p = this.shownPages[i] || {};
      const c = this.cropOf(i);
      const ratio = ((p.width || 800) * (c[2] - c[0])) / ((p.height || 1035) * (c[3] - c[1]));
      const W = vp?.clientWidth || window.innerWidth;
      const H = vp?.clientHeight || window.innerHeight;
      const boxW = (W - GAP * (this.perView - 1)) / this.perView;
      const w = this.fitWidth ? boxW : Math.min(boxW, H * ratio);
      return { w: Math.max(1, Math.round(w)), h: Math.max(1, Math.round(w / ratio)) };
    },
    layout() {
      [this.$refs.slot0, this.$refs.slot1].forEach((slot, k) => {
        const { w, h } = this.box(this.page + k);
        if (slot) Object.assign(slot.style, { width: w + "px", height: h + "px" });
        if (slot) this.placeCrop(slot, this.page + k, w, h);
      });
      this.layoutHalf();
      for (const [i, { img }] of this.cache) {
        const sizes = this.fullWidth(i) + "px";
        if (img.sizes !== sizes) img.sizes = sizes;
      }
    },
    // --- crop: the slot shows a region of the page; what it holds is laid out at the whole page's size ------------
    cropOf(i) {
      // [left, top, right, bottom] of page i shown, in fractions of the whole page
      const mode = this.cropMode;
      if (mode === "off") return WHOLE;
      if (mode === "manual") {
        const [l, t, r, b] = this.cropMargins;
        return l + r < 0.9 && t + b < 0.9 ? [l, t, 1 - r, 1 - b] : WHOLE;
      }
      const c = (this.shownPages[i] || {}).crop;
      return Array.isArray(c) && c.length === 4 && c[0] < c[2] && c[1] < c[3] ? c : WHOLE;
    },
    fullWidth(i) {
      // the whole page's CSS width when its crop fills box(i): what srcset should pick a resolution for
      const c = this.cropOf(i);
      return Math.round(this.box(i).w / (c[2] - c[0]));
    },
    placeCrop(slot, i, w, h) {
      // the image and the pencil's canvas take these (stand.css): page coordinates stay the whole page's
      const c = this.cropOf(i);
      const pw = w / (c[2] - c[0]);
      const ph = h / (c[3] - c[1]);
      slot.style.setProperty("--sl-pw", pw + "px");
      slot.style.setProperty("--sl-ph", ph + "px");
      slot.style.setProperty("--sl-px", -c[0] * pw + "px");
      slot.style.setProperty("--sl-py", -c[1] * ph + "px");
    },
    startMargins() {
      // manual margins start from what the reader sees: the page's automatic crop, else none
      const c = (this.shownPages[this.page] || {}).crop || WHOLE;
      const m = [c[0], c[1], 1 - c[2], 1 - c[3]];
      return m.map((v) => Math.max(0, Math.min(0.4, Math.round(v * 100) / 100)));
    },
    setMargin(k, percent) {
      const margins = [...this.cropMargins];
      margins[k] = Math.max(0, Math.min(40, Number(percent) || 0)) / 100;
      this.cropChoices = { ...this.cropChoices, [this.shownChart]: { mode: "manual", margins } };
    },
    saveCrop() {
      this.chooseCrop(this.cropMode, this.cropMode === "manual" ? this.cropMargins : []);
    },
    chooseCrop(mode, margins) {
      const chart = this.shownChart;
      if (chart === null) return;
      this.cropChoices = { ...this.cropChoices, [chart]: { mode, margins } };
      const kept = storedCrops();
      if (mode === "auto") delete kept[chart];
      else kept[chart] = { mode, margins };
      try {
        localStorage.setItem(CROPS_KEY, JSON.stringify(kept));
      } catch {
        /* private mode: kept for this visit only */
      }
      if (this.standalone) return;
      try {
        this.$emit("crop_change", { chart_id: chart, mode, margins }); // theirs on every device
      } catch {
        /* offline: this device keeps it */
      }
    },
    // --- zoom ------------------------------------------------------------------------------------
    applyZoom() {
      const z = this.zoom;
      const spread = this.$refs.spread;
      const W = spread.offsetWidth;
      const H = spread.offsetHeight;
      z.s = Math.max(1, Math.min(MAX_ZOOM, z.s));
      z.x = Math.min(0, Math.max(W - W * z.s, z.x));
      z.y = Math.min(0, Math.max(H - H * z.s, z.y));
      spread.style.transform = z.s === 1 ? "" : `translate(${z.x}px, ${z.y}px) scale(${z.s})`;
      this.zoomed = z.s > 1;
      this.$el.dataset.zoom = z.s.toFixed(2);
    },
    resetZoom() {
      this.zoom = { s: 1, x: 0, y: 0 };
      if (this.$refs.spread) this.applyZoom();
    },
    zoomAround(s, px, py, base = this.zoom) {
      // keep the content point under (px, py) where it is
      const cx = (px - base.x) / base.s;
      const cy = (py - base.y) / base.s;
      this.zoom = { s, x: px - s * cx, y: py - s * cy };
      this.applyZoom();
    },
    // --- pointer gestures: tap thirds, double-tap zoom, swipe, pinch, pan --------------------------
    point(e) {
      const r = this.$refs.viewport.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top + this.$refs.viewport.scrollTop }; // spread coordinates
    },
    onDown(e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      if (e.isPrimary) this.pointers.clear(); // forget pointers whose pointerup got lost
      this.$refs.viewport.setPointerCapture?.(e.pointerId);
      this.pointers.set(e.pointerId, this.point(e));
      if (this.pointers.size === 1) {
        this.gesture = { start: this.point(e), t: performance.now(), moved: false, multi: false, base: { ...this.zoom } };
      } else if (this.pointers.size === 2 && this.gesture) {
        const [a, b] = [...this.pointers.values()];
        Object.assign(this.gesture, { multi: true, d: Math.hypot(a.x - b.x, a.y - b.y) || 1, base: { ...this.zoom } });
        this.gesture.mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      }
    },
    onMove(e) {
      if (!this.pointers.has(e.pointerId) || !this.gesture) return;
      const p = this.point(e);
      this.pointers.set(e.pointerId, p);
      const g = this.gesture;
      if (this.pointers.size >= 2) {
        const [a, b] = [...this.pointers.values()];
        const s = (g.base.s * Math.hypot(a.x - b.x, a.y - b.y)) / g.d;
        const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
        this.zoomAround(s, g.mid.x, g.mid.y, g.base); // scale around the pinch start...
        this.zoom.x += mid.x - g.mid.x; // ...and follow the fingers
        this.zoom.y += mid.y - g.mid.y;
        this.applyZoom();
        return;
      }
      const dx = p.x - g.start.x;
      const dy = p.y - g.start.y;
      if (Math.hypot(dx, dy) > TAP_PX) g.moved = true;
      if (this.zoom.s > 1) {
        this.zoom.x = g.base.x + dx;
        this.zoom.y = g.base.y + dy;
        this.applyZoom();
      }
    },
    onUp(e) {
      if (!this.pointers.delete(e.pointerId)) return;
      const g = this.gesture;
      if (!g) return;
      if (this.pointers.size) {
        // one finger of a pinch lifted: the other one pans from here
        const rest = [...this.pointers.values()][0];
        this.gesture = { ...g, start: rest, base: { ...this.zoom } };
        return;
      }
      this.gesture = null;
      if (g.multi) {
        if (this.zoom.s < 1.05) this.resetZoom();
        return;
      }
      const p = this.point(e);
      const dx = p.x - g.start.x;
      const dy = p.y - g.start.y;
      if (!g.moved && performance.now() - g.t < TAP_MS) return this.onTap(p.x, p.y);
      if (this.zoom.s === 1 && Math.abs(dx) > SWIPE_PX && Math.abs(dx) > 1.5 * Math.abs(dy)) {
        if (dx < 0) this.next();
        else this.prev();
      }
    },
    onCancel(e) {
      // the browser took the gesture over (e.g. vertical scrolling in fit-to-width): never turn on it
      this.pointers.delete(e.pointerId);
      if (!this.pointers.size) this.gesture = null;
    },
    onTap(x, y) {
      const W = this.$refs.viewport.clientWidth;
      if (x > (2 * W) / 3) return this.next(); // side thirds turn at once, never waiting for a second tap
      if (x < W / 3) return this.prev();
      const now = performance.now();
      const last = this.lastTap;
      if (this.tapTimer && last && now - last.t < DOUBLE_MS && Math.hypot(x - last.x, y - last.y) < 40) {
        clearTimeout(this.tapTimer);
        this.tapTimer = null;
        if (this.zoom.s > 1) this.resetZoom();
        else this.zoomAround(2, x, y);
        return;
      }
      this.lastTap = { x, y, t: now };
      clearTimeout(this.tapTimer);
      this.tapTimer = setTimeout(() => {
        this.tapTimer = null;
        this.toolbar = !this.toolbar;
      }, DOUBLE_MS);
    },
    // --- keys: pedals send these -----------------------------------------------------------------
    onKey(e) {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (!this.$el.getClientRects().length) return; // stand hidden
      const t = e.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      if (this.learning) return this.learnKey(e);
      if ((e.key === "Enter" || e.key === " ") && t?.closest?.("button, a, [role=button]")) return;
      const key = e.key;
      const pedal = this.pedalAction(key);
      if (pedal) {
        if (!e.repeat) this[pedal]();
      } else if (key === "Escape") {
        if (!this.toolbar) return;
        this.toolbar = false;
      } else if (key === " " && e.shiftKey) {
        if (!e.repeat) this.prev();
      } else if (NEXT_KEYS.has(key)) {
        if (!e.repeat) this.next(); // a pedal held down must not run through the chart
      } else if (PREV_KEYS.has(key)) {
        if (!e.repeat) this.prev();
      } else if (key === "Home") {
        this.goTo(0);
      } else if (key === "End") {
        this.goTo(this.shownPages.length - this.perView);
      } else if (key === "t" || key === "T") {
        this.toolbar = !this.toolbar; // the toolbar for the keyboard (a tap in the middle shows it too)
      } else return;
      e.preventDefault();
    },
    // --- toolbar ---------------------------------------------------------------------------------
    act(e, what, arg) {
      if (e.detail) e.currentTarget.blur(); // a tapped button must not keep focus, or a pedal's Space/Enter would press it
      if (what === "close") {
        this.flushReport();
        // offline the server can't answer (and a queued "close" would send the reader away on reconnect):
        // the offline stand's list of sets instead
        if (!this.online && !this.standalone) location.assign("/offline#list");
        else this.$emit("close");
      }
      else if (what === "song") this.songStep(arg);
      else if (what === "toolbar") this.toolbar = !this.toolbar;
      else if (what === "prev") this.prev();
      else if (what === "next") this.next();
      else if (what === "night") {
        this.isNight = !this.isNight;
        this.$emit("night_change", { night: this.isNight });
      } else if (what === "fit") {
        this.fitWidth = !this.fitWidth;
        store("fit-width", this.fitWidth);
        this.resetZoom();
      } else if (what === "crop") {
        const next = CROP_MODES[(CROP_MODES.indexOf(this.cropMode) + 1) % CROP_MODES.length];
        this.chooseCrop(next, next === "manual" ? this.startMargins() : []);
        this.resetZoom();
      } else if (what === "single") {
        this.forceSingle = !this.forceSingle;
        store("single", this.forceSingle);
      } else this.actMore(what);
    },
    actMore(what) {
      // the toolbar's half-page turns, pedal keys and recording player
      if (what === "half") {
        this.halfTurns = !this.halfTurns;
        store("half-turns", this.halfTurns);
        if (!this.halfTurns && this.half) this.setHalf(false);
      } else if (what === "pedal") {
        this.pedalOpen = !this.pedalOpen;
        this.learning = null;
        this.pedalMessage = "";
      } else if (what === "learn") {
        this.pedalMessage = "";
        this.learning = this.learning ? null : "next";
      } else if (what === "pedal-reset") {
        this.learning = null;
        this.pedal = null;
        savePedal(null);
        this.pedalMessage = "Back to the default keys";
      } else if (what === "recording") {
        this.playerOpen = !this.playerOpen;
        if (!this.playerOpen) this.$refs.audio?.pause();
      } else if (what === "play") {
        const audio = this.$refs.audio;
        if (!audio) return;
        if (audio.paused) audio.play().catch(() => (this.playing = false));
        else audio.pause();
      } else if (what === "speed") {
        this.speed = SPEEDS[(SPEEDS.indexOf(this.speed) + 1) % SPEEDS.length];
        if (this.$refs.audio) this.$refs.audio.playbackRate = this.speed;
      }
    },
    // --- half-page turns: the next page's top half over this page's bottom half ------------------------
    setHalf(on) {
      this.half = on && this.halfOn && this.page < this.shownPages.length - 1;
      this.resetZoom();
      this.$refs.viewport.scrollTop = 0;
      this.renderHalf();
      this.layoutHalf();
      this.flashIndicator();
      return true;
    },
    renderHalf() {
      // The next page sits in its own slot (so the pencil draws its marks aligned on it), over this page's slot,
      // cut at this page's middle; this page's marks show only below the cut (stand.css). Two-up has no halves.
      const slot = this.$refs.slot0;
      let el = this.halfEl;
      if (!this.half || !this.halfOn || !slot || this.page + 1 >= this.shownPages.length) {
        this.half = false;
        if (el) {
          el.replaceChildren(); // its image goes back to the cache, the pencil's canvas with it
          el.remove();
        }
        return;
      }
      if (!el) {
        el = this.halfEl = document.createElement("div");
        el.className = "sl-half";
        el.dataset.testid = "stand-slot";
      }
      const i = this.page + 1;
      const { img } = this.image(i);
      img.alt = `${this.shownTitle}, top half of page ${i + 1} of ${this.shownPages.length}`;
      if (el.firstChild !== img) el.replaceChildren(img);
      if (el.parentNode !== slot) slot.appendChild(el);
    },
    layoutHalf() {
      const el = this.halfEl;
      if (!el || !el.parentNode) return;
      const { w, h } = this.box(this.page + 1);
      const cut = Math.min(Math.round(this.box(this.page).h / 2), h);
      Object.assign(el.style, { width: w + "px", height: h + "px", clipPath: `inset(0 0 ${h - cut}px 0)` });
      el.style.setProperty("--sl-cut", cut + "px");
      this.placeCrop(el, this.page + 1, w, h); // the next page's region, as its own slot would show it
      this.$refs.slot0.style.setProperty("--sl-cut", cut + "px");
    },
    // --- pedal keys: learnt per device -------------------------------------------------------------------
    pedalAction(key) {
      if (!this.pedal) return null;
      return key === this.pedal.next ? "next" : key === this.pedal.prev ? "prev" : null;
    },
    learnKey(e) {
      if (NOT_PEDAL.has(e.key)) return; // Tab still moves the focus; a modifier alone is no pedal
      e.preventDefault();
      if (e.repeat) return;
      const key = e.key;
      if (key === "Escape") {
        this.learning = null;
        this.pedalMessage = "Cancelled: the pedal keys are unchanged";
      } else if (this.learning === "next") {
        this.learnt = { next: key };
        this.pedalMessage = "";
        this.learning = "prev";
      } else if (key === this.learnt.next) {
        this.pedalMessage = `${keyName(key)} is the forward key: press the back key`;
      } else {
        this.pedal = { next: this.learnt.next, prev: key };
        savePedal(this.pedal);
        this.learning = null;
        this.pedalMessage = `Saved. Forward: ${keyName(this.pedal.next)} · Back: ${keyName(key)}`;
      }
    },
    // --- the recording player ----------------------------------------------------------------------------
    prefixedUrl(url) {
      return prefixed(url);
    },
    timeText(seconds) {
      return minutes(seconds);
    },
    onAudioMeta() {
      const audio = this.$refs.audio;
      this.duration = Number.isFinite(audio.duration) ? audio.duration : 0;
      audio.playbackRate = this.speed;
    },
    seek(value) {
      const audio = this.$refs.audio;
      if (audio) audio.currentTime = Number(value);
      this.position = Number(value);
    },
    flashIndicator() {
      this.flash = true;
      clearTimeout(this.flashTimer);
      this.flashTimer = setTimeout(() => (this.flash = false), 1500);
    },
    // --- screen wake lock ------------------------------------------------------------------------
    async acquireWakeLock() {
      const state = (s) => !this.gone && (this.$el.dataset.wakeLock = s);
      if (!navigator.wakeLock || !window.isSecureContext) return state("unsupported");
      if (document.visibilityState !== "visible") return;
      try {
        const lock = await navigator.wakeLock.request("screen");
        if (this.gone) return lock.release();
        this.wakeLock = lock;
        state("active");
        lock.addEventListener("release", () => state("released"));
      } catch {
        state("denied"); // e.g. battery saver: the screen may dim, nothing else to do
      }
    },
    onVisibility() {
      if (document.visibilityState === "visible" && (!this.wakeLock || this.wakeLock.released)) this.acquireWakeLock();
    },
  },
};
