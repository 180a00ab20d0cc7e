"""Compact process description -> BPMN 2.0 XML with SpiffWorkflow extensions and computed BPMNDI layout.

Used by tools/build_bpmn.py.  Only the standard library and lxml are needed.
A `Process` is built with a small fluent API (`p.user(...)`, `p.flow(...)`); `to_xml()` lays
the nodes out left to right in columns (longest path from the start, loops ignored), one band
per lane, and returns the serialized definitions document.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NSMAP = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "xsi": XSI, "spiffworkflow": SPIFF}

SIZES = {
    "task": (100, 80),
    "event": (36, 36),
    "gateway": (50, 50),
}
KIND_SHAPE = {
    "start": "event", "end": "event", "terminate_end": "event",
    "timer_catch": "event", "signal_catch": "event", "signal_throw": "event",
    "boundary_timer": "event", "boundary_signal": "event",
    "user": "task", "script": "task", "call": "task",
    "xgw": "gateway", "pgw": "gateway",
}
BOUNDARY_KINDS = ("boundary_timer", "boundary_signal")

COL_W = 150          # width of one layout column
SLOT_H = 130         # height of one row inside a lane
LANE_LABEL_W = 30    # the vertical title strip of a pool and of a lane
LOOP_CHANNEL = 30    # extra room at the bottom of a lane that has loop-back flows
POOL_X, POOL_Y = 100, 60


def q(ns, tag):
    return f"{{{NSMAP[ns]}}}{tag}"


@dataclass
class Node:
    id: str
    kind: str
    name: str = ""
    lane: str | None = None
    props: dict = field(default_factory=dict)       # spiffworkflow:properties
    instructions: str | None = None                  # spiffworkflow:instructionsForEndUser
    documentation: str | None = None
    script: str | None = None
    post_script: str | None = None
    called: str | None = None
    attached_to: str | None = None
    cancel: bool = True
    timer: tuple[str, str] | None = None             # (timeDuration|timeDate|timeCycle, expression)
    signal: str | None = None                        # signal id (definitions level)
    default: str | None = None                       # default flow id for exclusive gateways
    multi_instance: dict | None = None


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str = ""
    condition: str | None = None


@dataclass
class Signal:
    id: str
    name: str
    variable: str | None = None
    payload: str | None = None


@dataclass
class Group:
    id: str
    label: str
    members: list[str]


class Process:
    """A process under construction; `cursor` is the node that the next `then()` connects from."""

    def __init__(self, pid, name, lanes=None, documentation=None):
        self.id = pid
        self.name = name
        self.lanes = list(lanes or [])
        self.documentation = documentation
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.signals: list[Signal] = []
        self.groups: list[Group] = []
        self.cursor: str | None = None
        self.current_lane = self.lanes[0] if self.lanes else None

    # -- construction -------------------------------------------------------------------------
    def add(self, node: Node, connect=True, flow_name="", condition=None):
        if node.id in self.nodes:
            raise ValueError(f"duplicate node id {node.id} in {self.id}")
        if node.kind in BOUNDARY_KINDS:
            node.lane = node.lane or self.nodes[node.attached_to].lane
            connect = False
        elif self.lanes:
            node.lane = node.lane or self.current_lane
            self.current_lane = node.lane
        self.nodes[node.id] = node
        if connect and self.cursor is not None:
            self.flow(self.cursor, node.id, name=flow_name, condition=condition)
        if node.kind not in BOUNDARY_KINDS:
            self.cursor = node.id
        return node.id

    def at(self, node_id, lane=None):
        """Move the cursor (the next node connects from `node_id`)."""
        self.cursor = node_id
        if lane:
            self.current_lane = lane
        return self

    def detached(self):
        self.cursor = None
        return self

    def flow(self, source, target, name="", condition=None, fid=None, default=False):
        fid = fid or f"Flow_{source}_{target}"
        if any(f.id == fid for f in self.flows):
            raise ValueError(f"duplicate flow id {fid}")
        self.flows.append(Flow(fid, source, target, name, condition))
        if default:
            self.nodes[source].default = fid
        return fid

    def signal(self, sid, name, variable=None, payload=None):
        self.signals.append(Signal(sid, name, variable, payload))
        return sid

    def group(self, gid, label, members):
        self.groups.append(Group(gid, label, list(members)))

    # convenience constructors; each connects from the cursor unless connect=False
    def start(self, nid="start", name="Start", **kw):
        return self.add(Node(nid, "start", name), connect=False, **kw)

    def end(self, nid, name="End", lane=None, terminate=False, **kw):
        return self.add(Node(nid, "terminate_end" if terminate else "end", name, lane=lane), **kw)

    def user(self, nid, name, lane=None, form=True, requirements=(), instructions=None,
             props=None, documentation=None, multi_instance=None, post_script=None, **kw):
        p = {}
        if form:
            p["formJsonSchemaFilename"] = f"{nid}.schema.json"
            p["formUiSchemaFilename"] = f"{nid}.uischema.json"
        p.update(props or {})
        if requirements:
            p["requirements"] = ",".join(requirements)
        return self.add(Node(nid, "user", name, lane=lane, props=p, instructions=instructions,
                             documentation=documentation, multi_instance=multi_instance,
                             post_script=post_script), **kw)

    def script(self, nid, name, script, lane=None, requirements=(), documentation=None, **kw):
        p = {"requirements": ",".join(requirements)} if requirements else {}
        return self.add(Node(nid, "script", name, lane=lane, script=script.strip() + "\n", props=p,
                             documentation=documentation), **kw)

    def call(self, nid, name, called, lane=None, requirements=(), props=None, documentation=None, **kw):
        p = dict(props or {})
        if requirements:
            p["requirements"] = ",".join(requirements)
        return self.add(Node(nid, "call", name, lane=lane, called=called, props=p,
                             documentation=documentation), **kw)

    def xgw(self, nid, name="", lane=None, **kw):
        return self.add(Node(nid, "xgw", name, lane=lane), **kw)

    def pgw(self, nid, name="", lane=None, **kw):
        return self.add(Node(nid, "pgw", name, lane=lane), **kw)

    def timer_catch(self, nid, name, timer, lane=None, **kw):
        return self.add(Node(nid, "timer_catch", name, lane=lane, timer=timer), **kw)

    def signal_catch(self, nid, name, signal, lane=None, **kw):
        return self.add(Node(nid, "signal_catch", name, lane=lane, signal=signal), **kw)

    def signal_throw(self, nid, name, signal, lane=None, documentation=None, **kw):
        return self.add(Node(nid, "signal_throw", name, lane=lane, signal=signal,
                             documentation=documentation), **kw)

    def boundary_timer(self, nid, name, host, timer, cancel=True):
        return self.add(Node(nid, "boundary_timer", name, attached_to=host, timer=timer, cancel=cancel))

    def boundary_signal(self, nid, name, host, signal, cancel=True, documentation=None):
        return self.add(Node(nid, "boundary_signal", name, attached_to=host, signal=signal, cancel=cancel,
                             documentation=documentation))

    # -- layout -------------------------------------------------------------------------------
    def _layout(self):
        out = {nid: [] for nid in self.nodes}
        for f in self.flows:
            out[f.source].append(f)
        boundaries = {}
        for n in self.nodes.values():
            if n.kind in BOUNDARY_KINDS:
                boundaries.setdefault(n.attached_to, []).append(n.id)

        # Back edges: a DFS from the start event (boundary events hang off their host).
        back = set()
        state = {}

        def children(nid):
            for f in out[nid]:
                yield f.target, f
            for b in boundaries.get(nid, []):
                yield b, None

        roots = [n.id for n in self.nodes.values() if n.kind == "start"]
        for root in roots:
            stack = [(root, iter(children(root)))]
            state[root] = "open"
            while stack:
                nid, it = stack[-1]
                for child, f in it:
                    if state.get(child) == "open":
                        if f is not None:
                            back.add(f.id)
                    elif child not in state:
                        state[child] = "open"
                        stack.append((child, iter(children(child))))
                        break
                else:
                    state[nid] = "done"
                    stack.pop()
        unreachable = [nid for nid in self.nodes if nid not in state]
        if unreachable:
            raise ValueError(f"{self.id}: unreachable nodes {unreachable}")
        self.back_edges = back

        # Longest-path layering on the forward graph.
        preds = {nid: [] for nid in self.nodes}
        for f in self.flows:
            if f.id not in back:
                preds[f.target].append(f.source)
        layer = {}

        def get_layer(nid, seen=()):
            if nid in layer:
                return layer[nid]
            n = self.nodes[nid]
            if n.kind in BOUNDARY_KINDS:
                value = get_layer(n.attached_to)
            elif not preds[nid]:
                value = 0
            else:
                value = max(get_layer(p) + 1 for p in preds[nid])
            layer[nid] = value
            return value

        for nid in self.nodes:
            get_layer(nid)

        # Rows (slots) inside each lane: follow the first predecessor's slot when free.
        lanes = self.lanes or [None]
        taken = {}            # (lane, layer, slot) -> node id
        slot = {}
        order = sorted((n for n in self.nodes.values() if n.kind not in BOUNDARY_KINDS),
                       key=lambda n: (layer[n.id], list(self.nodes).index(n.id)))
        for n in order:
            preferred = 0
            for p in preds[n.id]:
                pn = self.nodes[p]
                src = pn if pn.kind not in BOUNDARY_KINDS else self.nodes[pn.attached_to]
                if src.lane == n.lane and src.id in slot:
                    preferred = slot[src.id] + (1 if pn.kind in BOUNDARY_KINDS else 0)
                    break
            s = preferred
            while (n.lane, layer[n.id], s) in taken:
                s += 1
            taken[(n.lane, layer[n.id], s)] = n.id
            slot[n.id] = s
        self.layer, self.slot = layer, slot

        slots_per_lane = {ln: 1 + max([slot[n.id] for n in order if n.lane == ln] or [0]) for ln in lanes}
        loop_lanes = {self.nodes[f.source].lane for f in self.flows if f.id in back}
        lane_top, y = {}, POOL_Y
        lane_height = {}
        for ln in lanes:
            lane_top[ln] = y
            lane_height[ln] = slots_per_lane[ln] * SLOT_H + (LOOP_CHANNEL if ln in loop_lanes else 0)
            y += lane_height[ln]
        self.lane_top, self.lane_height = lane_top, lane_height
        ncols = 1 + max(layer.values())
        x0 = POOL_X + (2 * LANE_LABEL_W if self.lanes else LANE_LABEL_W) + 20
        self.x0 = x0
        self.pool_bounds = (POOL_X, POOL_Y, x0 - POOL_X + ncols * COL_W + 20, y - POOL_Y)

        bounds = {}
        for n in order:
            w, h = SIZES[KIND_SHAPE[n.kind]]
            cx = x0 + layer[n.id] * COL_W + COL_W / 2
            cy = lane_top[n.lane] + slot[n.id] * SLOT_H + SLOT_H / 2
            bounds[n.id] = (cx - w / 2, cy - h / 2, w, h)
        for host, bids in boundaries.items():
            hx, hy, hw, hh = bounds[host]
            for i, bid in enumerate(bids):
                w, h = SIZES["event"]
                cx = hx + hw - 22 - i * 42
                bounds[bid] = (cx - w / 2, hy + hh - h / 2, w, h)
        self.bounds = bounds

    def _col_edge(self, layer):
        """x of the boundary between column `layer - 1` and column `layer` (never inside a shape)."""
        return self.x0 + layer * COL_W

    def _collides(self, points, f):
        src = self.nodes[f.source]
        skip = {f.source, f.target}
        if src.kind in BOUNDARY_KINDS:
            skip.add(src.attached_to)
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
            for nid, (bx, by, bw, bh) in self.bounds.items():
                if nid in skip:
                    continue
                if lo_x < bx + bw + 2 and hi_x > bx - 2 and lo_y < by + bh + 2 and hi_y > by - 2:
                    return True
        return False

    def _waypoints(self, f, loop_index):
        """Orthogonal waypoints: the first candidate route that crosses no other shape."""
        sx, sy, sw, sh = self.bounds[f.source]
        tx, ty, tw, th = self.bounds[f.target]
        scx, scy = sx + sw / 2, sy + sh / 2
        tcx, tcy = tx + tw / 2, ty + th / 2
        src, tgt = self.nodes[f.source], self.nodes[f.target]
        after_s = self._col_edge(self.layer[f.source] + 1)
        before_t = self._col_edge(self.layer[f.target])
        cands = []
        if f.id in self.back_edges:
            lane = src.lane
            channel = self.lane_top[lane] + self.lane_height[lane] - 12 - 6 * loop_index
            top = self.lane_top[lane] + 12 + 6 * loop_index
            cands = [
                [(scx, sy + sh), (scx, channel), (tcx, channel), (tcx, ty + th)],
                [(scx, sy), (scx, top), (tcx, top), (tcx, ty)],
                [(sx + sw, scy), (after_s, scy), (after_s, channel), (before_t, channel), (before_t, tcy), (tx, tcy)],
            ]
        elif src.kind in BOUNDARY_KINDS:
            low = sy + sh + 20
            if tcy > sy + sh:
                cands.append([(scx, sy + sh), (scx, tcy), (tx, tcy)])
            cands.append([(scx, sy + sh), (scx, low), (before_t, low), (before_t, tcy), (tx, tcy)])
        elif abs(scy - tcy) < 1:
            cands.append([(sx + sw, scy), (tx, tcy)])
            for d in (62, -62):
                cands.append([(sx + sw, scy), (after_s, scy), (after_s, scy + d), (before_t, scy + d),
                              (before_t, tcy), (tx, tcy)])
        else:
            down = tcy > scy
            if src.kind in ("xgw", "pgw"):
                cands.append([(scx, sy + sh if down else sy), (scx, tcy), (tx, tcy)])
            if tgt.kind in ("xgw", "pgw"):
                cands.append([(sx + sw, scy), (tcx, scy), (tcx, ty if down else ty + th)])
            cands.append([(sx + sw, scy), (before_t, scy), (before_t, tcy), (tx, tcy)])
            cands.append([(sx + sw, scy), (after_s, scy), (after_s, tcy), (tx, tcy)])
            for base in (tcy, scy):
                for d in (62, -62):
                    cands.append([(sx + sw, scy), (after_s, scy), (after_s, base + d), (before_t, base + d),
                                  (before_t, tcy), (tx, tcy)])
        for c in cands:
            if not self._collides(c, f):
                return c
        return cands[0]

    # -- XML ----------------------------------------------------------------------------------
    def to_xml(self, categories=None):
        self._layout()
        defs = etree.Element(q("bpmn", "definitions"), nsmap=NSMAP)
        defs.set("id", f"Definitions_{self.id}")
        defs.set("targetNamespace", "http://bpmn.io/schema/bpmn")
        defs.set("exporter", "collabflow tools/build_bpmn.py")
        defs.set("exporterVersion", "1")
        collab = etree.SubElement(defs, q("bpmn", "collaboration"), id=f"Collaboration_{self.id}")
        etree.SubElement(collab, q("bpmn", "participant"), id=f"Participant_{self.id}", name=self.name,
                         processRef=self.id)
        for s in self.signals:
            el = etree.SubElement(defs, q("bpmn", "signal"), id=s.id, name=s.name)
            if s.variable or s.payload:
                ext = etree.SubElement(el, q("bpmn", "extensionElements"))
                if s.payload:
                    etree.SubElement(ext, q("spiffworkflow", "payloadExpression")).text = s.payload
                if s.variable:
                    etree.SubElement(ext, q("spiffworkflow", "variableName")).text = s.variable
        if self.groups:
            cat = etree.SubElement(defs, q("bpmn", "category"), id=f"Category_{self.id}")
            for g in self.groups:
                etree.SubElement(cat, q("bpmn", "categoryValue"), id=f"CategoryValue_{g.id}", value=g.label)

        proc = etree.SubElement(defs, q("bpmn", "process"), id=self.id, name=self.name, isExecutable="true")
        if self.documentation:
            etree.SubElement(proc, q("bpmn", "documentation")).text = self.documentation
        if self.lanes:
            ls = etree.SubElement(proc, q("bpmn", "laneSet"), id=f"LaneSet_{self.id}")
            for ln in self.lanes:
                lane = etree.SubElement(ls, q("bpmn", "lane"), id=self._lane_id(ln), name=ln)
                for n in self.nodes.values():
                    if n.lane == ln:
                        etree.SubElement(lane, q("bpmn", "flowNodeRef")).text = n.id
        incoming = {nid: [] for nid in self.nodes}
        outgoing = {nid: [] for nid in self.nodes}
        for f in self.flows:
            outgoing[f.source].append(f.id)
            incoming[f.target].append(f.id)
        for n in self.nodes.values():
            self._node_xml(proc, n, incoming[n.id], outgoing[n.id])
        for f in self.flows:
            el = etree.SubElement(proc, q("bpmn", "sequenceFlow"), id=f.id, sourceRef=f.source, targetRef=f.target)
            if f.name:
                el.set("name", f.name)
            if f.condition:
                c = etree.SubElement(el, q("bpmn", "conditionExpression"))
                c.set(q("xsi", "type"), "bpmn:tFormalExpression")
                c.text = f.condition
        for g in self.groups:
            etree.SubElement(proc, q("bpmn", "group"), id=g.id, categoryValueRef=f"CategoryValue_{g.id}")

        self._di(defs)
        etree.indent(defs, space="  ")
        return etree.tostring(defs, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def _lane_id(self, lane):
        return f"Lane_{self.id}_" + "".join(ch if ch.isalnum() else "_" for ch in lane.lower())

    def _node_xml(self, proc, n, inc, out):
        tag = {
            "start": "startEvent", "end": "endEvent", "terminate_end": "endEvent",
            "user": "userTask", "script": "scriptTask", "call": "callActivity",
            "xgw": "exclusiveGateway", "pgw": "parallelGateway",
            "timer_catch": "intermediateCatchEvent", "signal_catch": "intermediateCatchEvent",
            "signal_throw": "intermediateThrowEvent",
            "boundary_timer": "boundaryEvent", "boundary_signal": "boundaryEvent",
        }[n.kind]
        el = etree.SubElement(proc, q("bpmn", tag), id=n.id)
        if n.name:
            el.set("name", n.name)
        if n.kind == "call":
            el.set("calledElement", n.called)
        if n.kind in BOUNDARY_KINDS:
            el.set("attachedToRef", n.attached_to)
            el.set("cancelActivity", "true" if n.cancel else "false")
        if n.kind == "xgw" and n.default:
            el.set("default", n.default)
        if n.kind == "script":
            el.set("scriptFormat", "python")
        if n.documentation:
            etree.SubElement(el, q("bpmn", "documentation")).text = n.documentation
        if n.props or n.instructions or n.post_script:
            ext = etree.SubElement(el, q("bpmn", "extensionElements"))
            if n.props:
                props = etree.SubElement(ext, q("spiffworkflow", "properties"))
                for k, v in n.props.items():
                    etree.SubElement(props, q("spiffworkflow", "property"), name=k, value=v)
            if n.instructions:
                etree.SubElement(ext, q("spiffworkflow", "instructionsForEndUser")).text = n.instructions
            if n.post_script:
                etree.SubElement(ext, q("spiffworkflow", "postScript")).text = n.post_script
        for fid in inc:
            etree.SubElement(el, q("bpmn", "incoming")).text = fid
        for fid in out:
            etree.SubElement(el, q("bpmn", "outgoing")).text = fid
        if n.multi_instance:
            mi = n.multi_instance
            lc = etree.SubElement(el, q("bpmn", "multiInstanceLoopCharacteristics"))
            if mi.get("sequential"):
                lc.set("isSequential", "true")
            if mi.get("scripts_on_instances"):
                lc.set(q("spiffworkflow", "scriptsOnInstances"), "true")
            etree.SubElement(lc, q("bpmn", "loopDataInputRef")).text = mi["input"]
            etree.SubElement(lc, q("bpmn", "loopDataOutputRef")).text = mi["output"]
            etree.SubElement(lc, q("bpmn", "inputDataItem"), id=mi["input_item"], name=mi["input_item"])
            etree.SubElement(lc, q("bpmn", "outputDataItem"), id=mi["output_item"], name=mi["output_item"])
        if n.kind == "script":
            etree.SubElement(el, q("bpmn", "script")).text = n.script
        if n.kind == "terminate_end":
            etree.SubElement(el, q("bpmn", "terminateEventDefinition"), id=f"TerminateEventDefinition_{n.id}")
        if n.timer:
            td = etree.SubElement(el, q("bpmn", "timerEventDefinition"), id=f"TimerEventDefinition_{n.id}")
            t = etree.SubElement(td, q("bpmn", n.timer[0]))
            t.set(q("xsi", "type"), "bpmn:tFormalExpression")
            t.text = n.timer[1]
        if n.signal:
            etree.SubElement(el, q("bpmn", "signalEventDefinition"), id=f"SignalEventDefinition_{n.id}",
                             signalRef=n.signal)

    def _di(self, defs):
        diagram = etree.SubElement(defs, q("bpmndi", "BPMNDiagram"), id=f"BPMNDiagram_{self.id}")
        plane = etree.SubElement(diagram, q("bpmndi", "BPMNPlane"), id=f"BPMNPlane_{self.id}",
                                 bpmnElement=f"Collaboration_{self.id}")

        def shape(element, b, **attrs):
            s = etree.SubElement(plane, q("bpmndi", "BPMNShape"), id=f"{element}_di", bpmnElement=element, **attrs)
            etree.SubElement(s, q("dc", "Bounds"), x=_n(b[0]), y=_n(b[1]), width=_n(b[2]), height=_n(b[3]))
            return s

        px, py, pw, ph = self.pool_bounds
        shape(f"Participant_{self.id}", self.pool_bounds, isHorizontal="true")
        for ln in self.lanes:
            shape(self._lane_id(ln), (px + LANE_LABEL_W, self.lane_top[ln], pw - LANE_LABEL_W,
                                      self.lane_height[ln]), isHorizontal="true")
        for n in self.nodes.values():
            attrs = {"isExpanded": "false"} if n.kind == "call" else {}
            if n.kind == "xgw":
                attrs = {"isMarkerVisible": "true"}
            s = shape(n.id, self.bounds[n.id], **attrs)
            if KIND_SHAPE[n.kind] in ("event", "gateway") and n.name:
                x, y, w, h = self.bounds[n.id]
                lab = etree.SubElement(s, q("bpmndi", "BPMNLabel"))
                etree.SubElement(lab, q("dc", "Bounds"), x=_n(x + w / 2 - 45), y=_n(y + h + 4),
                                 width="90", height="27")
        loop_index = {}
        for f in self.flows:
            i = 0
            if f.id in self.back_edges:
                lane = self.nodes[f.source].lane
                i = loop_index.get(lane, 0)
                loop_index[lane] = i + 1
            e = etree.SubElement(plane, q("bpmndi", "BPMNEdge"), id=f"{f.id}_di", bpmnElement=f.id)
            for (x, y) in self._waypoints(f, i):
                etree.SubElement(e, q("di", "waypoint"), x=_n(x), y=_n(y))
        for g in self.groups:
            xs = [self.bounds[m] for m in g.members]
            x0 = min(b[0] for b in xs) - 18
            y0 = min(b[1] for b in xs) - 30
            x1 = max(b[0] + b[2] for b in xs) + 18
            y1 = max(b[1] + b[3] for b in xs) + 22
            shape(g.id, (x0, y0, x1 - x0, y1 - y0))


def _n(v):
    v = round(v)
    return str(int(v))
