/**
 * The live dashboard: one static page that lists the alerts raised now and
 * every host with its usage and its riskiest forecast, from the REST API,
 * kept current by the WebSocket stream. No build step, no external assets
 * (it must work on a fleet with no internet). With authentication on, it
 * asks for a read token and keeps it in the tab's sessionStorage.
 */
export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CloudSense</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2430; background: #f5f7fa; }
  body { margin: 0; }
  header { background: #1d2430; color: #fff; padding: 12px 20px; display: flex; align-items: baseline; gap: 16px; }
  header h1 { font-size: 18px; margin: 0; }
  header span { font-size: 13px; opacity: .8; }
  main { padding: 20px; }
  table { border-collapse: collapse; width: 100%; background: #fff; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid #e6e9ef; font-size: 14px; }
  th { background: #eef1f6; font-weight: 600; }
  .bar { position: relative; background: #e6e9ef; height: 14px; width: 140px; border-radius: 3px; overflow: hidden; display: inline-block; vertical-align: middle; }
  .bar > i { position: absolute; inset: 0 auto 0 0; background: #3b82f6; }
  .bar.warn > i { background: #f59e0b; } .bar.crit > i { background: #dc2626; }
  .pct { display: inline-block; width: 48px; text-align: right; margin-left: 6px; font-variant-numeric: tabular-nums; }
  .online { color: #15803d; } .offline { color: #b91c1c; }
  .bar.ok > i { background: #3b82f6; }
  h2 { font-size: 15px; margin: 20px 0 8px; }
  section:first-of-type h2 { margin-top: 0; }
  .quiet { color: #6b7280; padding: 8px 0; margin: 0; }
  #auth { background: #fff7ed; border: 1px solid #fdba74; padding: 12px 16px; margin-bottom: 16px; }
  #auth p { margin: 0 0 8px; } #auth .hint { margin: 8px 0 0; font-size: 13px; color: #6b7280; }
  code { font-size: 13px; }
</style>
</head>
<body>
<header><h1>CloudSense</h1><span id="conn">connecting…</span><span id="summary"></span></header>
<main>
  <form id="auth" hidden>
    <p id="auth-why">This aggregator asks for an API token.</p>
    <label>Read token <input id="auth-token" type="password" autocomplete="off" size="60" placeholder="csa.…"></label>
    <button type="submit">Use token</button>
    <p class="hint">Make one on the aggregator: <code>cloudsense tokens create --role read</code>. It is kept in this browser tab only.</p>
  </form>
  <section>
    <h2>Alerts</h2>
    <table id="alerts">
      <thead><tr><th>Host</th><th>Resource</th><th>Risk</th><th>Exhausted in (P10–P90)</th><th>Model</th><th>Since</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="no-alerts" class="quiet">No alert is raised.</p>
  </section>
  <section>
    <h2>Hosts</h2>
    <table id="hosts">
      <thead><tr><th>Host</th><th>State</th><th>CPU</th><th>Memory</th><th>Fullest filesystem</th><th>Highest risk</th><th>Last seen</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="empty" class="quiet">No hosts have reported yet.</p>
  </section>
</main>
<script>
const TOKEN_KEY = 'cloudsense.token';
let token = sessionStorage.getItem(TOKEN_KEY) || '';
let socket = null;
let waitingForToken = false;
const hosts = new Map();
/** hostId → Map(resource → forecast), as /api/v1/predictions/latest and the stream give them. */
const forecasts = new Map();
const $ = (id) => document.getElementById(id);

function esc(s) { return String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]); }
function metric(m, name, attr) {
  return m.filter(p => p.name === name && (!attr || Object.entries(attr).every(([k, v]) => p.attributes && p.attributes[k] === v)));
}
function bar(ratio, cls) {
  if (ratio == null || !isFinite(ratio)) return '–';
  cls = cls != null ? cls : ratio >= 0.9 ? 'crit' : ratio >= 0.75 ? 'warn' : '';
  return '<span class="bar ' + cls + '"><i style="width:' + (ratio * 100).toFixed(1) + '%"></i></span><span class="pct">' + (ratio * 100).toFixed(1) + '%</span>';
}
/** A forecast's probability, coloured by its own alert state and threshold. */
function risk(f) {
  return bar(f.probability, f.alert ? 'crit' : f.probability >= f.threshold ? 'warn' : 'ok');
}
function resourceName(id) { try { return decodeURIComponent(id); } catch (e) { return id; } }
function duration(s) {
  if (s == null || !isFinite(s)) return '–';
  if (s < 90) return Math.round(s) + ' s';
  if (s < 5400) return Math.round(s / 60) + ' min';
  if (s < 129600) return (s / 3600).toFixed(1) + ' h';
  return (s / 86400).toFixed(1) + ' d';
}
function band(f) { return f.ttBand ? duration(f.ttBand.p10S) + ' – ' + duration(f.ttBand.p90S) : '–'; }
function modelName(m) { return m ? esc(m.source + (m.version ? ' ' + m.version : '')) : '–'; }

function render() {
  const all = [...forecasts.values()].flatMap(byResource => [...byResource.values()]);
  const raised = all.filter(f => f.alert).sort((a, b) => b.probability - a.probability);
  $('alerts').querySelector('tbody').innerHTML = raised.map(f =>
    '<tr data-host="' + esc(f.hostId) + '" data-resource="' + esc(f.resource) + '"><td>' + esc(f.hostId) + '</td><td>' + esc(resourceName(f.resource)) + '</td>' +
    '<td>' + risk(f) + '</td><td>' + band(f) + '</td><td>' + modelName(f.model) + '</td>' +
    '<td>' + (f.time ? new Date(f.time).toLocaleTimeString() : '–') + '</td></tr>').join('');
  $('no-alerts').style.display = raised.length ? 'none' : '';

  const rows = [...hosts.values()].sort((a, b) => a.id.localeCompare(b.id)).map(h => {
    const m = h.metrics || [];
    const cpu = metric(m, 'system.cpu.utilization')[0];
    const mem = metric(m, 'system.memory.utilization', { 'system.memory.state': 'used' })[0];
    const fs = metric(m, 'system.filesystem.utilization').sort((a, b) => b.value - a.value)[0];
    const top = [...(forecasts.get(h.id) || new Map()).values()].sort((a, b) => b.probability - a.probability)[0];
    return '<tr data-host="' + esc(h.id) + '"><td>' + esc(h.id) + '</td>' +
      '<td class="' + (h.online ? 'online' : 'offline') + '">' + (h.online ? 'online' : 'offline') + '</td>' +
      '<td>' + bar(cpu && cpu.value) + '</td><td>' + bar(mem && mem.value) + '</td>' +
      '<td>' + (fs ? bar(fs.value) + ' ' + esc(fs.attributes['system.filesystem.mountpoint']) : '–') + '</td>' +
      '<td class="risk">' + (top ? risk(top) + ' ' + esc(resourceName(top.resource)) : '–') + '</td>' +
      '<td>' + (h.lastSeen ? new Date(h.lastSeen).toLocaleTimeString() : '–') + '</td></tr>';
  });
  $('hosts').querySelector('tbody').innerHTML = rows.join('');
  $('empty').style.display = rows.length ? 'none' : '';
  $('summary').textContent =
    hosts.size + (hosts.size === 1 ? ' host, ' : ' hosts, ') + raised.length + (raised.length === 1 ? ' alert' : ' alerts');
}

/**
 * Keeps the newest forecast per host and resource. A REST answer can reach the page after a newer
 * forecast came over the stream; it must not put back an alert that has already resolved.
 */
function setForecast(f) {
  let byResource = forecasts.get(f.hostId);
  if (!byResource) forecasts.set(f.hostId, (byResource = new Map()));
  const known = byResource.get(f.resource);
  if (known && known.time && f.time && known.time > f.time) return;
  byResource.set(f.resource, f);
}

/** Takes a host from REST, keeping its telemetry when the stream already brought newer. */
function setHost(h) {
  const known = hosts.get(h.id);
  if (known && known.lastSeen && h.lastSeen && known.lastSeen > h.lastSeen) {
    hosts.set(h.id, { ...h, metrics: known.metrics, lastSeen: known.lastSeen, online: true });
  } else hosts.set(h.id, h);
}

/** Asks for a token: none was given, or the one given is refused. */
function askForToken(status) {
  waitingForToken = true;
  $('auth-why').textContent = status === 403
    ? 'This token may not read the fleet: use a token with the read role.'
    : token ? 'The aggregator refused this token: it may have been revoked. Paste another.' : 'This aggregator asks for an API token.';
  $('auth').hidden = false;
  $('conn').textContent = 'token needed';
  if (socket) socket.close();
}

async function api(path) {
  const res = await fetch(path, { headers: token ? { authorization: 'Bearer ' + token } : {} });
  if (res.status === 401 || res.status === 403) { askForToken(res.status); throw new Error(path + ': ' + res.status); }
  if (!res.ok) throw new Error(path + ': ' + res.status);
  return res.json();
}

async function refresh() {
  if (waitingForToken) return;
  try {
    const [h, p] = await Promise.all([api('/api/v1/hosts'), api('/api/v1/predictions/latest')]);
    for (const host of h.hosts) setHost(host);
    for (const f of p.forecasts) setForecast(f);
    render();
  } catch (e) { /* the status line and the token form tell the operator */ }
}

function connect() {
  if (waitingForToken) return;
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/stream' +
    (token ? '?access_token=' + encodeURIComponent(token) : '');
  const ws = (socket = new WebSocket(url));
  ws.onopen = () => { $('conn').textContent = 'live'; refresh(); };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    if (waitingForToken) return;
    $('conn').textContent = 'disconnected, retrying…';
    // A refused upgrade looks like any other close: a REST call says whether a token is the reason.
    refresh();
    setTimeout(connect, 2000);
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'telemetry') {
      const h = hosts.get(msg.hostId) || { id: msg.hostId };
      h.metrics = msg.data.metrics; h.lastSeen = new Date(msg.data.timestamp).toISOString(); h.online = true;
      hosts.set(h.id, h);
    } else if (msg.type === 'predictions') {
      const time = new Date(msg.data.timestamp).toISOString();
      for (const p of msg.data.predictions) setForecast({ ...p, hostId: msg.hostId, time });
    } else return;
    render();
  };
}

$('auth').addEventListener('submit', (ev) => {
  ev.preventDefault();
  token = $('auth-token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('auth').hidden = true;
  waitingForToken = false;
  $('conn').textContent = 'connecting…';
  refresh();
  connect();
});
refresh();
setInterval(refresh, 15000);
connect();
</script>
</body>
</html>
`;
