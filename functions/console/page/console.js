// The ops console page. Everything it shows comes from the authorised /api routes; everything it
// writes into the page goes through textContent or SVG attributes (no HTML from data).

(() => {
  const TOKEN_KEY = 'hot-wallet-breaker-console-token';
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);

  // The local server prints a URL with #token=…; keep it for this tab only and drop it from the address bar.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    sessionStorage.setItem(TOKEN_KEY, fragment.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = sessionStorage.getItem(TOKEN_KEY);

  let status = null;
  /** Rule id → its chart series (unit and scale), to show audit figures in units rather than base units. */
  let rules = new Map();
  let historyLimit = 50;
  let busy = false;

  async function api(path, body) {
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const init = { headers, credentials: 'same-origin' };
    if (body !== undefined) {
      init.method = 'POST';
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(`api/${path}`, init);
    let data;
    try {
      data = await res.json();
    } catch {
      data = { ok: false, error: `${res.status} ${res.statusText}` };
    }
    if (res.status === 401 || res.status === 403) {
      banner(`${data.error ?? 'not authorised'} (HTTP ${res.status})`);
    }
    if (!res.ok || data.ok === false) {
      const e = new Error(data.error ?? `HTTP ${res.status}`);
      e.status = res.status;
      throw e;
    }
    return data;
  }

  function banner(text) {
    const b = $('banner');
    b.textContent = text;
    b.hidden = !text;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, String(v));
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  const pad = (n) => String(n).padStart(2, '0');
  function time(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  const clock = (s) => new Date(s * 1000).toLocaleTimeString(undefined, { hour12: false });
  const short = (a) => (a && a.length > 16 ? `${a.slice(0, 8)}…${a.slice(-6)}` : (a ?? ''));
  const ago = (s) => (s === null || s === undefined ? '–' : s < 120 ? `${s} s` : `${Math.round(s / 60)} min`);
  function duration(s) {
    for (const [unit, size] of [
      ['d', 86400],
      ['h', 3600],
      ['m', 60],
    ]) {
      if (s >= size && s % size === 0) return `${s / size}${unit}`;
    }
    return `${s}s`;
  }
  function table(target, head, rows) {
    target.replaceChildren(
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          head.map((h) => el('th', { text: h })),
        ),
      ),
      el('tbody', {}, rows),
    );
  }

  // ---- status ----

  async function refreshStatus() {
    status = await api('status');
    banner('');
    $('name').textContent = status.name;
    $('operator').textContent = status.operator;
    const badge = $('state-badge');
    // An uninitialised (absent) state is halted, never armed.
    const word = status.initialised === false ? 'NOT INITIALISED' : status.armed ? 'ARMED' : 'TRIPPED';
    badge.textContent = word;
    badge.className = `badge ${status.armed ? 'armed' : 'tripped'}`;
    document.title = `${word} · ${status.name} · hot-wallet-breaker`;
    $('updated').textContent = `updated ${new Date(status.nowMs).toLocaleTimeString(undefined, { hour12: false })}`;
    renderScopes();
    renderTrips();
    renderActions();
    renderChains();
  }

  function renderScopes() {
    table(
      $('scopes'),
      ['scope', 'state', 'halted by', 'what it covers'],
      status.scopes.map((s) =>
        el(
          'tr',
          { 'data-scope': s.scope },
          el('td', {}, el('code', { text: s.scope })),
          el('td', {}, el('span', { class: `pill ${s.status}`, text: s.status.toUpperCase() })),
          el('td', {}, s.haltedBy ? el('code', { text: s.haltedBy }) : '–'),
          el('td', {
            class: 'muted',
            text: s.scope === 'global' ? 'withdrawals on every chain' : `withdrawals on ${s.scope.slice(6)}`,
          }),
        ),
      ),
    );
    const p = $('pending-effects');
    p.hidden = status.pendingEffects === 0;
    p.textContent = `${status.pendingEffects} page(s)/audit record(s) queued, not yet delivered (retried by the next flush).`;
  }

  function renderTrips() {
    $('evidence').hidden = status.trips.length === 0;
    $('trips').replaceChildren(
      ...status.trips.map((t) => {
        const card = el(
          'div',
          { class: 'card trip-card', 'data-trip-id': t.tripId, 'data-rule': t.ruleId },
          el('div', { class: 'headline' }, `${t.scope} halted — rule `, el('code', { text: t.ruleId })),
          el('div', { class: 'summary', text: t.summary }),
        );
        if (t.manual) {
          card.append(
            el('p', {}, 'Tripped by hand by ', el('strong', { text: t.manual.actor }), ': ', t.manual.reason),
          );
        } else {
          card.append(
            el(
              'div',
              { class: 'figures' },
              el('div', {}, el('span', { text: 'measured' }), el('strong', { class: 'value', text: t.value })),
              el('div', {}, el('span', { text: 'limit' }), el('strong', { class: 'limit', text: t.limit })),
              el(
                'div',
                {},
                el('span', { text: 'window' }),
                el('strong', { text: duration(t.windowSeconds) || 'one tx' }),
              ),
              el('div', {}, el('span', { text: 'window ended' }), el('strong', { text: clock(t.windowEnd) })),
              el('div', {}, el('span', { text: 'tripped at' }), el('strong', { text: time(t.atMs) })),
            ),
            el('div', { class: 'muted', text: t.ruleDescription }),
          );
        }
        if (t.escalatedAtMs) {
          card.append(
            el(
              'p',
              { class: 'action escalation' },
              `Outflows continued after the halt (${time(t.escalatedAtMs)}): keys likely compromised.`,
            ),
          );
        }
        if (t.transactionCount > 0) {
          const rows = t.transactions.map((x) =>
            el(
              'tr',
              { class: 'tx', 'data-tx': x.txHash },
              el('td', { text: x.chain }),
              el('td', { class: 'num', text: x.block }),
              el('td', { text: x.asset }),
              el('td', { class: 'num', text: x.amount }),
              el('td', { class: 'num', text: x.usd }),
              el('td', { class: 'mono', title: x.to, text: short(x.to) }),
              el(
                'td',
                { class: 'mono' },
                x.link
                  ? el('a', { href: x.link, target: '_blank', rel: 'noopener noreferrer', text: short(x.txHash) })
                  : short(x.txHash),
              ),
            ),
          );
          const tbl = el('table');
          table(tbl, ['chain', 'block', 'asset', 'amount', 'USD', 'to', 'transaction'], rows);
          card.append(
            el('h3', { text: `Transactions in the breaking window (${t.transactionCount}, largest first)` }),
            tbl,
          );
        }
        return card;
      }),
    );
  }

  function renderActions() {
    const two = status.operations.twoPersonReset;
    const tripped = status.scopes.filter(
      (s) => s.status === 'tripped' && status.trips.some((t) => t.scope === s.scope),
    );
    const resetScope = $('reset-scope');
    const chosen = resetScope.value;
    resetScope.replaceChildren(
      el('option', { value: '', text: tripped.length ? 'every tripped scope' : 'nothing is tripped' }),
      ...tripped.map((s) => el('option', { value: s.scope, text: s.scope })),
    );
    if ([...resetScope.options].some((o) => o.value === chosen)) resetScope.value = chosen;
    $('reset-title').textContent = two ? 'Reset — request (two-person rule)' : 'Reset (re-arm)';
    $('reset-help').textContent = two
      ? `Two-person rule: your request re-arms nothing until a different operator approves it within ${duration(status.operations.approvalWindowSeconds)}.`
      : 'Re-arms after review. Limits are unchanged; outflows processed so far stop counting.';
    $('reset-submit').textContent = two ? 'Request reset' : 'Reset';
    $('reset-submit').disabled = tripped.length === 0 || busy;

    const tripScope = $('trip-scope');
    const tripChosen = tripScope.value;
    const armed = status.scopes.filter((s) => s.status === 'armed');
    tripScope.replaceChildren(
      ...(armed.length
        ? armed.map((s) => el('option', { value: s.scope, text: s.scope }))
        : [el('option', { value: '', text: 'every scope is halted' })]),
    );
    if ([...tripScope.options].some((o) => o.value === tripChosen)) tripScope.value = tripChosen;
    $('trip-submit').disabled = armed.length === 0 || busy;

    const box = $('pending-reset');
    const p = status.pendingReset;
    box.hidden = !p;
    if (!p) return;
    const mine = p.requestedBy === status.operator;
    const left = Math.max(0, Math.round((p.expiresAtMs - status.nowMs) / 1000));
    box.replaceChildren(
      el('h3', { text: `Reset requested — ${p.expired ? 'EXPIRED' : 'waiting for a second operator'}` }),
      el(
        'p',
        {},
        el('strong', { text: p.requestedBy }),
        ` asks to re-arm ${p.scope ?? 'every tripped scope'}: `,
        p.reason,
      ),
      el('p', {
        class: 'muted',
        text: `Request ${p.requestId}, ${time(p.requestedAtMs)}; ${p.expired ? `expired ${time(p.expiresAtMs)}` : `expires in ${ago(left)}`}.`,
      }),
      el('button', {
        id: 'approve-reset',
        type: 'button',
        'data-request-id': p.requestId,
        disabled: mine || p.expired || busy,
        text: 'Approve reset',
      }),
    );
    if (mine)
      box.append(el('span', { class: 'muted', text: '  You requested it: a different operator must approve.' }));
  }

  function renderChains() {
    table(
      $('chain-table'),
      [
        'chain',
        'state',
        'last block processed',
        'head',
        'lag (blocks)',
        'last block time',
        'cursor written',
        'RPC',
        'reviewed through',
      ],
      status.chains.map((c) => {
        const stale = c.cursorAgeSeconds !== null && c.cursorAgeSeconds > 180;
        return el(
          'tr',
          { 'data-chain': c.chain },
          el('td', {}, el('code', { text: c.chain }), el('span', { class: 'muted', text: ` ${c.kind}` })),
          el(
            'td',
            {},
            el('span', { class: `pill ${c.halted ? 'halted' : 'ok'}`, text: c.halted ? 'HALTED' : 'signing' }),
          ),
          el('td', { class: 'num', text: c.lastBlock ?? 'not polled yet' }),
          el('td', { class: 'num', text: c.head ?? '–' }),
          el('td', {
            class: 'num',
            title: `${c.confirmations} confirmation(s) by design`,
            text: c.lagBlocks ?? '–',
          }),
          el('td', { text: c.lastBlockTime ? clock(c.lastBlockTime) : '–' }),
          el('td', {}, el('span', { class: stale ? 'pill stale' : '', text: `${ago(c.cursorAgeSeconds)} ago` })),
          el(
            'td',
            {},
            el('span', {
              class: `pill ${c.rpc.status}`,
              title: c.rpc.error ?? '',
              text:
                c.rpc.status === 'ok'
                  ? `ok ${c.rpc.latencyMs} ms`
                  : c.rpc.status === 'error'
                    ? `error: ${c.rpc.error}`
                    : 'not probed',
            }),
          ),
          el('td', { class: 'num', text: c.reviewedThrough ?? '–' }),
        );
      }),
    );
  }

  // ---- history ----

  function detailsText(r) {
    const d = r.details ?? {};
    const parts = [];
    if (d.tripId) parts.push(`trip ${d.tripId}`);
    if (d.ruleId) parts.push(`rule ${d.ruleId}`);
    if (d.value !== undefined && d.limit !== undefined) {
      const rule = rules.get(d.ruleId);
      const fmt = (v) => (rule ? show(scaled(String(v), rule.scale), rule.unit, true) : v);
      parts.push(`${fmt(d.value)} against limit ${fmt(d.limit)}`);
    }
    if (d.clearedTrips) parts.push(`cleared ${d.clearedTrips.map((t) => t.tripId).join(', ') || 'nothing'}`);
    if (d.twoPerson) parts.push(`requested by ${d.twoPerson.requestedBy}, approved by ${d.twoPerson.approvedBy}`);
    if (d.requestId && r.action === 'reset-requested')
      parts.push(`request ${d.requestId}, expires ${time(d.expiresAtMs)}`);
    if (parts.length === 0) {
      const json = JSON.stringify(d);
      if (json !== '{}') parts.push(json.length > 160 ? `${json.slice(0, 160)}…` : json);
    }
    return parts.join('; ');
  }

  async function refreshHistory() {
    const { records } = await api(`history?limit=${historyLimit}`);
    table(
      $('history-table'),
      ['time', 'action', 'by', 'scope', 'reason', 'details'],
      records.length === 0
        ? [el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No audit records yet.' }))]
        : records.map((r) =>
            el(
              'tr',
              { 'data-action': r.action, 'data-id': r.id },
              el('td', { text: time(r.atMs) }),
              el('td', {}, el('span', { class: `action ${r.action}`, text: r.action })),
              el('td', { class: 'mono actor', text: r.actor }),
              el('td', {}, r.scope ? el('code', { text: r.scope }) : ''),
              el('td', { class: 'reason', text: r.reason ?? '' }),
              el('td', { class: 'muted', text: detailsText(r) }),
            ),
          ),
    );
    $('more-history').hidden = records.length < historyLimit;
  }

  // ---- charts ----

  const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
  const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
  function scaled(text, scale) {
    const v = BigInt(text);
    const d = 10n ** BigInt(scale);
    return Number(v / d) + Number(v % d) / Number(d);
  }
  function show(v, unit, full) {
    const n = full ? number.format(v) : compact.format(v);
    // ppm series are scaled by 10^4 on the server, so they arrive as percent.
    return unit === 'usd' ? `$${n}` : unit === 'ppm' ? `${n}%` : n;
  }

  function chart(s, trips) {
    const W = 360;
    const H = 150;
    const L = 46;
    const R = 8;
    const T = 10;
    const B = 20;
    const pts = s.points.map(([t, c, a, lim]) => ({
      t,
      c: scaled(c, s.scale),
      a: scaled(a, s.scale),
      lim: lim === undefined ? undefined : scaled(lim, s.scale),
    }));
    const limit = scaled(s.limit, s.scale);
    const warn = scaled(s.warnAt, s.scale);
    const t0 = pts[0]?.t ?? 0;
    const t1 = pts.at(-1)?.t ?? 1;
    const top = Math.max(limit * 1.15, ...pts.map((p) => Math.max(p.c, p.a, p.lim ?? 0) * 1.05), 1e-9);
    const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - v / top) * (H - T - B);
    const line = (key) => pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join('');
    const g = svg('svg', {
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-label': `${s.rule} over time against its limit`,
    });
    g.append(svg('rect', { x: L, y: T, width: W - L - R, height: H - T - B, fill: '#fbfcfd', stroke: '#e3e7ee' }));
    for (const trip of trips) {
      if (trip.windowEnd < t0 || trip.windowEnd > t1) continue;
      const start = Math.max(t0, trip.windowEnd - s.windowSeconds);
      g.append(
        svg('rect', {
          x: x(start),
          y: T,
          width: Math.max(1, x(trip.windowEnd) - x(start)),
          height: H - T - B,
          fill: '#fdecea',
          class: 'breach-window',
        }),
      );
    }
    if (pts.some((p) => p.a !== p.c)) {
      g.append(
        svg('path', { d: line('a'), fill: 'none', stroke: '#98a2b3', 'stroke-width': 1.2, class: 'series-all' }),
      );
    }
    if (pts.length > 0) {
      const area = `${line('c')}L${x(t1).toFixed(1)},${y(0)}L${x(t0).toFixed(1)},${y(0)}Z`;
      g.append(svg('path', { d: area, fill: '#1d5fd1', 'fill-opacity': 0.12, stroke: 'none' }));
      g.append(
        svg('path', { d: line('c'), fill: 'none', stroke: '#1d5fd1', 'stroke-width': 1.8, class: 'series-counted' }),
      );
    }
    if (pts.some((p) => p.lim !== undefined)) {
      const moving = pts.filter((p) => p.lim !== undefined);
      const d = moving.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.lim).toFixed(1)}`).join('');
      g.append(svg('path', { d, fill: 'none', stroke: '#b42318', 'stroke-dasharray': '5 3', class: 'limit' }));
    } else {
      g.append(
        svg('line', {
          x1: L,
          x2: W - R,
          y1: y(limit),
          y2: y(limit),
          stroke: '#b42318',
          'stroke-dasharray': '5 3',
          class: 'limit',
        }),
      );
      g.append(
        svg('line', { x1: L, x2: W - R, y1: y(warn), y2: y(warn), stroke: '#f79009', 'stroke-dasharray': '2 3' }),
      );
    }
    g.append(svg('text', { x: L - 4, y: y(limit) + 3, 'text-anchor': 'end' }, show(limit, s.unit)));
    g.append(svg('text', { x: L - 4, y: y(0) + 3, 'text-anchor': 'end' }, '0'));
    g.append(svg('text', { x: L, y: H - 6 }, clock(t0)));
    g.append(svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }, clock(t1)));
    return g;
  }

  async function refreshTotals() {
    const span = $('span').value;
    const totals = await api(`totals${span ? `?span=${span}` : ''}`);
    rules = new Map(totals.series.map((s) => [s.rule, s]));
    const trips = status?.trips ?? [];
    const showAll = $('all-rules').checked;
    const tripped = new Set(trips.map((t) => t.ruleId));
    const series = totals.series.filter(
      (s) => showAll || tripped.has(s.rule) || s.points.some(([, c, a]) => c !== '0' || a !== '0'),
    );
    const cards = series.map((s) => {
      const last = s.points.at(-1);
      const now = last ? scaled(last[1], s.scale) : 0;
      const over = s.peakPercent > 100 || tripped.has(s.rule);
      return el(
        'div',
        { class: `card chart${over ? ' over' : ''}`, 'data-rule': s.rule },
        el('h3', { text: `${s.rule}${s.shadow ? ' (shadow)' : ''}` }),
        el('div', { class: 'sub', text: s.description }),
        el(
          'div',
          { class: 'now' },
          'now ',
          el('strong', { text: show(now, s.unit, true) }),
          ` · ${s.limitText} · peak ${s.peakPercent}% of limit`,
        ),
        chart(
          s,
          trips.filter((t) => t.ruleId === s.rule),
        ),
      );
    });
    $('charts').replaceChildren(
      ...(cards.length
        ? cards
        : [
            el('p', {
              class: 'muted',
              text: `No outflows counted between ${clock(totals.from)} and ${clock(totals.to)}.`,
            }),
          ]),
    );
  }

  // ---- actions ----

  function message(text, ok) {
    const m = $('message');
    m.textContent = text;
    m.className = ok ? 'ok' : 'error';
    m.hidden = false;
  }

  async function act(what, path, body, confirmText) {
    if (busy) return;
    if (confirmText && !window.confirm(confirmText)) return;
    busy = true;
    renderActions();
    try {
      const r = await api(path, body);
      message(`${what} — recorded as ${r.actor}.${r.warning ? ` Warning: ${r.warning}` : ''}`, true);
      return r;
    } catch (e) {
      message(`${what} rejected: ${e.message}`, false);
    } finally {
      busy = false;
      await refreshAll();
    }
  }

  $('reset-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const reason = $('reset-reason').value;
    const scope = $('reset-scope').value || undefined;
    const two = status?.operations.twoPersonReset;
    const body = two ? { reason, scope } : { reason, scope, reviewedTripIds: status.trips.map((t) => t.tripId) };
    const r = await act(
      two ? 'Reset requested' : 'Breaker reset',
      two ? 'reset/request' : 'reset',
      body,
      two ? undefined : `Re-arm ${scope ?? 'every tripped scope'}? Signing resumes.`,
    );
    if (r) $('reset-reason').value = '';
  });

  $('trip-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const scope = $('trip-scope').value;
    const r = await act(
      'Breaker tripped by hand',
      'trip',
      { reason: $('trip-reason').value, scope },
      `Halt signing for ${scope}?`,
    );
    if (r) $('trip-reason').value = '';
  });

  $('pending-reset').addEventListener('click', async (ev) => {
    const button = ev.target.closest('#approve-reset');
    if (!button) return;
    await act(
      'Reset approved',
      'reset/approve',
      { requestId: button.dataset.requestId },
      'Approve this reset? Signing resumes.',
    );
  });

  $('more-history').addEventListener('click', () => {
    historyLimit = Math.min(500, historyLimit + 100);
    refreshHistory().catch((e) => banner(e.message));
  });
  $('span').addEventListener('change', () => refreshTotals().catch((e) => banner(e.message)));
  $('all-rules').addEventListener('change', () => refreshTotals().catch((e) => banner(e.message)));

  async function refreshAll() {
    try {
      await refreshStatus();
      await refreshTotals();
      await refreshHistory();
      document.body.dataset.loaded = String(status.version);
    } catch (e) {
      if (e.status !== 401 && e.status !== 403) banner(`Could not load: ${e.message}`);
    }
  }

  refreshAll();
  setInterval(() => {
    if (!busy && document.visibilityState === 'visible') refreshAll();
  }, 5000);
})();
