/* The process owner's modeller: bpmn-js Modeler + a properties panel that writes into the BPMN XML
   (names, lanes, SpiffWorkflow forms/requirements/instructions, service-task connectors and their parameters,
   timers, conditions, documentation, due periods, ids), then save as draft, validate and deploy through the
   workbench's JSON endpoints. The canvas fills the window, keeps each diagram's last zoom and scroll, and fits
   beside the palette. No inline script (CSP). */
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
      { name: "CalledDecisionId", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      // a service task's connector, as SpiffArena writes it: serviceTaskOperator id=... > parameters > parameter
      { name: "ServiceTaskOperator", superClass: ["Element"],
        properties: [{ name: "id", type: "String", isAttr: true }, { name: "resultVariable", type: "String", isAttr: true },
                     { name: "parameterList", type: "Parameters" }] },
      { name: "Parameters", superClass: ["Element"], properties: [{ name: "parameters", type: "Parameter", isMany: true }] },
      { name: "Parameter", superClass: ["Element"],
        properties: [{ name: "id", type: "String", isAttr: true }, { name: "name", type: "String", isAttr: true },
                     { name: "type", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
      // a multi-instance task whose pre/post-scripts run once per instance
      { name: "ScriptsOnInstances", isAbstract: true, extends: ["bpmn:MultiInstanceLoopCharacteristics"],
        properties: [{ name: "scriptsOnInstances", type: "Boolean", isAttr: true }] }
    ]
  };
  var BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL";
  var COLLECTIONS = ["loopDataInputRef", "loopDataOutputRef"];
  var FORM = "formJsonSchemaFilename", UI = "formUiSchemaFilename", REQS = "requirements";
  var TIMER_KINDS = [["timeDuration", "Duration (once, after)"], ["timeCycle", "Cycle (repeating)"], ["timeDate", "Date (at)"]];
  var UNITS = [["M", "minutes", true], ["H", "hours", true], ["D", "days", false], ["W", "weeks", false],
               ["M", "months", false], ["Y", "years", false]];

  var root = document.getElementById("modeller");
  if (!root) return;
  var box = document.getElementById("canvas-box");
  var statusLine = document.getElementById("status");
  var propsBody = document.getElementById("props-body");
  var fileName = root.getAttribute("data-file");
  var forms = JSON.parse(root.getAttribute("data-forms") || "[]");
  var connectors = JSON.parse(root.getAttribute("data-connectors") || "[]");
  var decisions = JSON.parse(root.getAttribute("data-decisions") || "[]");  // [{id, name, file}]
  var callers = JSON.parse(root.getAttribute("data-callers") || "{}");  // {process id: ["file (call activity)"]}
  var pageUrl = root.getAttribute("data-page-url");
  var showAllForms = false;
  var modeler, modeling, moddle, registry, canvas, selection, elementFactory;
  var current = null, problemMarks = [];
  // the status line, elements, the server and save draft / validate / deploy: shared with the table editor
  var workbench = window.collabflow.workbench({ root: root, statusLine: statusLine, xml: xml,
                                               showProblems: showProblems, marked: "elements" });
  var say = workbench.say, h = workbench.h, post = workbench.post, busy = workbench.busy,
      setDirty = workbench.setDirty;

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

  // a service task's connector: the operator's id and its parameters' expressions (SpiffWorkflow reads `id`;
  // some tools write `name`, which is read here too and rewritten as `id`)
  function operator(element, create) {
    return extension(element, "spiffworkflow:ServiceTaskOperator", create);
  }

  function connectorParams(op) {
    var list = op && op.get("parameterList");
    var found = {};
    (list ? list.get("parameters") : []).forEach(function (p) { found[p.get("id") || p.get("name")] = p.get("value") || ""; });
    return found;
  }

  function setConnector(element, id) {
    var ext = extensions(element, !!id);
    if (!ext) return;
    var op = operator(element, false);
    if (!id) {
      if (op) modeling.updateModdleProperties(element, ext, { values: ext.get("values").filter(function (v) { return v !== op; }) });
      return;
    }
    var wanted = connectors.filter(function (c) { return c.id === id; })[0];
    var kept = connectorParams(op);  // values of parameters the new connector has too are kept
    var params = (wanted ? wanted.parameters : []).filter(function (p) { return kept[p.name]; }).map(function (p) {
      return moddle.create("spiffworkflow:Parameter", { id: p.name, type: "any", value: kept[p.name] });
    });
    var list = moddle.create("spiffworkflow:Parameters", { parameters: params });
    if (op) modeling.updateModdleProperties(element, op, { id: id, parameterList: list });
    else modeling.updateModdleProperties(element, ext, {
      values: ext.get("values").concat([moddle.create("spiffworkflow:ServiceTaskOperator", { id: id, parameterList: list })]) });
  }

  function setParameter(element, name, value) {
    var op = operator(element, false);
    if (!op) return;
    value = (value || "").trim();
    var list = op.get("parameterList");
    if (!list) {
      list = moddle.create("spiffworkflow:Parameters", { parameters: [] });
      modeling.updateModdleProperties(element, op, { parameterList: list });
    }
    var params = list.get("parameters");
    var found = params.filter(function (p) { return (p.get("id") || p.get("name")) === name; })[0];
    if (!value) {
      if (found) modeling.updateModdleProperties(element, list, { parameters: params.filter(function (p) { return p !== found; }) });
    } else if (found) {
      modeling.updateModdleProperties(element, found, { id: name, name: undefined, type: found.get("type") || "any", value: value });
    } else {
      modeling.updateModdleProperties(element, list, {
        parameters: params.concat([moddle.create("spiffworkflow:Parameter", { id: name, type: "any", value: value })]) });
    }
  }

  /* A body-valued SpiffWorkflow extension (spiffworkflow:calledDecisionId, ...): its text, or "" when absent. */
  function bodyExtension(element, type) {
    var found = extension(element, type, false);
    return found ? found.value || "" : "";
  }

  function setBodyExtension(element, type, text) {
    var ext = extensions(element, !!text);
    if (!ext) return;
    var found = extension(element, type, false);
    if (!text) {
      if (found) modeling.updateModdleProperties(element, ext, { values: ext.get("values").filter(function (v) { return v !== found; }) });
    } else if (found) {
      modeling.updateModdleProperties(element, found, { value: text });
    } else {
      modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([moddle.create(type, { value: text })]) });
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
    if (!element) {
      propsBody.appendChild(h("p", { "class": "muted", text: "Select an element on the canvas." }));
      var top = canvas ? canvas.getRootElement() : null;
      var process = top && processOf(top);
      if (process) propsBody.appendChild(idEditor(top, process));
      extraSections(top, true);
      return;
    }
    var bo = element.businessObject;
    propsBody.appendChild(h("p", { "class": "small" }, [
      h("code", { id: "prop-id", text: element.id }), " ", h("span", { "class": "muted", text: element.type.replace("bpmn:", "") })]));
    if (element.type !== "label") {
      var name = h("input", { type: "text", value: bo.name || "" });
      onCommit(name, function (v) { modeling.updateLabel(element, v); });
      propsBody.appendChild(field("Name", name));
      propsBody.appendChild(idEditor(element));
    }
    if (is(element, "bpmn:Participant") && processOf(element)) propsBody.appendChild(idEditor(element, processOf(element)));

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
      var filter = formFilter(element);
      if (filter) propsBody.appendChild(filter);
      propsBody.appendChild(formSelect("Form (JSON Schema)", FORM, element, ".schema.json"));
      propsBody.appendChild(formSelect("Form layout (UI schema)", UI, element, ".uischema.json"));
      if (is(element, "bpmn:UserTask")) propsBody.appendChild(newFormButton(element));
      var instr = h("textarea", { rows: "3", value: instructions(element) });
      onCommit(instr, function (v) { setInstructions(element, v.trim()); });
      propsBody.appendChild(field("Instructions for the person (Markdown)", instr));
      propsBody.appendChild(dueEditor(element));
    }

    if (is(element, "bpmn:ServiceTask")) connectorEditor(element);
    if (is(element, "bpmn:BusinessRuleTask")) propsBody.appendChild(decisionSelect(element));

    if (element.type === "bpmn:StartEvent" && !(element.businessObject.get("eventDefinitions") || []).length &&
        !(element.parent && element.parent.type === "bpmn:SubProcess")) {
      var roles = h("input", { type: "text", id: "prop-start-roles", value: property(element, "start_roles"),
                               placeholder: "e.g. staff, ser" });
      onCommit(roles, function (v) { setProperty(element, "start_roles", v.split(/[\s,;]+/).filter(Boolean).join(", ")); });
      propsBody.appendChild(field("Who may start it (roles)", roles, "People with one of these roles find the process " +
        "under Start. Leave empty for a process that only the product or another process starts."));
      var startFilter = formFilter(element);
      if (startFilter) propsBody.appendChild(startFilter);
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
    extraSections(element, false);

    if (is(element, "bpmn:FlowNode") && !is(element, "bpmn:EndEvent")) {
      var outgoing = (element.outgoing || []).filter(function (c) { return c.type === "bpmn:SequenceFlow"; });
      if (outgoing.length === 1) {
        propsBody.appendChild(h("div", { "class": "actions" }, [h("button", {
          type: "button", "class": "secondary small", id: "insert-task", text: "Insert a user task after",
          onclick: function () { insertTaskAfter(element, outgoing[0]); } }), " ", h("button", {
          type: "button", "class": "secondary small", id: "insert-service-task", text: "Insert a service task after",
          onclick: function () { insertTaskAfter(element, outgoing[0], "bpmn:ServiceTask"); } })]));
      }
    }
  }

  // ------------------------------------------------------------------ routine edits: ids and due periods
  // An XML NCName (what BPMN ids are): a letter or "_" first, then letters, digits, "_", "-" or "."; no ":" or spaces.
  var NCNAME = /^[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][A-Za-z0-9_.\-\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*$/;

  /* Why `id` cannot be the new id of `target` (a business object), or "" when it can. */
  function idProblem(target, id) {
    if (!id) return "An id is required.";
    if (!NCNAME.test(id)) return "An id starts with a letter or _ and holds only letters, digits, _, - and . " +
      "(no spaces or colons), e.g. s5_review_budget.";
    var shape = registry.get(id);
    var taken = (shape && shape.businessObject) || (moddle.ids && moddle.ids.assigned(id));
    if (taken && taken !== target) return "Another element of this diagram has the id " + id + ".";
    return "";
  }

  /* The process a root or a pool stands for: the root itself, or the pool's process (a collaboration's root
     stands for its one pool's process). */
  function processOf(element) {
    var bo = element.businessObject;
    if (bo.$instanceOf("bpmn:Process")) return bo;
    if (bo.$instanceOf("bpmn:Participant")) return bo.processRef || null;
    if (bo.$instanceOf("bpmn:Collaboration")) {
      var pools = (bo.participants || []).filter(function (p) { return p.processRef; });
      return pools.length === 1 ? pools[0].processRef : null;
    }
    return null;
  }

  /* An id, editable: checked beside the field; bpmn-js renames it with its flows, lanes, defaults and layout.
     `process`: the process's id (a pool's or the root's) instead of the element's own. */
  function idEditor(element, process) {
    var target = process || element.businessObject, key = process ? "prop-process-id" : "prop-element-id";
    var input = h("input", { type: "text", id: key, value: target.id, spellcheck: "false", autocomplete: "off",
                             "aria-describedby": key + "-error " + key + "-hint" });
    var error = h("p", { "class": "field-error", id: key + "-error", role: "alert" });
    var called = process ? callers[target.id] || [] : [];
    var hint = process ? (called.length ? "Other diagrams call this process by its id: " + called.join(", ") +
      ". Renaming it here does not rename it there: change their called process too, or the deploy refuses the " +
      "version." : "No other diagram calls this process by its id.") :
      "What the product, the API, the problems list and version diffs call it. Running relationships at this " +
      "element see a renamed id as a removed and an added element when they move to the new version.";
    input.addEventListener("change", function () {
      var id = input.value.trim(), old = target.id;
      if (id === old) { error.textContent = ""; input.removeAttribute("aria-invalid"); return; }
      var why = idProblem(target, id);
      if (why) {
        error.textContent = why + " The id stays " + old + ".";
        input.setAttribute("aria-invalid", "true");
        return;
      }
      error.textContent = "";
      input.removeAttribute("aria-invalid");
      applying = true;
      try {
        if (target === element.businessObject) modeling.updateProperties(element, { id: id });
        else modeling.updateModdleProperties(element, target, { id: id });
      } finally { applying = false; }
      say("Renamed " + old + " to " + id + (called.length ? ": rename the called process in " + called.join(", ") +
          " too." : "."), called.length ? "bad" : "ok");
      render(current);
    });
    return h("div", { "class": "field" }, [h("label", { "for": key, text: process ? "Process id" : "Id" }), input, error,
      h("p", { "class": called.length ? "hint warn" : "hint", id: key + "-hint", text: hint })]);
  }

  var PERIOD_WORDS = ["year", "month", "week", "day", "hour", "minute", "second"];

  /* "P1M2D" -> "1 month 2 days"; null when not an ISO 8601 period. */
  function describePeriod(text) {
    var m = PERIOD.exec(text);
    if (!m) return null;
    var parts = m.slice(1).map(function (v, i) {
      var n = v ? parseInt(v, 10) : 0;
      return n ? n + " " + PERIOD_WORDS[i] + (n === 1 ? "" : "s") : "";
    }).filter(Boolean);
    return parts.length ? parts.join(" ") : null;
  }

  /* The due period of a user task or gate (spiffworkflow property dueIn): an ISO 8601 period built from an
     amount and a unit, as the timer editor builds one, or the name of a data field holding one. */
  function dueEditor(element) {
    var value = property(element, "dueIn");
    var wrap = h("fieldset", { "class": "group", id: "due" }, [h("legend", { text: "Due period" })]);
    var input = h("input", { type: "text", id: "prop-due-in", value: value, placeholder: "e.g. P5D, or a data field's name",
                             "aria-describedby": "due-meaning" });
    var meaning = h("p", { "class": "hint", id: "due-meaning", "aria-live": "polite" });
    function explain(text) {
      meaning.classList.remove("field-error");
      if (!text) { meaning.textContent = "No due time: the task waits as long as it takes."; return true; }
      var words = describePeriod(text);
      if (words) { meaning.textContent = "Due " + words + " after the task is ready (" + text + ")."; return true; }
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) {
        meaning.textContent = "Due after the period held in the data field " + text + " (an ISO 8601 period such as P5D).";
        return true;
      }
      meaning.textContent = text + " is neither an ISO 8601 period (P5D, PT4H, P1M) nor a data field's name: not saved.";
      meaning.classList.add("field-error");
      return false;
    }
    function apply(text) {
      text = text.trim();
      if (!explain(text)) return;
      applying = true;
      try { setProperty(element, "dueIn", text); } finally { applying = false; }
    }
    input.addEventListener("change", function () { apply(input.value); });
    input.addEventListener("input", function () { explain(input.value.trim()); });
    wrap.appendChild(h("div", { "class": "field" }, [h("label", { "for": "prop-due-in", text: "Due within" }), input, meaning]));
    var amount = h("input", { type: "number", min: "1", value: "5", id: "due-amount", "aria-label": "Due amount" });
    var unit = h("select", { id: "due-unit", "aria-label": "Due unit" }, UNITS.map(function (u, i) {
      return h("option", { value: String(i), selected: i === 2, text: u[1] });
    }));
    var use = h("button", { type: "button", "class": "secondary small", id: "due-build", text: "Set due period",
      onclick: function () {
        input.value = buildPeriod(Math.max(1, parseInt(amount.value, 10) || 1), parseInt(unit.value, 10));
        apply(input.value);
      } });
    wrap.appendChild(h("div", { "class": "field" }, [h("span", { "class": "label", text: "Build it" }),
      h("div", { "class": "inline-fields" }, ["within", amount, unit, use])]));
    wrap.appendChild(h("p", { "class": "hint", text: "The inbox, the agenda and the reminders use it. A data field's " +
      "name (typed above) lets each relationship set its own period." }));
    explain(value);
    return wrap;
  }

  // Further panel sections live in their own files and register here, before or after this file runs:
  //   (window.collabflowPanelSections = window.collabflowPanelSections || []).push(function (element, api) {...})
  // Each is called with the selected element (or the root, the process, when nothing is selected: api.isRoot)
  // and returns a DOM node to append, or null.
  function extraSections(element, isRoot) {
    if (!element) return;
    var api = { h: h, field: field, onCommit: onCommit, modeling: modeling, moddle: moddle, registry: registry,
                canvas: canvas, is: is, extension: extension, extensions: extensions, property: property,
                setProperty: setProperty, bodyExtension: bodyExtension, setBodyExtension: setBodyExtension,
                render: render, say: say, post: post, root: root, fileName: fileName, forms: forms, isRoot: isRoot,
                modeler: modeler };
    (window.collabflowPanelSections || []).forEach(function (section) {
      var node = section(element, api);
      if (node) propsBody.appendChild(node);
    });
  }

  function connectorEditor(element) {
    var op = operator(element, false);
    var chosen = op ? op.get("id") || "" : "";
    var known = connectors.filter(function (c) { return c.id === chosen; })[0];
    var select = h("select", {}, [h("option", { value: "", text: "(none: pick one)" })].concat(connectors.map(function (c) {
      return h("option", { value: c.id, selected: c.id === chosen, text: c.title + " (" + c.id + ")" });
    })));
    if (chosen && !known) select.appendChild(h("option", { value: chosen, selected: true, text: chosen + " (not a connector of this product)" }));
    onCommit(select, function (v) { setConnector(element, v); render(element); });
    propsBody.appendChild(field("Connector", select, known ? known.description :
      "What the service task does: the product's connectors only (a service task calls no other system)."));
    if (!known) return;
    var values = connectorParams(op);
    known.parameters.forEach(function (p) {
      var input = h("input", { type: "text", value: values[p.name] || "", "data-parameter": p.name,
                               placeholder: p.choices.length ? p.choices.map(function (c) { return "'" + c + "'"; }).join(" or ") : "" });
      onCommit(input, function (v) { setParameter(element, p.name, v); });
      var others = known.parameters.filter(function (q) { return q.name !== p.name && known.one_of.indexOf(q.name) >= 0; });
      var needed = p.required ? " (required)" : (known.one_of.indexOf(p.name) >= 0 ? " (this, or " +
        others.map(function (q) { return q.title.toLowerCase(); }).join(", ") + ")" : "");
      propsBody.appendChild(field(p.title + needed, input, (p.description ? p.description + ". " : "") +
        "An expression over the task data: a text in quotes ('like this'), or a data field's name."));
    });
  }

  /* The stage prefixes of this diagram ("s5_" for stage 5): the part before the first "_" of its tasks' ids. */
  function stagePrefixes() {
    var found = {};
    registry.filter(function (e) { return is(e, "bpmn:Activity"); }).forEach(function (e) {
      var m = /^([A-Za-z]+\d*)_/.exec(e.id);
      if (m) found[m[1] + "_"] = true;
    });
    return Object.keys(found);
  }

  /* The form files a select offers: those named for this diagram's stage (s5_* for stage 5) unless the person
     asked for all forms or the stage has none. */
  function formChoices(suffix) {
    var names = forms.filter(function (n) { return n.slice(-suffix.length) === suffix; });
    if (suffix === ".schema.json") names = names.filter(function (n) { return n.slice(-14) !== ".uischema.json"; });
    var prefixes = stagePrefixes();
    var staged = names.filter(function (n) { return prefixes.some(function (p) { return n.indexOf(p) === 0; }); });
    return { names: showAllForms || !staged.length ? names : staged, filtered: !showAllForms && staged.length > 0,
             prefixes: prefixes, all: names.length };
  }

  function uiSchemaFor(schemaName) {
    var ui = schemaName.replace(/\.schema\.json$/, ".uischema.json");
    return schemaName && ui !== schemaName && forms.indexOf(ui) >= 0 ? ui : "";
  }

  function formSelect(label, key, element, suffix) {
    var value = property(element, key);
    var choices = formChoices(suffix);
    var select = h("select", {}, [h("option", { value: "", text: "(none)" })].concat(choices.names.map(function (n) {
      return h("option", { value: n, selected: n === value, text: n });
    })));
    if (value && choices.names.indexOf(value) < 0) {
      select.appendChild(h("option", { value: value, selected: true,
        text: value + (forms.indexOf(value) < 0 ? " (not in this version)" : "") }));
    }
    onCommit(select, function (v) {
      if (key !== FORM) { setProperty(element, key, v); return; }
      // the layout goes with its form: x.schema.json -> x.uischema.json when that file exists
      var before = property(element, FORM), layout = property(element, UI);
      setProperty(element, FORM, v);
      var matching = uiSchemaFor(v);
      if (matching) setProperty(element, UI, matching);
      else if (layout && layout === uiSchemaFor(before)) setProperty(element, UI, "");
      var ui = document.getElementById("prop-form-layout-ui-schema");
      if (ui && property(element, UI) !== ui.value) render(element);
    });
    return field(label, select);
  }

  /* "Show all forms": the form selects list this stage's forms only until the person asks for all of them. */
  function formFilter(element) {
    var probe = formChoices(".schema.json");
    if (!probe.filtered && !showAllForms) return null;
    var box = h("input", { type: "checkbox", id: "show-all-forms", checked: showAllForms });
    box.addEventListener("change", function () { showAllForms = box.checked; render(element); });
    return h("div", { "class": "field checkbox" }, [h("label", { "for": "show-all-forms" }, [box,
      " Show all forms (" + probe.all + ")"]), h("p", { "class": "hint", text: showAllForms ? "All the version's forms." :
      "Listing the forms of this diagram's stage (" + probe.prefixes.join(", ") + "*)." })]);
  }

  /* "New form for this task": the draft is saved first, then the form builder opens; it sends the person back
     here with ?form=<name>.schema.json&ui=<name>.uischema.json&for=<element id> (see applyReturnedForm). */
  function newFormButton(element) {
    return h("div", { "class": "actions" }, [h("button", { type: "button", "class": "secondary small", id: "new-form",
      text: "New form for this task", onclick: function () {
        var go = function () {
          var url = root.getAttribute("data-new-form-url") + "?" + new URLSearchParams({
            "for": element.id, diagram: fileName, "return": pageUrl }).toString();
          window.location.assign(url);
        };
        if (!workbench.isDirty()) { go(); return; }
        say("Saving your draft before opening the form builder…");
        workbench.saveDraft().then(function (saved) { if (saved) go(); });
      } })]);
  }

  /* Back from the form builder (?form=&ui=&for=): put the new form on its task, mark the diagram changed (the
     autosave keeps it) and say so. Anything that does not fit is said and changes nothing. */
  function applyReturnedForm() {
    var args = new URLSearchParams(window.location.search);
    var target = args.get("for"), form = args.get("form") || "", ui = args.get("ui") || "";
    if (!target || !(form || ui)) return;
    if (window.history) {
      args.delete("for"); args.delete("form"); args.delete("ui");
      var rest = args.toString();
      history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
    }
    var element = registry.get(target);
    var safe = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$/;
    if (!element || !(is(element, "bpmn:UserTask") || is(element, "bpmn:ManualTask"))) {
      say("The new form was not set: this diagram has no user task " + target + ".", "bad"); return;
    }
    if ((form && (!safe.test(form) || !/\.schema\.json$/.test(form) || /\.uischema\.json$/.test(form))) ||
        (ui && (!safe.test(ui) || !/\.uischema\.json$/.test(ui)))) {
      say("The new form was not set: " + (form || ui) + " is not a form file's name.", "bad"); return;
    }
    [form, ui].forEach(function (n) { if (n && forms.indexOf(n) < 0) forms.push(n); });
    forms.sort();
    if (form) setProperty(element, FORM, form);
    if (ui) setProperty(element, UI, ui);
    selection.select(element);
    canvas.scrollToElement(element);
    say("The task " + (element.businessObject.name || element.id) + " now shows the form " + (form || ui) +
        (form && ui ? " (layout " + ui + ")" : "") + "; your draft is saved in a few seconds.", "ok");
  }

  /* The decision table a business rule task calls (spiffworkflow:calledDecisionId), from the version's tables. */
  function decisionSelect(element) {
    var type = "spiffworkflow:CalledDecisionId", value = bodyExtension(element, type);
    var select = h("select", {}, [h("option", { value: "", text: "(none)" })].concat(decisions.map(function (d) {
      return h("option", { value: d.id, selected: d.id === value, text: (d.name ? d.name + " (" + d.id + ")" : d.id) + " · " + d.file });
    })));
    var known = decisions.filter(function (d) { return d.id === value; })[0];
    if (value && !known) select.appendChild(h("option", { value: value, selected: true, text: value + " (not in this version)" }));
    var link = h("p", { "class": "hint" });
    function showLink(id) {
      link.textContent = "";
      var table = decisions.filter(function (d) { return d.id === id; })[0];
      if (table) {
        link.appendChild(h("a", { href: root.getAttribute("data-decision-url").replace("FILE", encodeURIComponent(table.file)),
                                  id: "open-decision", text: "Open the decision table " + table.file }));
      } else {
        link.appendChild(document.createTextNode("The decision table whose rules decide here; its outputs become task data."));
      }
    }
    onCommit(select, function (v) { setBodyExtension(element, type, v); showLink(v); });
    showLink(value);
    var wrap = field("Decision table (called decision)", select);
    wrap.appendChild(link);
    return wrap;
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

  function insertTaskAfter(element, flow, type) {
    var target = flow.target;
    var shape = elementFactory.createShape({ type: type || "bpmn:UserTask" });
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
    say(type === "bpmn:ServiceTask" ? "Inserted a service task after " + (element.businessObject.name || element.id) +
        ": name it and pick its connector." :
        "Inserted a user task after " + (element.businessObject.name || element.id) + ": name it, pick its lane and form.");
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
    if (!problems.length) { card.hidden = true; sizeCanvas(); return; }
    card.hidden = false;
    document.getElementById("problems-h").textContent = heading;
    var rows = problems.map(function (p) {
      // a failing scenario names its own file and the element where it failed: marked when this diagram has it
      var here = (!p.file || p.file === fileName || /\.scenario\.json$/.test(p.file)) && p.element_id &&
        registry.get(p.element_id);
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
    sizeCanvas();  // the list above the canvas moved it down: it still ends at the window's bottom
  }

  // ------------------------------------------------------------------ talking to the server
  function xml() {
    return modeler.saveXML({ format: true }).then(function (result) { return keepCollections(result.xml); });
  }

  /* SpiffWorkflow names a multi-instance task's collections by variable (<loopDataInputRef>candidates<...>), where
     bpmn-js expects the id of a data element and drops what it cannot resolve. Remember them when the file is
     read (task id -> {tag: variable}) and put them back into what is saved, for tasks still multi-instance. */
  var collections = {};

  function rememberCollections(text) {
    collections = {};
    var doc = new DOMParser().parseFromString(text, "application/xml");
    Array.prototype.forEach.call(doc.getElementsByTagNameNS(BPMN_NS, "multiInstanceLoopCharacteristics"), function (mi) {
      var task = mi.parentNode && mi.parentNode.getAttribute && mi.parentNode.getAttribute("id");
      if (!task) return;
      COLLECTIONS.forEach(function (tag) {
        var found = mi.getElementsByTagNameNS(BPMN_NS, tag)[0];
        if (found && found.textContent.trim()) (collections[task] = collections[task] || {})[tag] = found.textContent.trim();
      });
    });
    return Object.keys(collections).reduce(function (names, id) {
      COLLECTIONS.forEach(function (tag) { if (collections[id][tag]) names[collections[id][tag]] = true; });
      return names;
    }, {});
  }

  function keepCollections(text) {
    if (!Object.keys(collections).length) return text;
    var doc = new DOMParser().parseFromString(text, "application/xml");
    var changed = false;
    Array.prototype.forEach.call(doc.getElementsByTagNameNS(BPMN_NS, "multiInstanceLoopCharacteristics"), function (mi) {
      var kept = collections[mi.parentNode.getAttribute("id")];
      if (!kept) return;
      COLLECTIONS.forEach(function (tag, index) {
        if (!kept[tag] || mi.getElementsByTagNameNS(BPMN_NS, tag).length) return;
        var made = doc.createElementNS(BPMN_NS, mi.prefix ? mi.prefix + ":" + tag : tag);
        made.textContent = kept[tag];
        // schema order: loopCardinality, loopDataInputRef, loopDataOutputRef, inputDataItem, ...
        var after = Array.prototype.filter.call(mi.children, function (child) {
          return child.localName === "loopCardinality" || COLLECTIONS.indexOf(child.localName) > -1 && COLLECTIONS.indexOf(child.localName) < index;
        });
        var before = after.length ? after[after.length - 1].nextSibling : mi.firstChild;
        mi.insertBefore(made, before);
        changed = true;
      });
    });
    return changed ? new XMLSerializer().serializeToString(doc) : text;
  }

  /* Bytes -> text in the encoding the XML declaration names (files from other tools may be ISO-8859-1). */
  function decode(buffer) {
    var head = new TextDecoder("latin1").decode(new Uint8Array(buffer, 0, Math.min(200, buffer.byteLength)));
    var named = /^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']/.exec(head);
    try { return new TextDecoder(named ? named[1] : "utf-8").decode(buffer); }
    catch (e) { return new TextDecoder("utf-8").decode(buffer); }
  }

  // ------------------------------------------------------------------ the canvas: size, zoom, fit, the kept view
  var VIEW_KEY = "collabflow.modeller.view:" + fileName, PANEL_KEY = "collabflow.modeller.properties";
  var MARGIN = 16, TOOLS_TOP = 48;  // px around a fitted diagram; the zoom buttons' band at the top
  var READABLE = 0.55;  // below this zoom a diagram's labels are too small to read

  function remember(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: not kept */ }
  }

  function recall(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  /* The canvas reaches the bottom of the window (never shorter than 60% of it, so a small window scrolls). */
  function sizeCanvas() {
    var top = box.getBoundingClientRect().top + window.scrollY;
    var height = Math.max(window.innerHeight - top - MARGIN, Math.round(window.innerHeight * 0.6), 320);
    box.style.height = height + "px";
    if (canvas) canvas.resized();
  }

  /* Fit the whole diagram in the part of the canvas the palette leaves free (never above 1:1), so the palette
     covers neither the start event nor the lane labels. `readable`: when the whole diagram would be too small to
     read (a long stage), fit its height instead and start at its left end (the start event); scroll for the rest. */
  function fit(readable) {
    canvas.zoom("fit-viewport");
    var view = canvas.viewbox(), inner = view.inner, outer = view.outer;
    if (!inner.width || !inner.height) return;
    var palette = box.querySelector(".djs-palette");
    var left = (palette ? palette.offsetLeft + palette.offsetWidth : 0) + MARGIN;
    var width = outer.width - left - MARGIN, height = outer.height - TOOLS_TOP - MARGIN;
    var scale = Math.min(width / inner.width, height / inner.height, 1);
    if (readable && scale < READABLE) scale = Math.min(height / inner.height, 1);
    var dy = TOOLS_TOP + Math.max(0, (height - inner.height * scale) / 2);
    canvas.viewbox({ x: inner.x - left / scale, y: inner.y - dy / scale,
                     width: outer.width / scale, height: outer.height / scale });
  }

  function zoomBy(factor) {
    var outer = canvas.viewbox().outer;
    canvas.zoom(Math.min(4, Math.max(0.1, canvas.zoom() * factor)), { x: outer.width / 2, y: outer.height / 2 });
  }

  /* This diagram's last zoom and scroll in this browser, or a fit the first time. */
  function restoreView() {
    var kept = recall(VIEW_KEY);
    if (kept && kept.scale > 0 && isFinite(kept.x) && isFinite(kept.y)) {
      var outer = canvas.viewbox().outer;
      canvas.viewbox({ x: kept.x, y: kept.y, width: outer.width / kept.scale, height: outer.height / kept.scale });
      return true;
    }
    fit(true);
    return false;
  }

  function keepView() {
    var pending = null;
    modeler.on("canvas.viewbox.changed", function (e) {
      clearTimeout(pending);
      pending = setTimeout(function () {
        remember(VIEW_KEY, { x: e.viewbox.x, y: e.viewbox.y, scale: e.viewbox.scale });
      }, 250);
    });
  }

  /* The properties panel folds away for a wider canvas; the choice is kept. */
  function enablePanelToggle() {
    var layout = document.getElementById("modeller-layout");
    var button = document.getElementById("toggle-properties");
    function show(open) {
      layout.classList.toggle("props-hidden", !open);
      button.textContent = open ? "Hide properties" : "Show properties";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      canvas.resized();
    }
    button.addEventListener("click", function () {
      var open = layout.classList.contains("props-hidden");
      remember(PANEL_KEY, { open: open });
      show(open);
    });
    var kept = recall(PANEL_KEY);
    if (kept && kept.open === false) show(false);
  }

  function enableZoomButtons() {
    box.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.getAttribute("data-zoom");
        if (how === "fit") fit(false);
        else if (how === "actual") { var outer = canvas.viewbox().outer; canvas.zoom(1, { x: outer.width / 2, y: outer.height / 2 }); }
        else zoomBy(how === "in" ? 1.25 : 0.8);
      });
    });
  }

  // ------------------------------------------------------------------ start
  document.addEventListener("DOMContentLoaded", function () {
    var status = box.querySelector(".diagram-status");
    if (typeof window.BpmnJS !== "function") { status.textContent = "The modeller did not load."; return; }
    sizeCanvas();
    modeler = new window.BpmnJS({ container: box.querySelector(".canvas"), moddleExtensions: { spiffworkflow: SPIFF } });
    modeling = modeler.get("modeling"); moddle = modeler.get("moddle"); registry = modeler.get("elementRegistry");
    canvas = modeler.get("canvas"); selection = modeler.get("selection"); elementFactory = modeler.get("elementFactory");
    window.collabflowModeler = modeler;  // for people debugging in the console, and the browser tests
    fetch(root.getAttribute("data-xml"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.arrayBuffer(); })
      .then(decode)
      .then(function (text) {
        var names = rememberCollections(text);
        return modeler.importXML(text).then(function (result) {
          // what keepCollections puts back is not lost: do not warn about it
          result.warnings = (result.warnings || []).filter(function (w) {
            var ref = /unresolved reference <([^>]+)>/.exec(w.message || "");
            return !(ref && names[ref[1]]);
          });
          return result;
        });
      })
      .then(function (result) {
        enablePanelToggle();
        var restored = restoreView();
        keepView();
        enableZoomButtons();
        window.addEventListener("resize", sizeCanvas);
        box.classList.add("ready");
        box.setAttribute("data-view", restored ? "restored" : "fitted");
        box.setAttribute("data-drawn", "true");
        if (result.warnings && result.warnings.length) {
          var warn = document.getElementById("import-warnings");
          warn.hidden = false;
          warn.textContent = "bpmn-js could not read " + result.warnings.length + " part(s) of this file; saving would drop them: " +
            result.warnings.slice(0, 5).map(function (w) { return w.message; }).join("; ");
          sizeCanvas();
        }
        modeler.on("selection.changed", function (e) { render(e.newSelection.length === 1 ? e.newSelection[0] : null); });
        modeler.on("commandStack.changed", function () { setDirty(true); });
        modeler.on("element.changed", function (e) {
          if (!applying && current && e.element === current && !propsBody.contains(document.activeElement)) render(current);
        });
        document.getElementById("save-draft").addEventListener("click", workbench.saveDraft);
        document.getElementById("validate").addEventListener("click", workbench.validate);
        document.getElementById("deploy").addEventListener("click", workbench.deploy);
        render(null);  // the process's own settings until an element is selected
        applyReturnedForm();
      })
      .catch(function (error) {
        status.textContent = "This diagram cannot be opened (" + (error.message || error) + ").";
        box.setAttribute("data-drawn", "error");
      });
  });
})();
