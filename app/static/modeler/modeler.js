/* The process owner's modeller: bpmn-js Modeler + a properties panel that writes into the BPMN XML
   (names, lanes, SpiffWorkflow forms/requirements/instructions, timers, conditions, documentation),
   then save as draft, validate and deploy through the workbench's JSON endpoints. No inline script (CSP). */
(function () {
  "use strict";

  // SpiffWorkflow's extension elements (namespace of the bundled diagrams), so bpmn-js reads and writes them.
  var SPIFF = {
    name: "SpiffWorkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core", prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" }, associations: [],
    types: [
      { name: "Properties", superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"],
        properties: [{ name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
      { name: "InstructionsForEndUser", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "PreScript", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "PostScript", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "PayloadExpression", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "VariableName", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "MessageVariable", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "CalledDecisionId", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] }
    ]
  };
  var FORM = "formJsonSchemaFilename", UI = "formUiSchemaFilename", REQS = "requirements";
  var TIMER_KINDS = [["timeDuration", "Duration (once, after)"], ["timeCycle", "Cycle (repeating)"], ["timeDate", "Date (at)"]];
  var UNITS = [["M", "minutes", true], ["H", "hours", true], ["D", "days", false], ["W", "weeks", false],
               ["M", "months", false], ["Y", "years", false]];

  var root = document.getElementById("modeller");
  if (!root) return;
  var box = document.getElementById("canvas-box");
  var statusLine = document.getElementById("status");
  var propsBody = document.getElementById("props-body");
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content;
  var fileName = root.getAttribute("data-file");
  var forms = JSON.parse(root.getAttribute("data-forms") || "[]");
  var modeler, modeling, moddle, registry, canvas, selection, elementFactory;
  var dirty = false, current = null, problemMarks = [];

  function say(text, kind) {
    statusLine.textContent = text;
    statusLine.className = "status-line" + (kind ? " " + kind : "");
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else if (key === "value") node.value = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // ------------------------------------------------------------------ reading the model
  function is(element, type) { return element && element.businessObject && element.businessObject.$instanceOf(type); }

  function extensions(element, create) {
    var bo = element.businessObject;
    var ext = bo.get("extensionElements");
    if (!ext && create) {
      ext = moddle.create("bpmn:ExtensionElements", { values: [] });
      modeling.updateProperties(element, { extensionElements: ext });
    }
    return ext;
  }

  function extension(element, type, create) {
    var ext = extensions(element, create);
    if (!ext) return null;
    var found = ext.get("values").filter(function (v) { return v.$type === type; })[0];
    if (!found && create) {
      found = moddle.create(type, type === "spiffworkflow:Properties" ? { properties: [] } : {});
      modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([found]) });
    }
    return found || null;
  }

  function property(element, name) {
    var props = extension(element, "spiffworkflow:Properties", false);
    var found = props && props.get("properties").filter(function (p) { return p.name === name; })[0];
    return found ? found.value || "" : "";
  }

  function setProperty(element, name, value) {
    value = (value || "").trim();
    var props = extension(element, "spiffworkflow:Properties", !!value);
    if (!props) return;
    var list = props.get("properties");
    var found = list.filter(function (p) { return p.name === name; })[0];
    if (!value) {
      if (found) modeling.updateModdleProperties(element, props, { properties: list.filter(function (p) { return p !== found; }) });
    } else if (found) {
      modeling.updateModdleProperties(element, found, { value: value });
    } else {
      modeling.updateModdleProperties(element, props, {
        properties: list.concat([moddle.create("spiffworkflow:Property", { name: name, value: value })]) });
    }
  }

  function instructions(element) {
    var found = extension(element, "spiffworkflow:InstructionsForEndUser", false);
    return found ? found.value || "" : "";
  }

  function setInstructions(element, text) {
    var ext = extensions(element, !!text);
    if (!ext) return;
    var found = extension(element, "spiffworkflow:InstructionsForEndUser", false);
    if (!text) {
      if (found) modeling.updateModdleProperties(element, ext, { values: ext.get("values").filter(function (v) { return v !== found; }) });
    } else if (found) {
      modeling.updateModdleProperties(element, found, { value: text });
    } else {
      modeling.updateModdleProperties(element, ext, {
        values: ext.get("values").concat([moddle.create("spiffworkflow:InstructionsForEndUser", { value: text })]) });
    }
  }

  function documentation(element) {
    var docs = element.businessObject.get("documentation") || [];
    return docs.length ? docs[0].text || "" : "";
  }

  function setDocumentation(element, text) {
    modeling.updateProperties(element, {
      documentation: text ? [moddle.create("bpmn:Documentation", { text: text })] : [] });
  }

  function leafLanes() {
    return registry.filter(function (e) {
      var bo = e.businessObject;
      return e.type === "bpmn:Lane" && !(bo.childLaneSet && bo.childLaneSet.lanes && bo.childLaneSet.lanes.length);
    });
  }

  function laneOf(element) {
    var bo = element.businessObject;
    return leafLanes().filter(function (lane) {
      return (lane.businessObject.get("flowNodeRef") || []).indexOf(bo) >= 0;
    })[0] || null;
  }

  function moveToLane(element, lane) {
    var delta = { x: 0, y: Math.round(lane.y + lane.height / 2 - (element.y + element.height / 2)) };
    if (delta.y) modeling.moveElements([element], delta, element.parent);
    var now = laneOf(element);
    if (!now || now.id !== lane.id) {  // the move did not land in the lane: say so, never pretend
      say("Could not move the element into the lane " + (lane.businessObject.name || lane.id) + ".", "bad");
    }
  }

  function timerDefinition(element) {
    var defs = element.businessObject.get("eventDefinitions") || [];
    return defs.filter(function (d) { return d.$type === "bpmn:TimerEventDefinition"; })[0] || null;
  }

  function timerValue(definition) {
    for (var i = 0; i < TIMER_KINDS.length; i++) {
      var expression = definition.get(TIMER_KINDS[i][0]);
      if (expression) return { kind: TIMER_KINDS[i][0], body: expression.body || "" };
    }
    return { kind: "timeDuration", body: "" };
  }

  function setTimer(element, definition, kind, body) {
    var changes = { timeDuration: undefined, timeCycle: undefined, timeDate: undefined };
    changes[kind] = moddle.create("bpmn:FormalExpression", { body: body || "" });
    modeling.updateModdleProperties(element, definition, changes);
  }

  // ------------------------------------------------------------------ ISO 8601 helper (same rules as workflows.periods)
  var PERIOD = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

  function parsePeriod(text) {
    var m = PERIOD.exec(text);
    if (!m) return null;
    var n = m.slice(1).map(function (v) { return v ? parseInt(v, 10) : 0; });
    return { months: n[0] * 12 + n[1], ms: (((n[2] * 7 + n[3]) * 24 + n[4]) * 60 + n[5]) * 60000 + n[6] * 1000 };
  }

  function addPeriod(start, period, times) {
    var d = new Date(start.getTime());
    if (period.months) {
      var day = d.getUTCDate();
      d.setUTCDate(1);
      d.setUTCMonth(d.getUTCMonth() + period.months * times);
      var last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
      d.setUTCDate(Math.min(day, last));
    }
    return new Date(d.getTime() + period.ms * times);
  }

  function buildPeriod(amount, unitIndex) {
    var unit = UNITS[unitIndex];
    return (unit[2] ? "PT" : "P") + amount + unit[0];
  }

  /* The next (up to) three due times of a timer expression that is a literal string; null for data names. */
  function dueTimes(kind, body, now) {
    var literal = /^\s*["'](.*)["']\s*$/.exec(body || "");
    if (!literal) return null;
    var value = literal[1].trim();
    if (kind === "timeDate") {
      var at = new Date(value);
      return isNaN(at) ? [] : [at];
    }
    if (kind === "timeDuration") {
      var p = parsePeriod(value);
      return p ? [addPeriod(now, p, 1)] : [];
    }
    var parts = value.split("/");  // R[n]/[start/]period
    var rep = /^R(\d*)$/.exec(parts[0] || "");
    if (!rep || parts.length < 2) return [];
    var count = rep[1] === "" ? Infinity : parseInt(rep[1], 10);
    var start = parts.length === 3 ? new Date(parts[1]) : now;
    var period = parsePeriod(parts[parts.length - 1]);
    if (!period || isNaN(start)) return [];
    var times = [];
    for (var k = 1; times.length < 3 && k <= count && k < 100000; k++) {
      var due = addPeriod(start, period, k);
      if (due > now) times.push(due);
    }
    return times;
  }

  // ------------------------------------------------------------------ the properties panel
  function field(label, control, hint) {
    var id = "prop-" + label.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    control.id = id;
    return h("div", { "class": "field" }, [h("label", { "for": id, text: label }), control,
      hint ? h("p", { "class": "hint", text: hint }) : null]);
  }

  var applying = false;  // true while the panel writes: its own changes must not redraw it under the user

  function onCommit(control, apply) {
    control.addEventListener("change", function () {
      applying = true;
      try { apply(control.value); } finally { applying = false; }
    });
  }

  function render(element) {
    current = element;
    propsBody.textContent = "";
    if (!element) { propsBody.appendChild(h("p", { "class": "muted", text: "Select an element on the canvas." })); return; }
    var bo = element.businessObject;
    propsBody.appendChild(h("p", { "class": "small" }, [
      h("code", { id: "prop-id", text: element.id }), " ", h("span", { "class": "muted", text: element.type.replace("bpmn:", "") })]));

    if (element.type !== "label") {
      var name = h("input", { type: "text", value: bo.name || "" });
      onCommit(name, function (v) { modeling.updateLabel(element, v); });
      propsBody.appendChild(field("Name", name));
    }

    if (is(element, "bpmn:FlowNode")) {
      var lanes = leafLanes();
      var here = laneOf(element);
      if (lanes.length) {
        var laneSelect = h("select", {}, lanes.map(function (lane) {
          return h("option", { value: lane.id, selected: here && here.id === lane.id, text: lane.businessObject.name || lane.id });
        }));
        if (!here) laneSelect.insertBefore(h("option", { value: "", selected: true, text: "(no lane)" }), laneSelect.firstChild);
        laneSelect.disabled = !!element.host;  // a boundary event sits on its task's lane
        onCommit(laneSelect, function (id) { if (id) moveToLane(element, registry.get(id)); render(element); });
        propsBody.appendChild(field("Lane", laneSelect, element.host ? "A boundary event is in its task's lane." :
          "Moving between lanes moves the element on the canvas."));
      } else {
        propsBody.appendChild(h("p", { "class": "muted small", text: "This process has no lanes." }));
      }
    }

    if (is(element, "bpmn:UserTask") || is(element, "bpmn:ManualTask")) {
      propsBody.appendChild(formSelect("Form (JSON Schema)", FORM, element, ".schema.json"));
      propsBody.appendChild(formSelect("Form layout (UI schema)", UI, element, ".uischema.json"));
      var instr = h("textarea", { rows: "3", value: instructions(element) });
      onCommit(instr, function (v) { setInstructions(element, v.trim()); });
      propsBody.appendChild(field("Instructions for the person (Markdown)", instr));
      var due = h("input", { type: "text", id: "prop-due-in", value: property(element, "dueIn"), placeholder: "e.g. P5D" });
      onCommit(due, function (v) { setProperty(element, "dueIn", v); });
      propsBody.appendChild(field("Due within", due, "An ISO 8601 period from when the task is ready (P5D: five days, " +
        "PT4H: four hours), or the name of a data field holding one. The inbox, the agenda and the reminders use it."));
    }

    if (element.type === "bpmn:StartEvent" && !(element.businessObject.get("eventDefinitions") || []).length &&
        !(element.parent && element.parent.type === "bpmn:SubProcess")) {
      var roles = h("input", { type: "text", id: "prop-start-roles", value: property(element, "start_roles"),
                               placeholder: "e.g. staff, ser" });
      onCommit(roles, function (v) { setProperty(element, "start_roles", v.split(/[\s,;]+/).filter(Boolean).join(", ")); });
      propsBody.appendChild(field("Who may start it (roles)", roles, "People with one of these roles find the process " +
        "under Start. Leave empty for a process that only the product or another process starts."));
      propsBody.appendChild(formSelect("Start form (JSON Schema)", "start_form", element, ".schema.json"));
      var titleField = h("input", { type: "text", value: property(element, "start_title"), placeholder: "e.g. title" });
      onCommit(titleField, function (v) { setProperty(element, "start_title", v); });
      propsBody.appendChild(field("Start form field naming the instance", titleField));
    }

    if (is(element, "bpmn:FlowNode")) {
      var reqs = h("input", { type: "text", value: property(element, REQS), list: "requirement-ids" });
      onCommit(reqs, function (v) { setProperty(element, REQS, v.split(/[\s,;]+/).filter(Boolean).join(", ")); });
      propsBody.appendChild(field("Requirement ids", reqs, "Ids from the requirements catalogue this element evidences, e.g. S1.02, S1.06"));
    }

    var timer = is(element, "bpmn:Event") ? timerDefinition(element) : null;
    if (timer) propsBody.appendChild(timerEditor(element, timer));

    if (element.type === "bpmn:SequenceFlow") {
      var source = bo.sourceRef;
      var fromGateway = source && (source.$instanceOf("bpmn:ExclusiveGateway") || source.$instanceOf("bpmn:InclusiveGateway") ||
                                   source.$instanceOf("bpmn:ComplexGateway"));
      if (fromGateway || bo.conditionExpression) {
        var isDefault = source && source.default === bo;
        var cond = h("textarea", { rows: "2", value: bo.conditionExpression ? bo.conditionExpression.body || "" : "" });
        cond.disabled = isDefault;
        onCommit(cond, function (v) {
          v = v.trim();
          modeling.updateProperties(element, { conditionExpression: v ? moddle.create("bpmn:FormalExpression", { body: v }) : undefined });
        });
        propsBody.appendChild(field("Condition", cond, isDefault ? "This is the gateway's default flow: it is taken when no condition holds." :
          "A Python-like expression over the task data, e.g. decision == \"approve\""));
      }
    }

    var doc = h("textarea", { rows: "3", value: documentation(element) });
    onCommit(doc, function (v) { setDocumentation(element, v.trim()); });
    propsBody.appendChild(field("Documentation", doc));

    if (is(element, "bpmn:FlowNode") && !is(element, "bpmn:EndEvent")) {
      var outgoing = (element.outgoing || []).filter(function (c) { return c.type === "bpmn:SequenceFlow"; });
      if (outgoing.length === 1) {
        propsBody.appendChild(h("div", { "class": "actions" }, [h("button", {
          type: "button", "class": "secondary small", id: "insert-task", text: "Insert a user task after",
          onclick: function () { insertTaskAfter(element, outgoing[0]); } })]));
      }
    }
  }

  function formSelect(label, key, element, suffix) {
    var value = property(element, key);
    var names = forms.filter(function (n) { return n.slice(-suffix.length) === suffix; });
    if (suffix === ".schema.json") names = names.filter(function (n) { return n.slice(-14) !== ".uischema.json"; });
    var select = h("select", {}, [h("option", { value: "", text: "(none)" })].concat(names.map(function (n) {
      return h("option", { value: n, selected: n === value, text: n });
    })));
    if (value && names.indexOf(value) < 0) select.appendChild(h("option", { value: value, selected: true, text: value + " (not in this version)" }));
    onCommit(select, function (v) { setProperty(element, key, v); });
    return field(label, select);
  }

  function timerEditor(element, definition) {
    var value = timerValue(definition);
    var wrap = h("fieldset", { "class": "group", id: "timer" }, [h("legend", { text: "Timer" })]);
    var kind = h("select", { id: "timer-kind" }, TIMER_KINDS.map(function (k) {
      return h("option", { value: k[0], selected: k[0] === value.kind, text: k[1] });
    }));
    var expr = h("input", { type: "text", id: "timer-expression", value: value.body });
    var due = h("ol", { "class": "due", id: "timer-due" });
    function refresh() {
      due.textContent = "";
      var times = dueTimes(kind.value, expr.value, new Date());
      if (times === null) { due.appendChild(h("li", { text: "computed from the task data when the timer is reached" })); return; }
      if (!times.length) { due.appendChild(h("li", { text: "not a valid ISO 8601 value" })); return; }
      times.forEach(function (t) { due.appendChild(h("li", { text: t.toISOString().replace("T", " ").slice(0, 16) + " UTC" })); });
    }
    function apply() {
      applying = true;
      try { setTimer(element, definition, kind.value, expr.value.trim()); } finally { applying = false; }
      refresh();
    }
    kind.addEventListener("change", apply);
    expr.addEventListener("change", apply);
    expr.addEventListener("input", refresh);
    wrap.appendChild(h("div", { "class": "field" }, [h("label", { "for": "timer-kind", text: "Kind" }), kind]));
    wrap.appendChild(h("div", { "class": "field" }, [h("label", { "for": "timer-expression", text: "Expression" }), expr,
      h("p", { "class": "hint", text: "A quoted ISO 8601 value (\"P5D\", \"R/P1M\", \"2026-03-01T09:00:00Z\") or a data name." })]));
    var amount = h("input", { type: "number", min: "1", value: "1", id: "timer-amount", "aria-label": "Amount" });
    var unit = h("select", { id: "timer-unit", "aria-label": "Unit" }, UNITS.map(function (u, i) {
      return h("option", { value: String(i), selected: i === 2, text: u[1] });
    }));
    var repeat = h("input", { type: "number", min: "1", id: "timer-repeat", placeholder: "∞", "aria-label": "Repetitions (cycle; empty = forever)" });
    var use = h("button", { type: "button", "class": "secondary small", id: "timer-build", text: "Use",
      onclick: function () {
        var n = Math.max(1, parseInt(amount.value, 10) || 1);
        var period = buildPeriod(n, parseInt(unit.value, 10));
        var text = kind.value === "timeCycle" ? "R" + (repeat.value ? Math.max(1, parseInt(repeat.value, 10)) : "") + "/" + period : period;
        if (kind.value === "timeDate") { kind.value = "timeDuration"; text = period; }
        expr.value = "\"" + text + "\"";
        apply();
      } });
    wrap.appendChild(h("div", { "class": "field" }, [h("span", { "class": "label", text: "Build it" }),
      h("div", { "class": "inline-fields" }, ["every / after", amount, unit, "×", repeat, use])]));
    wrap.appendChild(h("div", { "class": "field" }, [h("span", { "class": "label", text: "Next due (from now)" }), due]));
    refresh();
    return wrap;
  }

  function insertTaskAfter(element, flow) {
    var target = flow.target;
    var shape = elementFactory.createShape({ type: "bpmn:UserTask" });
    var start = element.x + element.width + 1, gap = shape.width + 60;
    try {  // make room to the right, as the space tool does, so the new task does not sit on others
      var all = registry.filter(function (e) { return e !== canvas.getRootElement() && !e.labelTarget; });
      var adjust = modeler.get("spaceTool").calculateAdjustments(all, "x", gap, start);
      modeling.createSpace(adjust.movingShapes, adjust.resizingShapes, { x: gap, y: 0 }, "e", start);
    } catch (e) { /* no room made: the task is placed anyway */ }
    var position = { x: start + 30 + shape.width / 2, y: element.y + element.height / 2 };
    var created = modeling.createShape(shape, position, element.parent);
    modeling.reconnectEnd(flow, created, { x: created.x + created.width / 2, y: created.y + created.height / 2 });
    modeling.connect(created, target);
    selection.select(created);
    say("Inserted a user task after " + (element.businessObject.name || element.id) + ": name it, pick its lane and form.");
  }

  // ------------------------------------------------------------------ problems on the canvas
  function clearProblems() {
    problemMarks.forEach(function (id) { if (registry.get(id)) canvas.removeMarker(id, "cf-problem"); });
    problemMarks = [];
    box.setAttribute("data-problems", "");
  }

  function showProblems(problems, heading) {
    clearProblems();
    var card = document.getElementById("problems-card");
    var host = document.getElementById("problems");
    host.textContent = "";
    if (!problems.length) { card.hidden = true; return; }
    card.hidden = false;
    document.getElementById("problems-h").textContent = heading;
    var rows = problems.map(function (p) {
      var here = (!p.file || p.file === fileName) && p.element_id && registry.get(p.element_id);
      if (here) { canvas.addMarker(p.element_id, "cf-problem"); problemMarks.push(p.element_id); }
      return h("tr", { "data-element": p.element_id || "" }, [
        h("td", {}, [h("span", { "class": "badge " + (p.severity === "error" ? "stop" : "rework"), text: p.severity })]),
        h("td", { text: p.file || "" }),
        h("td", {}, [p.element_id ? (here ? h("button", { type: "button", "class": "link", text: p.element_id,
          onclick: function () { selection.select(registry.get(p.element_id)); canvas.scrollToElement(registry.get(p.element_id)); } })
          : h("code", { text: p.element_id })) : null, p.element_name ? " " + p.element_name : null]),
        h("td", { "class": "num", text: p.line ? String(p.line) : "" }),
        h("td", { text: p.message })]);
    });
    host.appendChild(h("table", { "class": "list small", id: "problem-table" }, [
      h("thead", {}, [h("tr", {}, ["Severity", "File", "Element", "Line", "Problem"].map(function (t) { return h("th", { scope: "col", text: t }); }))]),
      h("tbody", {}, rows)]));
    box.setAttribute("data-problems", problemMarks.join(" "));
  }

  // ------------------------------------------------------------------ talking to the server
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      return response.json().catch(function () { return { message: "HTTP " + response.status }; })
        .then(function (json) { return { status: response.status, body: json }; });
    });
  }

  function xml() {
    return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
  }

  function busy(on) {
    ["save-draft", "validate", "deploy"].forEach(function (id) { document.getElementById(id).disabled = on; });
  }

  function setDirty(on) { dirty = on; document.getElementById("dirty").hidden = !on; }

  function saveDraft() {
    busy(true); say("Saving your draft…");
    return xml().then(function (text) { return post(root.getAttribute("data-draft-url"), { xml: text }); })
      .then(function (r) {
        if (r.status !== 200) { say("Not saved: " + (r.body.message || r.status), "bad"); return; }
        setDirty(false);
        document.getElementById("source").textContent = "your draft (saved just now)";
        say("Draft saved.", "ok");
      }).catch(function (e) { say("Not saved: " + e.message, "bad"); }).finally(function () { busy(false); });
  }

  function validate() {
    busy(true); say("Validating with the latest version's files…");
    return xml().then(function (text) { return post(root.getAttribute("data-validate-url"), { xml: text }); })
      .then(function (r) {
        if (r.status !== 200) { say("Could not validate: " + (r.body.message || r.status), "bad"); return; }
        var errors = r.body.problems.filter(function (p) { return p.severity === "error"; });
        showProblems(r.body.problems, errors.length ? errors.length + " error(s)" : "Warnings");
        say(errors.length ? "Validation found " + errors.length + " error(s): see the list and the marked elements." :
            "Valid: no errors" + (r.body.problems.length ? " (" + r.body.problems.length + " warning(s))" : "") + ".",
            errors.length ? "bad" : "ok");
      }).catch(function (e) { say("Could not validate: " + e.message, "bad"); }).finally(function () { busy(false); });
  }

  function deploy() {
    var message = document.getElementById("deploy-message");
    if (!message.value.trim()) { say("Say what changed in the deploy message first.", "bad"); message.focus(); return; }
    busy(true); say("Deploying…");
    return xml().then(function (text) { return post(root.getAttribute("data-deploy-url"), { xml: text, message: message.value }); })
      .then(function (r) {
        if (r.status === 200 && r.body.ok) {
          setDirty(false);
          showProblems(r.body.problems, "Warnings");
          statusLine.textContent = "";
          statusLine.className = "status-line ok";
          statusLine.appendChild(document.createTextNode("Deployed version " + r.body.version_id + ". "));
          statusLine.appendChild(h("a", { href: r.body.url, text: "See the version history" }));
          document.getElementById("source").textContent = "version " + r.body.version_id;
          return;
        }
        if (r.body.problems) {
          showProblems(r.body.problems, "Deploy refused");
          say("Deploy refused: nothing changed. Fix the problems listed below.", "bad");
        } else {
          say("Deploy refused: " + (r.body.message || r.status), "bad");
        }
      }).catch(function (e) { say("Could not deploy: " + e.message, "bad"); }).finally(function () { busy(false); });
  }

  /* Bytes -> text in the encoding the XML declaration names (files from other tools may be ISO-8859-1). */
  function decode(buffer) {
    var head = new TextDecoder("latin1").decode(new Uint8Array(buffer, 0, Math.min(200, buffer.byteLength)));
    var named = /^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']/.exec(head);
    try { return new TextDecoder(named ? named[1] : "utf-8").decode(buffer); }
    catch (e) { return new TextDecoder("utf-8").decode(buffer); }
  }

  // ------------------------------------------------------------------ start
  document.addEventListener("DOMContentLoaded", function () {
    var status = box.querySelector(".diagram-status");
    if (typeof window.BpmnJS !== "function") { status.textContent = "The modeller did not load."; return; }
    modeler = new window.BpmnJS({ container: box.querySelector(".canvas"), moddleExtensions: { spiffworkflow: SPIFF } });
    modeling = modeler.get("modeling"); moddle = modeler.get("moddle"); registry = modeler.get("elementRegistry");
    canvas = modeler.get("canvas"); selection = modeler.get("selection"); elementFactory = modeler.get("elementFactory");
    window.collabflowModeler = modeler;  // for people debugging in the console, and the browser tests
    fetch(root.getAttribute("data-xml"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.arrayBuffer(); })
      .then(decode)
      .then(function (text) { return modeler.importXML(text); })
      .then(function (result) {
        canvas.zoom("fit-viewport", "auto");
        box.classList.add("ready");
        box.setAttribute("data-drawn", "true");
        if (result.warnings && result.warnings.length) {
          var warn = document.getElementById("import-warnings");
          warn.hidden = false;
          warn.textContent = "bpmn-js could not read " + result.warnings.length + " part(s) of this file; saving would drop them: " +
            result.warnings.slice(0, 5).map(function (w) { return w.message; }).join("; ");
        }
        modeler.on("selection.changed", function (e) { render(e.newSelection.length === 1 ? e.newSelection[0] : null); });
        modeler.on("commandStack.changed", function () { setDirty(true); });
        modeler.on("element.changed", function (e) {
          if (!applying && current && e.element === current && !propsBody.contains(document.activeElement)) render(current);
        });
        document.getElementById("save-draft").addEventListener("click", saveDraft);
        document.getElementById("validate").addEventListener("click", validate);
        document.getElementById("deploy").addEventListener("click", deploy);
      })
      .catch(function (error) {
        status.textContent = "This diagram cannot be opened (" + (error.message || error) + ").";
        box.setAttribute("data-drawn", "error");
      });
  });
})();
