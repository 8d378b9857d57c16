// voxpipe's browser page: microphone → 16 kHz PCM over /ws; bot audio played as it arrives
// and stopped at once on "clear" (barge-in); marks answered when playback reaches them (so the
// agent knows what was heard); a live view of Flux's turn events.
const RATE = 16000;
const $ = (id) => document.getElementById(id);
// What the page did, for people and for the browser test.
const state = (window.voxpipe = {
  connected: false,
  playedMs: 0,
  clears: 0,
  stoppedSources: 0,
  finals: [],
  replies: [],
});

let ctx,
  ws,
  mic,
  node,
  playTime = 0;
let playing = []; // scheduled AudioBufferSourceNodes
let marks = []; // pending mark timers

function band(confidence) {
  if (confidence >= 0.9) return "w-green";
  if (confidence >= 0.8) return "w-yellow";
  if (confidence >= 0.7) return "w-orange";
  return "w-red";
}

function addTurn(className, build) {
  const div = document.createElement("div");
  div.className = `turn ${className}`;
  build(div);
  $("turns").append(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

function onEvent(e) {
  const live = $("live");
  switch (e.event) {
    case "Update":
      live.hidden = false;
      live.className = "turn interim";
      live.textContent = `… ${e.transcript}`;
      break;
    case "EagerEndOfTurn":
      live.hidden = false;
      live.className = "turn eager";
      live.textContent = `~ ${e.transcript}`;
      break;
    case "TurnResumed":
      live.className = "turn resumed";
      live.textContent = `… resumed`;
      break;
    case "EndOfTurn": {
      live.hidden = true;
      state.finals.push(e.transcript);
      addTurn("final", (div) => {
        div.dataset.event = "EndOfTurn";
        div.append("✓ ");
        for (const w of e.words) {
          const span = document.createElement("span");
          span.className = band(w.confidence);
          span.title = w.confidence.toFixed(2);
          span.textContent = `${w.word} `;
          div.append(span);
        }
      });
      break;
    }
    case "BotReply":
      state.replies.push(e.text);
      addTurn(`bot${e.interrupted ? " interrupted" : ""}`, (div) => {
        div.dataset.event = "BotReply";
        div.textContent = `bot: ${e.text}`;
      });
      break;
    case "Error":
      $("status").textContent = `error: ${e.message}`;
      break;
  }
}

function play(bytes) {
  const pcm = new Int16Array(bytes);
  const buffer = ctx.createBuffer(1, pcm.length, RATE);
  const data = buffer.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 0x8000;
  const source = ctx.createBufferSource();
  source.buffer = buffer;
  source.connect(ctx.destination);
  // Chunks are queued back to back; after a gap, playback restarts from now.
  playTime = Math.max(playTime, ctx.currentTime + 0.02);
  source.start(playTime);
  playTime += buffer.duration;
  state.playedMs += buffer.duration * 1000;
  playing.push(source);
  source.onended = () => (playing = playing.filter((s) => s !== source));
}

function clearPlayback() {
  state.stoppedSources += playing.length;
  for (const s of playing) s.stop();
  playing = [];
  playTime = 0;
  for (const t of marks) clearTimeout(t);
  marks = [];
  state.clears++;
}

function mark(name) {
  // Answer when what was queued before the mark has played: that sentence starts now.
  const delay = Math.max(0, (playTime - ctx.currentTime) * 1000);
  const timer = setTimeout(() => {
    marks = marks.filter((t) => t !== timer);
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "mark", name }));
  }, delay);
  marks.push(timer);
}

async function start() {
  $("start").disabled = true;
  $("status").textContent = "starting…";
  ctx = new AudioContext({ sampleRate: RATE });
  await ctx.audioWorklet.addModule("/mic-worklet.js");
  mic = await navigator.mediaDevices.getUserMedia({
    audio: {
      channelCount: 1,
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
    },
  });
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: "start", sampleRate: RATE }));
    node = new AudioWorkletNode(ctx, "mic-capture");
    node.port.onmessage = (m) => ws.readyState === WebSocket.OPEN && ws.send(m.data);
    ctx.createMediaStreamSource(mic).connect(node);
    state.connected = true;
    $("status").textContent = "listening — speak";
    $("stop").disabled = false;
  };
  ws.onmessage = (m) => {
    if (typeof m.data !== "string") return play(m.data);
    const msg = JSON.parse(m.data);
    if (msg.type === "clear") clearPlayback();
    else if (msg.type === "mark") mark(msg.name);
    else if (msg.type === "event") onEvent(msg);
  };
  ws.onclose = (e) => {
    state.connected = false;
    $("status").textContent = `disconnected${e.reason ? `: ${e.reason}` : ""}`;
    stop();
  };
}

function stop() {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: "stop" }));
    ws.close(1000);
  }
  mic?.getTracks().forEach((t) => t.stop());
  node?.disconnect();
  $("start").disabled = false;
  $("stop").disabled = true;
}

$("start").onclick = () =>
  start().catch((err) => ($("status").textContent = `error: ${err.message}`));
$("stop").onclick = stop;
if (new URLSearchParams(location.search).has("autostart")) $("start").click();
