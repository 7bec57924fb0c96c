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

  // ---- edge labels: beside their edge, clear of every node and of each other ----
  var shapes = null;   // the nodes' ellipses and boxes, in the drawing's units
  function nodeShapes() {
    if (shapes) return shapes;
    shapes = [];
    svg.querySelectorAll("g.value ellipse").forEach(function (el) {
      shapes.push({ellipse: true, cx: +el.getAttribute("cx"), cy: +el.getAttribute("cy"),
                   rx: +el.getAttribute("rx") + 2, ry: +el.getAttribute("ry") + 2});
    });
    svg.querySelectorAll("g.op rect").forEach(function (el) {
      var x = +el.getAttribute("x"), y = +el.getAttribute("y");
      shapes.push({ellipse: false, x: x - 2, y: y - 2, w: +el.getAttribute("width") + 4,
                   h: +el.getAttribute("height") + 4});
    });
    return shapes;
  }
  function boxOf(el) {
    var b = el.getBBox();
    return {x: b.x, y: b.y, w: b.width, h: b.height};
  }
  function rectOverlap(a, b) {
    var w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
    var h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
    return w > 0 && h > 0 ? w * h : 0;
  }
  function overlap(box, others) {
    var total = 0;
    nodeShapes().forEach(function (s) {
      if (!s.ellipse) { total += rectOverlap(box, s); return; }
      // the point of the box nearest the centre, inside the ellipse?
      var px = Math.max(box.x, Math.min(s.cx, box.x + box.w)), py = Math.max(box.y, Math.min(s.cy, box.y + box.h));
      var dx = (px - s.cx) / s.rx, dy = (py - s.cy) / s.ry;
      if (dx * dx + dy * dy < 1) {
        total += rectOverlap(box, {x: s.cx - s.rx, y: s.cy - s.ry, w: 2 * s.rx, h: 2 * s.ry}) + 1;
      }
    });
    others.forEach(function (o) { total += rectOverlap(box, o); });
    return total;
  }
  function placeLabel(e, others) {
    // beside the edge (along it, either side, nearest first), else anywhere near its middle:
    // the first spot that covers nothing, else the least covered
    var path = e.querySelector("path"), label = labelOf(e), length = path.getTotalLength();
    label.style.textAnchor = "middle";
    label.setAttribute("x", "0");
    label.setAttribute("y", "0");
    var size = boxOf(label), spots = [];
    [11, 24, 40, 60, 85].forEach(function (off) {
      [0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9].forEach(function (t) {
        var at = length * t, p = path.getPointAtLength(at);
        var a = path.getPointAtLength(Math.max(0, at - 2)), b = path.getPointAtLength(Math.min(length, at + 2));
        var dx = b.x - a.x, dy = b.y - a.y, norm = Math.sqrt(dx * dx + dy * dy) || 1;
        var nx = dy / norm, ny = -dx / norm;
        if (ny > 0) { nx = -nx; ny = -ny; }     // above the line first, then below
        [1, -1].forEach(function (side) {
          var sx = nx * side, sy = ny * side, anchor = sx < -0.3 ? "end" : sx > 0.3 ? "start" : "middle";
          spots.push({x: p.x + sx * off + (anchor === "end" ? -4 : anchor === "start" ? 4 : 0),
                      y: p.y + sy * off, anchor: anchor});
        });
      });
    });
    var mid = path.getPointAtLength(length / 2), around = [];
    for (var gx = -8; gx <= 8; gx++) {
      for (var gy = -14; gy <= 14; gy++) {
        around.push({x: mid.x + gx * 30, y: mid.y + gy * 14, anchor: "middle", far: gx * gx * 225 + gy * gy * 196});
      }
    }
    around.sort(function (a, b) { return a.far - b.far; });
    var best = null;
    spots.concat(around).some(function (spot) {
      var left = spot.anchor === "middle" ? -size.w / 2 : spot.anchor === "start" ? 0 : -size.w;
      var box = {x: spot.x + left - 1, y: spot.y + size.y - 1, w: size.w + 2, h: size.h + 2};
      var cost = overlap(box, others);
      if (!best || cost < best.cost) best = {cost: cost, spot: spot, box: box};
      return cost === 0;
    });
    label.setAttribute("x", best.spot.x.toFixed(1));
    label.setAttribute("y", best.spot.y.toFixed(1));
    label.style.textAnchor = best.spot.anchor;
    label.setAttribute("data-placed", label.textContent);
    return best.box;
  }
  function placeLabels(activeLabels) {
    // the current edge's label first (it is the longest), then each label whose text changed
    var boxes = [], moved = [];
    svg.querySelectorAll(".edge-label").forEach(function (label) {
      if (!label.textContent) return;
      var first = activeLabels.indexOf(label) >= 0;
      if (first || label.getAttribute("data-placed") !== label.textContent) moved.push(label);
      else boxes.push(boxOf(label));
    });
    moved.sort(function (a, b) { return activeLabels.indexOf(b) - activeLabels.indexOf(a); });
    moved.forEach(function (label) {
      boxes.push(placeLabel(document.getElementById("e" + label.id.slice(1)), boxes));
    });
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
        label.textContent = used[key];
      } else if (label) {
        label.textContent = "";
      }
      e.querySelector("path").setAttribute("marker-end", used[key] !== undefined ? "url(#arrow-used)" : "url(#arrow)");
    });
    var backward = steps[k].kind !== "forward", activeLabels = [];
    active.forEach(function (pair) {
      var e = edge(pair[0], pair[1]);
      if (!e) return;
      e.classList.add("active");
      e.querySelector("path").setAttribute("marker-end", "url(#arrow-active)");
      if (backward && steps[k].kind === "edge") {
        labelOf(e).textContent = steps[k].product;
        labelOf(e).classList.add("active");
        activeLabels.push(labelOf(e));
      }
    });
    placeLabels(activeLabels);
    if (steps[k].kind === "forward") {
      var r = document.getElementById("r" + steps[k].node);
      if (r) { r.classList.add("active"); r.querySelector("path").setAttribute("marker-end", "url(#arrow-active)"); }
    }
    svg.classList.toggle("backward", k > 0 && ["seed", "edge", "sum", "gradient", "note"].indexOf(steps[k].kind) >= 0);
    follow(activeNodes);
  }

  function follow(nodes) {
    // keep the current node in view when the graph is larger than its frame
    if (!nodes.length) return;
    var g = values[nodes[0]];
    if (!g) return;
    var box = g.getBoundingClientRect(), view = scroller.getBoundingClientRect();
    if (scroller.scrollWidth > scroller.clientWidth + 1 && (box.left < view.left || box.right > view.right)) {
      scroller.scrollLeft += (box.left + box.right) / 2 - (view.left + view.right) / 2;
    }
    if (scroller.scrollHeight > scroller.clientHeight + 1 && (box.top < view.top || box.bottom > view.bottom)) {
      scroller.scrollTop += (box.top + box.bottom) / 2 - (view.top + view.bottom) / 2;
    }
  }

  // ---- the list of steps ends above the fold when it sits beside the graph ----
  var wide = window.matchMedia("(min-width: 64rem)");
  function fitList() {
    if (!wide.matches) { list.style.maxHeight = ""; return; }
    var top = list.getBoundingClientRect().top, room = window.innerHeight - Math.max(top, 0) - 12;
    list.style.maxHeight = Math.max(128, room) + "px";
  }

  // ---- zoom and pan: Fit shows the whole graph, + and − scale it, dragging moves it ----
  var natural = {w: +svg.getAttribute("width"), h: +svg.getAttribute("height")};
  function scale() { return svg.getBoundingClientRect().width / natural.w; }
  function zoomTo(z, keepCentre) {
    z = Math.max(0.05, Math.min(4, z));
    var cx = (scroller.scrollLeft + scroller.clientWidth / 2) / (scroller.scrollWidth || 1);
    var cy = (scroller.scrollTop + scroller.clientHeight / 2) / (scroller.scrollHeight || 1);
    svg.classList.add("zoomed");
    svg.style.width = (natural.w * z).toFixed(1) + "px";
    if (keepCentre) {
      scroller.scrollLeft = cx * scroller.scrollWidth - scroller.clientWidth / 2;
      scroller.scrollTop = cy * scroller.scrollHeight - scroller.clientHeight / 2;
    }
    pannable();
    fitList();
  }
  function fitGraph() {
    var room = window.innerHeight - scroller.getBoundingClientRect().top - 60;
    var limit = parseFloat(getComputedStyle(scroller).maxHeight) || Infinity;
    var height = Math.max(120, Math.min(room, limit) - 4);
    zoomTo(Math.min((scroller.clientWidth - 2) / natural.w, height / natural.h, 1), false);
    scroller.scrollLeft = 0;
    scroller.scrollTop = 0;
  }
  function pannable() {
    scroller.classList.toggle("pannable", scroller.scrollWidth > scroller.clientWidth + 1 ||
                                          scroller.scrollHeight > scroller.clientHeight + 1);
  }
  var drag = null;
  scroller.addEventListener("pointerdown", function (event) {
    if (event.pointerType !== "mouse" || event.button !== 0 || !scroller.classList.contains("pannable")) return;
    drag = {x: event.clientX, y: event.clientY, left: scroller.scrollLeft, top: scroller.scrollTop};
    scroller.classList.add("panning");
    scroller.setPointerCapture(event.pointerId);
  });
  scroller.addEventListener("pointermove", function (event) {
    if (!drag) return;
    scroller.scrollLeft = drag.left - (event.clientX - drag.x);
    scroller.scrollTop = drag.top - (event.clientY - drag.y);
  });
  function endDrag() { drag = null; scroller.classList.remove("panning"); }
  scroller.addEventListener("pointerup", endDrag);
  scroller.addEventListener("pointercancel", endDrag);
  window.addEventListener("resize", function () { fitList(); pannable(); });

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
    document.getElementById("first").disabled = k === 0;
    document.getElementById("prev").disabled = k === 0;
    document.getElementById("next").disabled = k === steps.length - 1;
    document.getElementById("last").disabled = k === steps.length - 1;
    render(k);
    fitList();
    if (item) {
      var top = item.offsetTop;     // the list is positioned: offsets are within it
      if (top < list.scrollTop || top + item.offsetHeight > list.scrollTop + list.clientHeight) {
        // a third of the way down, or at the top for a step taller than the rest of the list
        list.scrollTop = top - Math.max(0, Math.min(list.clientHeight / 3, list.clientHeight - item.offsetHeight));
      }
    }
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
  document.getElementById("fit").addEventListener("click", fitGraph);
  document.getElementById("zoom-in").addEventListener("click", function () { zoomTo(scale() * 1.25, true); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoomTo(scale() / 1.25, true); });
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
      case "f": case "F": fitGraph(); break;
      case "+": case "=": zoomTo(scale() * 1.25, true); break;
      case "-": case "_": zoomTo(scale() / 1.25, true); break;
      default: return;
    }
    event.preventDefault();
  });
  pannable();
  show(0);
})();
