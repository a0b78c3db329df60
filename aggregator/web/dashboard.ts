/**
 * The live dashboard: one static page that lists hosts from the REST API and
 * updates them from the WebSocket stream. No build step, no external assets
 * (it must work on a fleet with no internet).
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
  #empty { color: #6b7280; padding: 20px 0; }
</style>
</head>
<body>
<header><h1>CloudSense</h1><span id="conn">connecting…</span></header>
<main>
  <table id="hosts">
    <thead><tr><th>Host</th><th>State</th><th>CPU</th><th>Memory</th><th>Fullest filesystem</th><th>Last seen</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="empty">No hosts have reported yet.</p>
</main>
<script>
const hosts = new Map();
const tbody = document.querySelector('#hosts tbody');
function metric(m, name, attr) {
  return m.filter(p => p.name === name && (!attr || Object.entries(attr).every(([k, v]) => p.attributes && p.attributes[k] === v)));
}
function bar(ratio) {
  if (ratio == null || !isFinite(ratio)) return '–';
  const cls = ratio >= 0.9 ? 'crit' : ratio >= 0.75 ? 'warn' : '';
  return '<span class="bar ' + cls + '"><i style="width:' + (ratio * 100).toFixed(1) + '%"></i></span><span class="pct">' + (ratio * 100).toFixed(1) + '%</span>';
}
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]); }
function render() {
  const rows = [...hosts.values()].sort((a, b) => a.id.localeCompare(b.id)).map(h => {
    const m = h.metrics || [];
    const cpu = metric(m, 'system.cpu.utilization')[0];
    const mem = metric(m, 'system.memory.utilization', { 'system.memory.state': 'used' })[0];
    const fs = metric(m, 'system.filesystem.utilization').sort((a, b) => b.value - a.value)[0];
    return '<tr data-host="' + esc(h.id) + '"><td>' + esc(h.id) + '</td>' +
      '<td class="' + (h.online ? 'online' : 'offline') + '">' + (h.online ? 'online' : 'offline') + '</td>' +
      '<td>' + bar(cpu && cpu.value) + '</td><td>' + bar(mem && mem.value) + '</td>' +
      '<td>' + (fs ? bar(fs.value) + ' ' + esc(fs.attributes['system.filesystem.mountpoint']) : '–') + '</td>' +
      '<td>' + (h.lastSeen ? new Date(h.lastSeen).toLocaleTimeString() : '–') + '</td></tr>';
  });
  tbody.innerHTML = rows.join('');
  document.getElementById('empty').style.display = rows.length ? 'none' : '';
}
async function refresh() {
  try {
    const res = await fetch('/api/v1/hosts');
    const body = await res.json();
    for (const h of body.hosts) hosts.set(h.id, h);
    render();
  } catch (e) { /* the stream status line tells the operator */ }
}
function connect() {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/stream');
  const conn = document.getElementById('conn');
  ws.onopen = () => { conn.textContent = 'live'; refresh(); };
  ws.onclose = () => { conn.textContent = 'disconnected, retrying…'; setTimeout(connect, 2000); };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type !== 'telemetry') return;
    const h = hosts.get(msg.hostId) || { id: msg.hostId };
    h.metrics = msg.data.metrics; h.lastSeen = new Date(msg.data.timestamp).toISOString(); h.online = true;
    hosts.set(h.id, h);
    render();
  };
}
refresh();
setInterval(refresh, 15000);
connect();
</script>
</body>
</html>
`;
