/* The form editor: a field builder beside the JSON (kept in step both ways) and a live preview the server renders
   with the task page's own renderer (app/inbox/binding.py), so the owner sees what staff will see.

   The builder edits the field's own JSON Schema and UI schema in place: whatever it does not show (maxLength,
   patterns, rules across fields, ...) stays as it was, and a field it cannot represent is kept as it is and
   marked "edit in JSON". window.collabflowFormBuilder.{toModel, fromModel} are the model both ways. */
(function () {
  "use strict";

  var TYPES = [["text", "Short text"], ["textarea", "Long text"], ["number", "Number"], ["integer", "Whole number"],
    ["date", "Date"], ["boolean", "Yes / no"], ["choice", "Choice from a list"], ["choices", "Several choices"],
    ["evidence", "File / evidence"], ["rows", "Repeatable rows"]];
  var UNSUPPORTED = ["oneOf", "anyOf", "allOf", "not", "if", "then", "else", "$ref"];
  var KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

  function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }
  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function isText(v) { return typeof v === "string"; }

  function slug(text) {
    return String(text || "").toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  }

  /* ------------------------------------------------------------------ the model: schema + UI schema <-> fields */
  /* Which builder type a property is; mirrors kind_of in app/inbox/binding.py. "json": shown, kept, not edited. */
  function typeOf(schema, ui, nested) {
    if (!isObject(schema) || UNSUPPORTED.some(function (k) { return k in schema; })) return "json";
    var widget = (ui || {})["ui:widget"], type = schema.type;
    if (type === "string") {
      if (schema.format === "evidence" || widget === "file") return "evidence";
      if ("enum" in schema) return Array.isArray(schema.enum) && schema.enum.every(isText) ? "choice" : "json";
      if (schema.format === "date" || widget === "date") return "date";
      return widget === "textarea" ? "textarea" : "text";
    }
    if ((type === "integer" || type === "number") && !("enum" in schema)) return type;
    if (type === "boolean") return "boolean";
    if (type === "array" && isObject(schema.items)) {
      var items = schema.items;
      if (items.type === "string" && Array.isArray(items.enum) && items.enum.every(isText)) return "choices";
      if (!nested && (items.type || "object") === "object" && isObject(items.properties)) return "rows";
    }
    return "json";
  }

  function ordered(properties, ui) {
    var order = ((ui || {})["ui:order"] || []).filter(function (k) { return k in properties; });
    return order.concat(Object.keys(properties).filter(function (k) { return order.indexOf(k) < 0; }));
  }

  function toField(key, schema, ui, required, nested) {
    var field = { key: key, origKey: key, schema: clone(schema) || {}, ui: isObject(ui) ? clone(ui) : {},
      hadUi: ui !== undefined, required: required, type: typeOf(schema, ui, nested), isNew: false };
    if (field.type === "rows") field.sub = objectFields(field.schema.items, field.ui.items || {}, true);
    return field;
  }

  function objectFields(schema, ui, nested) {
    var properties = schema.properties || {}, required = schema.required || [];
    return ordered(properties, ui).map(function (k) {
      return toField(k, properties[k], ui[k], required.indexOf(k) >= 0, nested);
    });
  }

  function toModel(schema, ui) {
    ui = isObject(ui) ? ui : {};
    return { schema: clone(schema), ui: clone(ui), fields: objectFields(schema, ui, false) };
  }

  /* An object schema (the form, or a row) with `fields` written into it; everything else of `base` kept. */
  function writeObject(base, baseUi, fields) {
    var schema = clone(base), ui = clone(baseUi) || {}, properties = {}, renamed = {}, wanted = [];
    var before = base.properties || {};
    fields.forEach(function (f) {
      var written = writeField(f);
      properties[f.key] = written.schema;
      renamed[f.origKey || f.key] = f.key;
      if (f.required) wanted.push(f.key);
      if (f.origKey && f.origKey !== f.key) delete ui[f.origKey];
      if (Object.keys(written.ui).length || (f.hadUi && f.origKey === f.key)) ui[f.key] = written.ui;
      else delete ui[f.key];
    });
    Object.keys(before).forEach(function (k) { if (!(k in renamed)) delete ui[k]; });
    var required = [];
    (base.required || []).forEach(function (k) {  // the order written before, so an unchanged form stays equal
      var now = k in renamed ? renamed[k] : (k in before ? null : k);
      if (now !== null && (wanted.indexOf(now) >= 0 || !(now in properties)) && required.indexOf(now) < 0) required.push(now);
    });
    wanted.forEach(function (k) { if (required.indexOf(k) < 0) required.push(k); });
    schema.properties = properties;
    if (required.length || "required" in base) schema.required = required;
    ui["ui:order"] = fields.map(function (f) { return f.key; });
    return { schema: schema, ui: ui };
  }

  function writeField(f) {
    if (f.type !== "rows") return { schema: clone(f.schema), ui: clone(f.ui) };
    var written = writeObject(f.schema.items, f.ui.items || {}, f.sub);
    var schema = clone(f.schema), ui = clone(f.ui);
    schema.items = written.schema;
    ui.items = written.ui;
    return { schema: schema, ui: ui };
  }

  function fromModel(model) {
    var written = writeObject(model.schema, model.ui, model.fields);
    var title = model.schema.title, description = model.schema.description;
    if (title !== undefined) written.schema.title = title;
    if (description !== undefined) written.schema.description = description;
    return written;
  }

  /* ------------------------------------------------------------------ what a builder edit changes */
  function blank(type, title, help) {
    var schema = { type: "string", title: title || "" }, ui = {};
    if (help) schema.description = help;
    if (type === "text") schema.maxLength = 300;
    if (type === "textarea") { schema.maxLength = 20000; ui = { "ui:widget": "textarea", "ui:options": { rows: 5 } }; }
    if (type === "number" || type === "integer") schema.type = type;
    if (type === "date") { schema.format = "date"; ui = { "ui:widget": "date" }; }
    if (type === "boolean") { schema.type = "boolean"; ui = { "ui:widget": "checkbox" }; }
    if (type === "choice") { schema.enum = ["option_1"]; ui = { "ui:widget": "select", "ui:enumNames": ["Option 1"] }; }
    if (type === "choices") {
      schema.type = "array"; schema.items = { type: "string", enum: ["option_1"] }; schema.uniqueItems = true;
      ui = { "ui:widget": "checkboxes", "ui:enumNames": ["Option 1"] };
    }
    if (type === "evidence") { schema.format = "evidence"; ui = { "ui:widget": "file", "ui:options": { evidence: true } }; }
    if (type === "rows") {
      schema.type = "array"; schema.items = { type: "object", title: "Row", properties: {}, required: [] };
      ui = { "ui:options": { addable: true, removable: true, orderable: true }, items: { "ui:order": [] } };
    }
    return { schema: schema, ui: ui };
  }

  function setType(f, type) {
    var made = blank(type, f.schema.title, f.schema.description);
    if (f.ui["ui:help"]) made.ui["ui:help"] = f.ui["ui:help"];
    f.schema = made.schema; f.ui = made.ui; f.type = type;
    f.sub = type === "rows" ? [] : undefined;
  }

  function helpOf(f) { return f.ui["ui:help"] !== undefined ? f.ui["ui:help"] : (f.schema.description || ""); }
  function setHelp(f, text) {
    if (f.ui["ui:help"] !== undefined) { f.ui["ui:help"] = text; return; }
    if (text) f.schema.description = text; else delete f.schema.description;
  }

  function choiceHome(f) { return f.type === "choices" ? f.schema.items : f.schema; }
  function namesOf(f) {
    if (f.ui["ui:enumNames"]) return f.ui["ui:enumNames"];
    return f.type === "choices" && f.ui.items ? f.ui.items["ui:enumNames"] : undefined;
  }
  function defaultLabel(value) { var t = String(value).replace(/_/g, " "); return t.charAt(0).toUpperCase() + t.slice(1).toLowerCase(); }

  /* One choice per line: "Label" (its value made from it) or "value = Label". */
  function choicesText(f) {
    var names = namesOf(f) || [];
    return (choiceHome(f).enum || []).map(function (value, i) {
      var label = i < names.length ? names[i] : undefined;
      if (label === undefined) return slug(value) === value ? value : value + " = " + defaultLabel(value);
      return slug(label) === value ? label : value + " = " + label;
    }).join("\n");
  }

  function parseChoices(text) {
    var values = [], labels = [], problem = null;
    text.split("\n").map(function (l) { return l.trim(); }).filter(Boolean).forEach(function (line) {
      var at = line.indexOf(" = "), value, label;
      if (at > 0) { value = line.slice(0, at).trim(); label = line.slice(at + 3).trim(); }
      else { value = slug(line); label = slug(line) === line ? defaultLabel(line) : line; }
      if (!value) problem = problem || "“" + line + "” gives no value: use letters or digits";
      else if (values.indexOf(value) >= 0) problem = problem || "two choices have the value “" + value + "”";
      values.push(value); labels.push(label || defaultLabel(value));
    });
    if (!values.length) problem = problem || "give at least one choice";
    return { values: values, labels: labels, problem: problem };
  }

  function setChoices(f, parsed) {
    choiceHome(f).enum = parsed.values;
    if (f.type === "choices" && f.ui.items && f.ui.items["ui:enumNames"] && !f.ui["ui:enumNames"]) {
      f.ui.items["ui:enumNames"] = parsed.labels;
    } else f.ui["ui:enumNames"] = parsed.labels;
  }

  function keyProblem(f, siblings) {
    if (!KEY.test(f.key)) return "a key is letters, digits and _, starting with a letter (no spaces)";
    if (siblings.some(function (o) { return o !== f && o.key === f.key; })) return "another field has this key";
    return null;
  }

  function uniqueKey(base, siblings, self) {
    base = slug(base) || "field";
    if (!/^[a-z_]/.test(base)) base = "field_" + base;
    var key = base, n = 2;
    while (siblings.some(function (o) { return o !== self && o.key === key; })) key = base + "_" + n++;
    return key;
  }

  window.collabflowFormBuilder = { toModel: toModel, fromModel: fromModel, typeOf: typeOf, choicesText: choicesText,
    parseChoices: parseChoices, TYPES: TYPES };

  /* ------------------------------------------------------------------ the page */
  function jsonProblem(text, label) {
    try { var value = JSON.parse(text); } catch (e) {
      var m = /line (\d+) column (\d+)/.exec(e.message), at = /position (\d+)/.exec(e.message);
      var line, col;
      if (m) { line = +m[1]; col = +m[2]; } else if (at) {
        var before = text.slice(0, +at[1]).split("\n"); line = before.length; col = before[before.length - 1].length + 1;
      }
      return { message: "The " + label + " is not valid JSON" + (line ? " at line " + line + ", column " + col : "") +
        ": " + e.message.replace(/\s*\(line \d+ column \d+\)/, "").replace(/\s*in JSON at position \d+/, "") };
    }
    if (!isObject(value)) return { message: "The " + label + " must be a JSON object ({ … })." };
    return { value: value };
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (attrs[k] === true) node.setAttribute(k, "");
      else if (attrs[k] !== false && attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("form-editor");
    if (!form) return;
    var token = document.querySelector('meta[name="csrf-token"]').content;
    var schemaBox = document.getElementById("schema"), uiBox = document.getElementById("ui");
    var builder = document.getElementById("builder"), status = document.getElementById("builder-status");
    var state = document.getElementById("preview-state"), preview = document.getElementById("preview");
    var model = null, previewTimer = null, jsonTimer = null, sequence = 0, dirty = false;

    /* ---------------- preview */
    function refresh(tryData) {
      var mine = ++sequence;
      state.textContent = "updating…";
      preview.setAttribute("aria-busy", "true");
      var body = new URLSearchParams();
      if (tryData) tryData.forEach(function (value, key) { if (typeof value === "string") body.append(key, value); });
      body.set("schema", schemaBox.value);
      body.set("ui", uiBox.value);
      if (tryData) body.set("try", "1");
      fetch(form.getAttribute("data-preview"), { method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRFToken": token, "Accept": "text/html" } })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (mine !== sequence) return;
          preview.innerHTML = html;  // rendered and escaped by the server
          state.textContent = "";
          if (!previewTimer) preview.removeAttribute("aria-busy");
          preview.setAttribute("data-updated", String(mine));
        })
        .catch(function (e) {
          state.textContent = "preview unavailable (" + e.message + ")";
          if (mine === sequence && !previewTimer) preview.removeAttribute("aria-busy");
        });
    }
    /* aria-busy from the first keystroke to the matching render: readers (and tests) know the preview is stale. */
    function schedulePreview() {
      clearTimeout(previewTimer);
      preview.setAttribute("aria-busy", "true");
      previewTimer = setTimeout(function () { previewTimer = null; refresh(null); }, 300);
    }
    preview.addEventListener("submit", function (event) {
      if (event.target.id !== "form-preview-fields") return;
      event.preventDefault();
      clearTimeout(previewTimer);
      previewTimer = null;
      refresh(new FormData(event.target));
    });

    /* ---------------- builder -> JSON */
    function allProblems(fields, path) {
      var found = [];
      fields.forEach(function (f, i) {
        var where = path.concat([i]);
        var problem = f.type === "json" ? null : keyProblem(f, fields);
        if (problem) found.push({ where: where, message: problem });
        if (f.choiceProblem) found.push({ where: where, message: f.choiceProblem });
        if (f.sub) found = found.concat(allProblems(f.sub, where));
      });
      return found;
    }

    /* Marks what stops the builder writing the JSON; true when nothing does. */
    function markProblems() {
      builder.querySelectorAll(".fb-problem").forEach(function (p) { p.textContent = ""; });
      var problems = allProblems(model.fields, []);
      problems.forEach(function (p) {
        var box = document.getElementById("fb-" + p.where.join("-") + "-problem");
        if (box) box.textContent = box.textContent ? box.textContent + "; " + p.message : p.message;
      });
      if (problems.length) {
        status.className = "notice warn";
        status.textContent = "Fix what is marked below: the JSON keeps its last good state until then.";
      } else if (status.className !== "notice error") { status.className = ""; status.textContent = ""; }
      return !problems.length;
    }

    function changed() {
      dirty = true;
      if (!markProblems()) return;
      var written = fromModel(model);
      schemaBox.value = JSON.stringify(written.schema, null, 2) + "\n";
      uiBox.value = JSON.stringify(written.ui, null, 2) + "\n";
      schemaBox.removeAttribute("aria-invalid"); uiBox.removeAttribute("aria-invalid");
      schedulePreview();
    }

    /* ---------------- JSON -> builder */
    function readJson() {
      var schema = jsonProblem(schemaBox.value, "JSON Schema");
      var ui = uiBox.value.trim() ? jsonProblem(uiBox.value, "UI schema") : { value: {} };
      var problem = schema.message || ui.message;
      if (!problem && (schema.value.type || "object") !== "object") problem = "The JSON Schema must describe an object (\"type\": \"object\").";
      [[schemaBox, schema], [uiBox, ui]].forEach(function (pair) {
        if (pair[1].message) pair[0].setAttribute("aria-invalid", "true"); else pair[0].removeAttribute("aria-invalid");
      });
      if (problem) {
        status.className = "notice error"; status.setAttribute("role", "alert");
        status.textContent = problem + " The builder shows the form as it last was; fix the JSON to go on (what you typed is kept).";
        if (!model) builder.innerHTML = "";  // opened with JSON that does not parse: nothing to show yet
        builder.querySelectorAll("input, select, textarea, button").forEach(function (n) { n.disabled = true; });
        builder.setAttribute("aria-disabled", "true");
        return;
      }
      status.className = ""; status.setAttribute("role", "status"); status.textContent = "";
      model = toModel(schema.value, ui.value);
      render();
      markProblems();
    }

    /* ---------------- drawing the builder */
    function labelled(id, text, input, hint) {
      return el("div", { class: "field" }, [el("label", { for: id, text: text }), hint ? el("p", { class: "hint small", text: hint }) : null, input]);
    }

    function bind(input, event, apply, redraw) {
      input.addEventListener(event, function () { apply(input); if (redraw) render(); changed(); });
      return input;
    }

    function fieldCard(f, siblings, index, path) {
      var id = "fb-" + path.join("-"), name = f.schema.title || f.key || "new field";
      var typeName = (TYPES.filter(function (t) { return t[0] === f.type; })[0] || [null, "edited in JSON"])[1];
      var head = el("div", { class: "fb-head" }, [
        el("strong", { class: "fb-name", id: id + "-name", text: name }),
        el("span", { class: "muted small", text: " " + typeName + (f.required ? " · required" : "") }),
        el("span", { class: "fb-moves" }, [
          move("↑", "Move %s up", name, index === 0, function () { siblings.splice(index - 1, 0, siblings.splice(index, 1)[0]); }),
          move("↓", "Move %s down", name, index === siblings.length - 1, function () { siblings.splice(index + 1, 0, siblings.splice(index, 1)[0]); }),
          move("Remove", "Remove %s", name, false, function () { siblings.splice(index, 1); })])]);
      var card = el("li", { class: "fb-field", id: id, "data-key": f.key, "data-type": f.type }, [head]);
      card.appendChild(el("p", { class: "field-error fb-problem", id: id + "-problem", "aria-live": "polite" }));
      if (f.type === "json") {
        card.appendChild(el("p", { class: "notice info small", text: "Key “" + f.key + "”: this field (" +
          (f.schema.type || "no type") + ") cannot be shown in the builder; edit it in the JSON. It is kept as it is." }));
        return card;
      }
      var title = bind(el("input", { type: "text", id: id + "-title", value: f.schema.title || "" }), "input", function (i) {
        f.schema.title = i.value;
        if (f.isNew && !f.keyEdited) { f.key = uniqueKey(i.value, siblings, f); document.getElementById(id + "-key").value = f.key; }
        var shown = i.value || f.key;
        document.getElementById(id + "-name").textContent = shown;
        head.querySelectorAll(":scope > .fb-moves > button").forEach(function (b) {
          var label = b.getAttribute("data-label").replace("%s", shown);
          b.setAttribute("aria-label", label); b.title = label;
        });
      });
      var key = bind(el("input", { type: "text", id: id + "-key", value: f.key, spellcheck: "false", class: "code" }), "input", function (i) {
        f.key = i.value.trim(); f.keyEdited = true;
      });
      var type = el("select", { id: id + "-type" }, TYPES.filter(function (t) { return t[0] !== "rows" || path.length === 1; })
        .map(function (t) { return el("option", { value: t[0], text: t[1], selected: t[0] === f.type }); }));
      bind(type, "change", function (i) { setType(f, i.value); f.choiceProblem = null; }, true);
      var required = bind(el("input", { type: "checkbox", id: id + "-required", checked: !!f.required }), "change", function (i) { f.required = i.checked; }, true);
      var help = bind(el("input", { type: "text", id: id + "-help", value: helpOf(f) }), "input", function (i) { setHelp(f, i.value); });
      card.appendChild(el("div", { class: "fb-grid" }, [
        labelled(id + "-title", "Label", title), labelled(id + "-key", "Key", key),
        labelled(id + "-type", "Type", type),
        el("div", { class: "field check" }, [required, el("label", { for: id + "-required", text: "Required" })])]));
      card.appendChild(labelled(id + "-help", "Help text", help));
      if (f.type === "choice" || f.type === "choices") {
        var choices = bind(el("textarea", { id: id + "-choices", rows: 4 }), "input", function (i) {
          var parsed = parseChoices(i.value);
          f.choiceProblem = parsed.problem ? "choices: " + parsed.problem : null;
          if (!parsed.problem) setChoices(f, parsed);
        });
        choices.value = choicesText(f);
        card.appendChild(labelled(id + "-choices", "Choices, one per line", choices, "“Label”, or “value = Label” to keep a stored value."));
        if (f.type === "choice") {
          var shown = el("select", { id: id + "-widget" }, [["select", "A drop-down list"], ["radio", "Buttons, all visible"]]
            .map(function (w) { return el("option", { value: w[0], text: w[1], selected: (f.ui["ui:widget"] || "select") === w[0] }); }));
          card.appendChild(labelled(id + "-widget", "Shown as", bind(shown, "change", function (i) { f.ui["ui:widget"] = i.value; })));
        }
      }
      if (f.type === "number" || f.type === "integer") {
        ["minimum", "maximum"].forEach(function (bound) {
          var input = bind(el("input", { type: "number", id: id + "-" + bound, step: "any", value: f.schema[bound] }), "input", function (i) {
            if (i.value === "" || isNaN(Number(i.value))) delete f.schema[bound]; else f.schema[bound] = Number(i.value);
          });
          card.appendChild(labelled(id + "-" + bound, bound === "minimum" ? "Minimum" : "Maximum", input));
        });
      }
      if (f.type !== "rows") {
        var fixed = bind(el("input", { type: "checkbox", id: id + "-readonly", checked: !!f.schema.readOnly }), "change", function (i) {
          if (i.checked) f.schema.readOnly = true; else delete f.schema.readOnly;
        });
        card.appendChild(el("div", { class: "field check" }, [fixed, el("label", { for: id + "-readonly", text: "Filled in by the process (shown, not edited)" })]));
      }
      if (f.type === "rows") {
        var rowName = bind(el("input", { type: "text", id: id + "-row-title", value: f.schema.items.title || "" }), "input", function (i) { f.schema.items.title = i.value; });
        card.appendChild(labelled(id + "-row-title", "One row is called", rowName));
        var sub = el("ol", { class: "fb-list fb-sub", id: id + "-fields", "aria-label": "Fields of each " + (f.schema.items.title || "row") });
        f.sub.forEach(function (s, i) { sub.appendChild(fieldCard(s, f.sub, i, path.concat([i]))); });
        card.appendChild(sub);
        card.appendChild(addButton("Add a field to each row", id + "-add", f.sub));
      }
      return card;
    }

    function move(text, pattern, name, disabled, act) {
      var label = pattern.replace("%s", name);
      var button = el("button", { type: "button", class: "quiet small", "aria-label": label, title: label, text: text,
        disabled: disabled, "data-label": pattern });
      button.addEventListener("click", function () { act(); render(); changed(); });
      return button;
    }

    function addButton(text, id, list) {
      var button = el("button", { type: "button", class: "secondary small", id: id, text: text });
      button.addEventListener("click", function () {
        var made = blank("text", "", "");
        list.push({ key: uniqueKey("field", list), schema: made.schema, ui: made.ui, required: false, type: "text", isNew: true, hadUi: false });
        render();
        changed();
        var cards = document.querySelectorAll("#" + id.replace(/-add$/, "-fields") + " > .fb-field");
        var input = cards.length && cards[cards.length - 1].querySelector("input");
        if (input) input.focus();
      });
      return button;
    }

    function render() {
      builder.innerHTML = "";
      builder.removeAttribute("aria-disabled");
      var title = bind(el("input", { type: "text", id: "form-title", value: model.schema.title || "" }), "input", function (i) { model.schema.title = i.value; });
      var description = bind(el("textarea", { id: "form-description", rows: 2 }), "input", function (i) { model.schema.description = i.value; });
      description.value = model.schema.description || "";
      builder.appendChild(labelled("form-title", "Form title", title));
      builder.appendChild(labelled("form-description", "Description (shown above the form)", description));
      var rules = UNSUPPORTED.filter(function (k) { return k in model.schema; });
      if (rules.length) builder.appendChild(el("p", { class: "notice info small", id: "form-rules",
        text: "This form also has rules across fields (" + rules.join(", ") + "): edit them in the JSON; the builder keeps them." }));
      var list = el("ol", { class: "fb-list", id: "fb-fields", "aria-label": "Fields" });
      model.fields.forEach(function (f, i) { list.appendChild(fieldCard(f, model.fields, i, [i])); });
      builder.appendChild(list);
      builder.appendChild(addButton("Add a field", "fb-add", model.fields));
    }

    /* ---------------- wiring */
    ["schema", "ui"].forEach(function (id) {
      document.getElementById(id).addEventListener("input", function () {
        dirty = true;
        clearTimeout(jsonTimer);
        jsonTimer = setTimeout(readJson, 300);
        schedulePreview();
      });
    });
    form.addEventListener("submit", function () { dirty = false; });
    document.addEventListener("keydown", function (event) {  // Ctrl+S / Cmd+S saves to the drafts, as in the modeller
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") { event.preventDefault(); form.requestSubmit(); }
    });
    window.addEventListener("beforeunload", function (event) { if (dirty) { event.preventDefault(); event.returnValue = ""; } });
    readJson();
    if (model) { dirty = false; builder.setAttribute("data-ready", "true"); }
  });
})();
