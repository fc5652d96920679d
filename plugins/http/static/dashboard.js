/* booster live dashboard: renders the snapshots the node pushes over /live (see plugins/http/src/dashboard). */
/* global document, window, location, uPlot -- a browser script, with uPlot from /uPlot.iife.min.js */
'use strict';

(function () {
  /** Samples kept per chart (one per update, about one a second: 5 minutes). */
  const HISTORY = 300;
  const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

  const $ = (id) => document.getElementById(id);
  const state = {
    /** Timestamps (s) and, per source id, open tunnels and download throughput at each. */
    times: [],
    series: new Map(),
    labels: new Map(),
    charts: { connections: undefined, throughput: undefined, upload: undefined },
    latest: undefined,
  };
  // For people poking at the page from the console, and for the browser test: the data the charts draw.
  window.boosterDashboard = state;

  function el(tag, text, attrs) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  function bytesPerSecond(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(1) + ' MB/s';
    if (n >= 1e3) return (n / 1e3).toFixed(1) + ' kB/s';
    return n + ' B/s';
  }

  function stateText(s) {
    if (s.state === 'ejected' && s.ejectedUntil) return 'ejected until ' + new Date(s.ejectedUntil).toLocaleTimeString();
    return s.state;
  }

  function renderSources(sources) {
    const box = $('sources');
    box.replaceChildren(
      ...sources.map((s) => {
        const card = el('article', undefined, { class: 'card', 'data-source': s.id, 'data-kind': s.kind, 'data-state': s.state });
        card.append(el('h3', s.label), el('div', s.kind));
        const st = el('div', undefined);
        st.append(el('span', stateText(s), { class: 'state' }));
        if (s.reason && s.state !== 'up') st.append(el('span', ' — ' + s.reason, { class: 'reason' }));
        card.append(st);
        const dl = el('dl');
        for (const [k, v] of [
          ['open tunnels', s.openTunnels],
          ['dials under way', s.pendingDials],
          ['down', bytesPerSecond(s.throughputDown)],
          ['up', bytesPerSecond(s.throughputUp)],
          ['capacity', s.capacity ? bytesPerSecond(s.capacity) : 'unknown'],
        ])
          dl.append(el('dt', k), el('dd', v));
        card.append(dl);
        return card;
      }),
    );
  }

  function renderPeers(peers) {
    $('peers').replaceChildren(
      ...peers.map((p) => {
        const row = el('tr', undefined, { 'data-peer': p.id, 'data-state': p.state });
        row.append(el('td', p.id), el('td', p.baddr), el('td', p.state), el('td', p.tunnels), el('td', p.rttMs === null ? '–' : p.rttMs.toFixed(1) + ' ms'));
        return row;
      }),
    );
    if (peers.length === 0) {
      const row = el('tr');
      row.append(el('td', 'no peers wired', { colspan: '5' }));
      $('peers').append(row);
    }
  }

  function renderPolicy(policy) {
    $('policy-current').textContent = policy.current || '–';
    const select = $('policy-select');
    const names = policy.available.join('\n');
    if (select.dataset.names !== names) {
      select.replaceChildren(...policy.available.map((n) => el('option', n, { value: n })));
      select.dataset.names = names;
      if (policy.current) select.value = policy.current;
    }
  }

  /** Appends one sample per source; a source seen for the first time gets nulls for the past. */
  function record(snap) {
    state.times.push(snap.t / 1000);
    for (const s of snap.sources) {
      state.labels.set(s.id, s.label);
      if (!state.series.has(s.id)) state.series.set(s.id, { connections: gap(), throughput: gap(), upload: gap() });
      const h = state.series.get(s.id);
      h.connections.push(s.openTunnels);
      h.throughput.push(s.throughputDown);
      h.upload.push(s.throughputUp);
    }
    for (const h of state.series.values()) {
      for (const values of Object.values(h)) if (values.length < state.times.length) values.push(null);
    }
    if (state.times.length > HISTORY) {
      state.times.shift();
      for (const h of state.series.values()) for (const values of Object.values(h)) values.shift();
    }
  }

  /** Nulls for the samples taken before a source appeared. */
  function gap() {
    return state.times.slice(1).map(() => null);
  }

  function chartData(key) {
    return [state.times.slice(), ...[...state.series.values()].map((h) => h[key].slice())];
  }

  /** (Re)builds a chart when the set of sources changes; otherwise only its data. */
  function draw(key, container, yLabel) {
    const ids = [...state.series.keys()];
    let chart = state.charts[key];
    if (!chart || chart.ids.join('\n') !== ids.join('\n')) {
      if (chart) chart.destroy();
      const width = Math.max(320, container.clientWidth || 480);
      chart = new uPlot(
        {
          width,
          height: 220,
          scales: { x: { time: true } },
          axes: [{}, { label: yLabel, size: 60 }],
          series: [{}, ...ids.map((id, i) => ({ label: state.labels.get(id) || id, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false }))],
        },
        chartData(key),
        container,
      );
      chart.ids = ids;
      state.charts[key] = chart;
    } else {
      chart.setData(chartData(key));
    }
  }

  function apply(snap) {
    state.latest = snap;
    $('node-id').textContent = snap.nodeId;
    renderPolicy(snap.policy);
    renderSources(snap.sources);
    renderPeers(snap.peers);
    record(snap);
    draw('connections', $('chart-connections'), 'tunnels');
    draw('throughput', $('chart-throughput'), 'bytes/s');
    draw('upload', $('chart-upload'), 'bytes/s');
  }

  function connect(delayMs) {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live');
    const status = $('connection');
    ws.onopen = () => {
      status.dataset.state = 'open';
      status.textContent = 'live';
      delayMs = 500;
    };
    ws.onmessage = (e) => apply(JSON.parse(e.data));
    ws.onclose = () => {
      status.dataset.state = 'closed';
      status.textContent = 'disconnected, retrying…';
      // Back off up to 10 s so a stopped node is not hammered.
      setTimeout(() => connect(Math.min(delayMs * 2, 10000)), delayMs);
    };
  }

  $('policy-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const message = $('policy-message');
    const policy = $('policy-select').value;
    message.textContent = 'switching…';
    delete message.dataset.ok;
    try {
      const res = await fetch('/api/policy', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-booster-csrf': '1' },
        body: JSON.stringify({ policy }),
      });
      const body = await res.json();
      message.dataset.ok = String(res.ok);
      message.textContent = res.ok ? 'policy is now ' + body.policy : body.error;
    } catch (err) {
      message.dataset.ok = 'false';
      message.textContent = String(err);
    }
  });

  connect(500);
})();
