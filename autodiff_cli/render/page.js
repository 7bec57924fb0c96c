// adiff explain --format html: the player.  The steps (with their text and
// numbers, formatted by adiff) are JSON in #adiff-steps; going to step k
// replays steps 0..k onto the drawing, so any step can be reached directly.
(function () {
  "use strict";
  var steps = JSON.parse(document.getElementById("adiff-steps").textContent);
  var root = document.documentElement;
  var svg = document.getElementById("graph");
  var scroller = document.getElementById("scroller");
  var list = document.getElementById("steps");
  var items = list.querySelectorAll("li");
  var current = 0;
  var timer = null;
  var PLAY_MS = 1400;

  var values = {};
  svg.querySelectorAll("g.value").forEach(function (g) { values[g.getAttribute("data-node")] = g; });

  function edge(z, k) { return document.getElementById("e" + z + "-" + k); }
  function setText(g, cls, text) {
    var t = g.querySelector("text." + cls);
    if (t && t.textContent !== text) t.textContent = text;
  }
  function labelOf(e) { return document.getElementById("l" + e.id.slice(1)); }
  function placeLabel(e) {
    var path = e.querySelector("path"), label = labelOf(e);
    // at the middle of the edge, moved off the line on its upper side
    var length = path.getTotalLength(), p = path.getPointAtLength(length * 0.5);
    var a = path.getPointAtLength(Math.max(0, length * 0.5 - 2));
    var b = path.getPointAtLength(Math.min(length, length * 0.5 + 2));
    var dx = b.x - a.x, dy = b.y - a.y, norm = Math.sqrt(dx * dx + dy * dy) || 1;
    var nx = dy / norm, ny = -dx / norm;
    if (ny > 0) { nx = -nx; ny = -ny; }
    label.setAttribute("x", (p.x + nx * 11 + (nx < -0.3 ? -4 : nx > 0.3 ? 4 : 0)).toFixed(1));
    label.setAttribute("y", (p.y + ny * 11).toFixed(1));
    label.style.textAnchor = nx < -0.3 ? "end" : nx > 0.3 ? "start" : "middle";
  }

  function render(k) {
    // the state after steps 0..k
    var state = {}, used = {}, active = [], activeNodes = [], activeOps = [];
    function of(node) { return state[node] || (state[node] = {}); }
    for (var i = 0; i <= k; i++) {
      var s = steps[i], last = i === k;
      if (s.kind === "forward") {
        of(s.node).value = s.value;
        if (last) {
          activeNodes.push(s.node);
          activeOps.push(s.node);
          s.inputs.forEach(function (_, position) { active.push([s.node, position]); });
        }
      } else if (s.kind === "seed") {
        of(s.node).grad = s.grad;
        if (last) activeNodes.push(s.node);
      } else if (s.kind === "edge") {
        used[s.edge[0] + "-" + s.edge[1]] = s.contribution;
        if (s.grad) of(s.node).grad = s.grad; else of(s.node).partial = s.partial;
        if (last) { active.push(s.edge); activeNodes.push(s.node, s.edge[0]); activeOps.push(s.edge[0]); }
      } else if (s.kind === "sum") {
        of(s.node).grad = s.grad;
        delete of(s.node).partial;
        if (last) {
          activeNodes.push(s.node);
          s.via.forEach(function (v) { active.push(v); activeOps.push(v[0]); });
        }
      } else if (s.kind === "tangents") {
        // a new tangent pass: the last pass's tangents are cleared
        Object.keys(state).forEach(function (node) { delete state[node].tangent; });
      } else if (s.kind === "tangent") {
        of(s.node).tangent = s.tangent;
        if (last) {
          activeNodes.push(s.node);
          activeOps.push(s.node);
          s.inputs.forEach(function (_, position) { active.push([s.node, position]); });
        }
      } else if (s.kind === "gradient") {
        Object.keys(s.grads).forEach(function (node) { of(node).grad = s.grads[node]; });
        if (last) activeNodes = Object.keys(s.grads);
      }
    }
    Object.keys(values).forEach(function (node) {
      var g = values[node], st = state[node] || {};
      if (g.classList.contains("const")) { g.classList.remove("active"); return; }
      if (st.value) { g.setAttribute("data-value", st.value[0]); setText(g, "val", "= " + st.value[1]); }
      else { g.removeAttribute("data-value"); setText(g, "val", ""); }
      if (st.grad) { g.setAttribute("data-grad", st.grad[0]); setText(g, "grad", "grad " + st.grad[1]); }
      else { g.removeAttribute("data-grad"); setText(g, "grad", st.partial ? "grad " + st.partial : ""); }
      if (st.tangent) { g.setAttribute("data-tangent", st.tangent[0]); setText(g, "grad", "tangent " + st.tangent[1]); }
      else { g.removeAttribute("data-tangent"); }
      g.classList.toggle("computed", !!st.value);
      g.classList.toggle("has-grad", !!st.grad);
      g.classList.toggle("accumulating", !st.grad && !!st.partial);
    });
    Object.keys(values).forEach(function (node) {
      values[node].classList.toggle("active", activeNodes.indexOf(node) >= 0 || activeNodes.indexOf(+node) >= 0);
    });
    svg.querySelectorAll("g.op").forEach(function (g) {
      g.classList.toggle("active", activeOps.indexOf(+g.getAttribute("data-op")) >= 0);
    });
    svg.querySelectorAll("g.edge").forEach(function (e) {
      e.classList.remove("active", "used");
      if (labelOf(e)) labelOf(e).classList.remove("active");
      var label = labelOf(e);
      var key = e.getAttribute("data-to") + "-" + e.getAttribute("data-position");
      if (e.classList.contains("input") && used[key] !== undefined) {
        e.classList.add("used");
        if (!label.hasAttribute("x")) placeLabel(e);
        label.textContent = used[key];
      } else if (label) {
        label.textContent = "";
      }
      e.querySelector("path").setAttribute("marker-end", used[key] !== undefined ? "url(#arrow-used)" : "url(#arrow)");
    });
    var backward = steps[k].kind !== "forward";
    active.forEach(function (pair) {
      var e = edge(pair[0], pair[1]);
      if (!e) return;
      e.classList.add("active");
      e.querySelector("path").setAttribute("marker-end", "url(#arrow-active)");
      if (backward && steps[k].kind === "edge") {
        if (!labelOf(e).hasAttribute("x")) placeLabel(e);
        labelOf(e).textContent = steps[k].product;
        labelOf(e).classList.add("active");
      }
    });
    if (steps[k].kind === "forward") {
      var r = document.getElementById("r" + steps[k].node);
      if (r) { r.classList.add("active"); r.querySelector("path").setAttribute("marker-end", "url(#arrow-active)"); }
    }
    svg.classList.toggle("backward", k > 0 && ["seed", "edge", "sum", "gradient", "note"].indexOf(steps[k].kind) >= 0);
    follow(activeNodes);
  }

  function follow(nodes) {
    // keep the current node in view when the graph is wider than the window
    if (!nodes.length || scroller.scrollWidth <= scroller.clientWidth + 1) return;
    var g = values[nodes[0]];
    if (!g) return;
    var box = g.getBoundingClientRect(), view = scroller.getBoundingClientRect();
    if (box.left < view.left || box.right > view.right) {
      scroller.scrollLeft += (box.left + box.right) / 2 - (view.left + view.right) / 2;
    }
  }

  function show(k) {
    k = Math.max(0, Math.min(steps.length - 1, k));
    current = k;
    var s = steps[k];
    root.setAttribute("data-step", String(k));
    root.setAttribute("data-kind", s.kind);
    document.getElementById("section").textContent = s.section;
    document.getElementById("counter").textContent = "step " + k + " of " + (steps.length - 1);
    document.getElementById("context").textContent = s.context || "";
    document.getElementById("line").textContent = s.text;
    var detail = document.getElementById("detail");
    detail.textContent = "";
    (s.detail || []).forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      detail.appendChild(li);
    });
    items.forEach(function (li, i) {
      if (i === k) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    });
    var item = items[k];
    if (item) {
      var top = item.offsetTop;     // the list is positioned: offsets are within it
      if (top < list.scrollTop || top + item.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = top - list.clientHeight / 3;
      }
    }
    document.getElementById("first").disabled = k === 0;
    document.getElementById("prev").disabled = k === 0;
    document.getElementById("next").disabled = k === steps.length - 1;
    document.getElementById("last").disabled = k === steps.length - 1;
    render(k);
    if (k === steps.length - 1) pause();
  }

  function play() {
    if (current === steps.length - 1) show(0);
    var button = document.getElementById("play");
    button.setAttribute("aria-pressed", "true");
    button.textContent = "‖ Pause";
    timer = window.setInterval(function () { show(current + 1); }, PLAY_MS);
  }
  function pause() {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
    var button = document.getElementById("play");
    button.setAttribute("aria-pressed", "false");
    button.textContent = "▶ Play";
  }
  function toggle() { if (timer === null) play(); else pause(); }

  document.getElementById("first").addEventListener("click", function () { pause(); show(0); });
  document.getElementById("prev").addEventListener("click", function () { pause(); show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { pause(); show(current + 1); });
  document.getElementById("last").addEventListener("click", function () { pause(); show(steps.length - 1); });
  document.getElementById("play").addEventListener("click", toggle);
  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-goto]");
    if (button) { pause(); show(+button.getAttribute("data-goto")); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target, tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    var onButton = tag === "BUTTON";
    switch (event.key) {
      case "ArrowRight": pause(); show(current + 1); break;
      case " ": case "Spacebar":
        if (onButton) return;          // Space presses the focused button
        pause(); show(current + 1); break;
      case "ArrowLeft": pause(); show(current - 1); break;
      case "Home": pause(); show(0); break;
      case "End": pause(); show(steps.length - 1); break;
      case "p": case "P": toggle(); break;
      default: return;
    }
    event.preventDefault();
  });
  show(0);
})();
