/* Properties panel sections for what a process owner writes and sets in a diagram (registered with modeler.js
   through window.collabflowPanelSections):
   - script editors: a script task's script, and the pre-script / post-script of every other activity, with line
     numbers; as the owner types, the text is checked against the sandbox on the server (the check validation runs)
     and each problem is shown under the editor with its line marked;
   - review cadences: with nothing selected, the process's `cadence:R.*` properties, one row per review, each a
     period builder (every N months / weeks / days) with its next three due times; every change is a bpmn-js
     command, so Ctrl+Z undoes it. No inline script (CSP). */
(function () {
  "use strict";

  var sections = window.collabflowPanelSections = window.collabflowPanelSections || [];
  var here = document.currentScript ? document.currentScript.src : "";
  if (here) {  // the editors' styles, beside this file (the page loads only the script)
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = here.replace(/settings\.js(\?.*)?$/, "settings.css");
    document.head.appendChild(link);
  }

  // The panel draws the process's sections when the selection changes; once the diagram is drawn with nothing
  // selected, say so once, so the review cadences show without a click.
  var canvasBox = document.getElementById("canvas-box");
  if (canvasBox && window.MutationObserver) {
    var drawn = new MutationObserver(function () {
      if (canvasBox.getAttribute("data-drawn") !== "true" || !window.collabflowModeler) return;
      drawn.disconnect();
      var selection = window.collabflowModeler.get("selection");
      if (!selection.get().length) selection.select(null);
    });
    drawn.observe(canvasBox, { attributes: true, attributeFilter: ["data-drawn"] });
  }

  var CHECK_DELAY = 400;  // ms after the last key before the server checks the text
  var MAX_CHARS = 50000;  // the server's bound (workflows.script_check.MAX_SCRIPT_CHARS)
  var CADENCE = "cadence:";
  var UNITS = [["M", "months", "month"], ["W", "weeks", "week"], ["D", "days", "day"]];
  var WORDS = { "P1M": "monthly", "P3M": "quarterly", "P6M": "half-yearly", "P12M": "yearly", "P1Y": "yearly",
                "P1W": "weekly", "P2W": "fortnightly", "P1D": "daily" };

  function baseUrl(api) { return (api.root.getAttribute("data-history-url") || "/processes").replace(/\/$/, ""); }

  // ------------------------------------------------------------------ script editors
  var KINDS = {
    script: { label: "Script", what: "script" },
    preScript: { label: "Pre-script (runs before the task)", what: "pre-script", type: "spiffworkflow:PreScript" },
    postScript: { label: "Post-script (runs when the task completes)", what: "post-script", type: "spiffworkflow:PostScript" }
  };

  function scriptEditor(element, api, kind) {
    var spec = KINDS[kind];
    var bo = element.businessObject;
    var value = kind === "script" ? bo.get("script") || "" : api.bodyExtension(element, spec.type);
    var id = "script-" + kind;
    var gutter = api.h("div", { "class": "code-gutter", "aria-hidden": "true", id: id + "-lines" });
    var area = api.h("textarea", { "class": "code", id: id, rows: "8", spellcheck: "false", wrap: "off",
                                   autocapitalize: "off", autocomplete: "off", value: value,
                                   "aria-describedby": id + "-problems" });
    var problems = api.h("ul", { "class": "script-problems", id: id + "-problems", "aria-live": "polite" });
    var state = api.h("p", { "class": "hint script-state", id: id + "-state" });
    var wrap = api.h("div", { "class": "field script-editor", "data-kind": kind }, [
      api.h("label", { "for": id, text: spec.label }),
      api.h("div", { "class": "code-box" }, [gutter, area]), state, problems]);
    var marked = [], seq = 0, timer = null;

    function drawLines() {
      var count = area.value.split("\n").length;
      if (gutter.childNodes.length === count) return;
      gutter.textContent = "";
      for (var i = 1; i <= count; i++) {
        gutter.appendChild(api.h("div", { "class": marked.indexOf(i) >= 0 ? "bad" : null, "data-line": String(i), text: String(i) }));
      }
    }

    function mark(lines) {
      marked = lines;
      Array.prototype.forEach.call(gutter.childNodes, function (node) {
        node.className = marked.indexOf(parseInt(node.getAttribute("data-line"), 10)) >= 0 ? "bad" : "";
      });
      area.classList.toggle("has-problems", lines.length > 0);
    }

    function show(body) {
      problems.textContent = "";
      var found = body.problems || [];
      found.forEach(function (p) {
        var item = api.h("li", { "class": "bad", "data-line": p.line ? String(p.line) : null, text: p.message });
        if (p.line) {
          item.addEventListener("click", function () { goToLine(p.line); });
          item.title = "Go to line " + p.line;
        }
        problems.appendChild(item);
      });
      mark(found.map(function (p) { return p.line; }).filter(Boolean));
      state.textContent = found.length ? "" : (area.value.trim() ? "The sandbox accepts this " + spec.what + "." : "");
      state.className = "hint script-state" + (found.length ? "" : " ok");
    }

    function goToLine(line) {
      var lines = area.value.split("\n"), start = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
      area.focus();
      area.setSelectionRange(start, start + (lines[line - 1] || "").length);
      area.scrollTop = Math.max(0, (line - 3) * parseFloat(getComputedStyle(area).lineHeight || "18"));
    }

    function check() {
      var mine = ++seq, text = area.value;
      if (text.length > MAX_CHARS) {
        show({ problems: [{ line: null, message: "The " + spec.what + " is " + text.length.toLocaleString("en") +
          " characters long; the limit is " + MAX_CHARS.toLocaleString("en") + "." }] });
        return;
      }
      state.textContent = "Checking…";
      state.className = "hint script-state";
      api.post(baseUrl(api) + "/check-script", { script: text, kind: kind }).then(function (r) {
        if (mine !== seq) return;  // a newer text is being checked
        if (r.status !== 200) { show({ problems: [{ line: null, message: r.body.message || "The check failed (" + r.status + ")." }] }); return; }
        show(r.body);
      }).catch(function () {
        if (mine === seq) { state.textContent = "Could not reach the server to check the " + spec.what + "."; }
      });
    }

    area.addEventListener("input", function () {
      drawLines();
      clearTimeout(timer);
      timer = setTimeout(check, CHECK_DELAY);
    });
    area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
    area.addEventListener("keydown", function (e) {  // Tab indents (Python), instead of leaving the field
      if (e.key !== "Tab" || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return;
      e.preventDefault();
      var start = area.selectionStart, end = area.selectionEnd;
      area.setRangeText("    ", start, end, "end");
      area.dispatchEvent(new Event("input"));
    });
    api.onCommit(area, function (text) {
      text = text.replace(/\s+$/, "");
      if (kind === "script") {
        var changes = { script: text || undefined };
        if (text && !bo.get("scriptFormat")) changes.scriptFormat = "python";
        api.modeling.updateProperties(element, changes);
      } else {
        api.setBodyExtension(element, spec.type, text);
      }
    });
    drawLines();
    if (value.trim()) check();
    return wrap;
  }

  sections.push(function (element, api) {
    if (api.isRoot || !api.is(element, "bpmn:Activity")) return null;
    var box = api.h("fieldset", { "class": "group", id: "scripts" }, [api.h("legend", { text: "Scripts" })]);
    if (api.is(element, "bpmn:ScriptTask")) {
      box.appendChild(scriptEditor(element, api, "script"));
      box.appendChild(api.h("p", { "class": "hint", text: "Python run in the sandbox over the task data: the names " +
        "you assign become data. Functions: now(), add_period(), next_after(), setting(), start_process(), … " +
        "A script task has no pre- or post-script: the engine runs only its script." }));
    } else {
      box.appendChild(scriptEditor(element, api, "preScript"));
      box.appendChild(scriptEditor(element, api, "postScript"));
      box.appendChild(api.h("p", { "class": "hint", text: "Python run in the sandbox over the task data, before " +
        "the task is ready and when it completes." }));
    }
    return box;
  });

  // ------------------------------------------------------------------ review cadences (the process's settings)
  var PERIOD = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/;
  var reviews = null;  // promise of {id: {what, default_cycle}}

  function reviewNames(api) {
    if (!reviews) {
      reviews = fetch(baseUrl(api) + "/review-cadences", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { reviews: [] }; })
        .then(function (body) {
          var byId = {};
          (body.reviews || []).forEach(function (r) { byId[r.id] = r; });
          return byId;
        })
        .catch(function () { return {}; });
    }
    return reviews;
  }

  /* "P3M" -> {amount: 3, unit: 0}; null when the period is not one number of months, weeks or days. */
  function simplePeriod(text) {
    var m = PERIOD.exec(text || "");
    if (!m) return null;
    var y = +(m[1] || 0), mo = +(m[2] || 0), w = +(m[3] || 0), d = +(m[4] || 0);
    if ((y || mo) && !w && !d) return { amount: y * 12 + mo, unit: 0 };
    if (w && !y && !mo && !d) return { amount: w, unit: 1 };
    if (d && !y && !mo && !w) return { amount: d, unit: 2 };
    return null;
  }

  function inWords(period) {
    var p = simplePeriod(period);
    if (!p) return period;
    var unit = UNITS[p.unit];
    var every = p.amount === 1 ? "every " + unit[2] : "every " + p.amount + " " + unit[1];
    return WORDS[period] ? every + " (" + WORDS[period] + ")" : every;
  }

  /* The next three due times from `now`, calendar-true (as workflows.periods.add_period: the 31st -> the 30th). */
  function nextDue(period, now) {
    var p = simplePeriod(period);
    if (!p) return [];
    var times = [];
    for (var k = 1; k <= 3; k++) {
      var d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
      if (p.unit === 0) {
        var day = d.getUTCDate();
        d.setUTCDate(1);
        d.setUTCMonth(d.getUTCMonth() + p.amount * k);
        var last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
        d.setUTCDate(Math.min(day, last));
      } else {
        d.setUTCDate(d.getUTCDate() + p.amount * k * (p.unit === 1 ? 7 : 1));
      }
      times.push(d);
    }
    return times;
  }

  function processesOf(rootElement) {
    var bo = rootElement.businessObject;
    if (bo.$instanceOf("bpmn:Process")) return [bo];
    if (bo.$instanceOf("bpmn:Collaboration")) {
      return (bo.get("participants") || []).map(function (p) { return p.processRef; }).filter(Boolean);
    }
    return [];
  }

  function cadenceProperties(process) {
    var ext = process.get("extensionElements");
    var found = [];
    (ext ? ext.get("values") : []).forEach(function (v) {
      if (v.$type !== "spiffworkflow:Properties") return;
      v.get("properties").forEach(function (p) {
        if ((p.name || "").indexOf(CADENCE) === 0) found.push(p);
      });
    });
    return found;
  }

  function cadenceRow(rootElement, api, property) {
    var reviewId = property.name.slice(CADENCE.length);
    var safe = reviewId.replace(/[^A-Za-z0-9_-]/g, "-");
    var title = api.h("strong", { "class": "cadence-name", text: reviewId });
    var words = api.h("span", { "class": "muted small cadence-words", id: "cadence-" + safe + "-words" });
    var amount = api.h("input", { type: "number", min: "1", max: "999", id: "cadence-" + safe + "-amount",
                                  "aria-label": "Every how many (" + reviewId + ")" });
    var unit = api.h("select", { id: "cadence-" + safe + "-unit", "aria-label": "Unit (" + reviewId + ")" },
      UNITS.map(function (u, i) { return api.h("option", { value: String(i), text: u[1] }); }));
    var raw = api.h("code", { id: "cadence-" + safe + "-value" });
    var due = api.h("ol", { "class": "due", id: "cadence-" + safe + "-due", "aria-label": "Next due (" + reviewId + ")" });
    var row = api.h("div", { "class": "cadence", "data-review": reviewId }, [
      api.h("div", {}, [title, " ", words]),
      api.h("div", { "class": "inline-fields" }, ["every", amount, unit, raw]),
      api.h("span", { "class": "label small", text: "Next due if one started today" }), due]);

    function refresh() {
      var value = property.get("value") || "";
      var p = simplePeriod(value);
      if (document.activeElement !== amount) amount.value = p ? String(p.amount) : "";
      if (p) unit.value = String(p.unit);
      raw.textContent = value;
      words.textContent = p ? inWords(value) : (value ? "not a period of months, weeks or days: " + value : "no period");
      due.textContent = "";
      var times = nextDue(value, new Date());
      if (!times.length) due.appendChild(api.h("li", { text: "not a valid period" }));
      times.forEach(function (t) { due.appendChild(api.h("li", { text: t.toISOString().slice(0, 10) })); });
    }

    function apply() {
      var n = parseInt(amount.value, 10);
      if (!(n >= 1 && n <= 999)) { api.say("A cadence is every 1 to 999 months, weeks or days.", "bad"); refresh(); return; }
      var value = "P" + n + UNITS[parseInt(unit.value, 10)][0];
      if (value !== property.get("value")) {
        api.modeling.updateModdleProperties(rootElement, property, { value: value });
        api.say("The " + reviewId + " review now runs " + inWords(value) + ". Save the draft to keep it.");
      }
      refresh();
    }

    amount.addEventListener("change", apply);
    unit.addEventListener("change", apply);
    amount.addEventListener("input", function () {  // the due times follow the number as it is typed
      var n = parseInt(amount.value, 10);
      if (n >= 1 && n <= 999) {
        var preview = "P" + n + UNITS[parseInt(unit.value, 10)][0];
        due.textContent = "";
        nextDue(preview, new Date()).forEach(function (t) { due.appendChild(api.h("li", { text: t.toISOString().slice(0, 10) })); });
      }
    });
    reviewNames(api).then(function (names) {
      var known = names[reviewId];
      title.textContent = known ? known.what + " (" + reviewId + ")" : reviewId;
    });
    refresh();
    row.refresh = refresh;
    return row;
  }

  sections.push(function (rootElement, api) {
    if (!api.isRoot) return null;
    var rows = [];
    processesOf(rootElement).forEach(function (process) {
      cadenceProperties(process).forEach(function (p) { rows.push(cadenceRow(rootElement, api, p)); });
    });
    if (!rows.length) return null;
    var box = api.h("fieldset", { "class": "group", id: "review-cadences" }, [api.h("legend", { text: "Review cadences" }),
      api.h("p", { "class": "hint", text: "How often each recurring review of a relationship runs. A relationship's " +
        "reviews are scheduled with the cadence of its version when they start (stages 5 and 7); the review cadence " +
        "table by priority overrides these where its cells are filled. Ctrl+Z undoes a change." })].concat(rows));
    var bus = api.modeler && api.modeler.get ? api.modeler.get("eventBus") : null;
    if (bus) {  // an undo / redo changes the value under the row: show it
      var listener = function () {
        if (!document.body.contains(box)) { bus.off("commandStack.changed", listener); return; }
        rows.forEach(function (row) { row.refresh(); });
      };
      bus.on("commandStack.changed", listener);
    }
    return box;
  });
})();
