"""Diagram interchange: every element drawn, nothing stacked on top of anything else."""

import pytest
from lxml import etree

from tests.support import diagrams as driver

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC",
      "di": "http://www.omg.org/spec/DD/20100524/DI"}
FLOW_NODES = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "scriptTask", "serviceTask", "manualTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway")

FILES = driver.bpmn_files()


def bounds(tree):
    out = {}
    for shape in tree.xpath("//bpmndi:BPMNShape", namespaces=NS):
        b = shape.find("dc:Bounds", NS)
        out[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    return out


def flow_nodes(tree):
    return [el for tag in FLOW_NODES for el in tree.xpath(f"//bpmn:process//bpmn:{tag}", namespaces=NS)]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_element_has_di(path):
    tree = etree.parse(str(path))
    shapes = bounds(tree)
    for el in flow_nodes(tree):
        assert el.get("id") in shapes, f"{path.name}: no shape for {el.get('id')}"
    for el in tree.xpath("//bpmn:lane|//bpmn:participant|//bpmn:group", namespaces=NS):
        assert el.get("id") in shapes, f"{path.name}: no shape for {el.get('id')}"
    edges = {e.get("bpmnElement"): e for e in tree.xpath("//bpmndi:BPMNEdge", namespaces=NS)}
    for flow in tree.xpath("//bpmn:sequenceFlow", namespaces=NS):
        edge = edges.get(flow.get("id"))
        assert edge is not None, f"{path.name}: no edge for {flow.get('id')}"
        assert len(edge.findall("di:waypoint", NS)) >= 2
    planes = tree.xpath("//bpmndi:BPMNPlane/@bpmnElement", namespaces=NS)
    assert planes and all(tree.xpath(f"//*[@id='{p}']") for p in planes)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_flow_node_shapes_do_not_overlap(path):
    tree = etree.parse(str(path))
    shapes = bounds(tree)
    nodes = flow_nodes(tree)
    attached = {(el.get("id"), el.get("attachedToRef")) for el in nodes if el.get("attachedToRef")}
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            ida, idb = a.get("id"), b.get("id")
            if (ida, idb) in attached or (idb, ida) in attached:
                continue        # a boundary event sits on its host's border by definition
            ax, ay, aw, ah = shapes[ida]
            bx, by, bw, bh = shapes[idb]
            overlap = ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah
            assert not overlap, f"{path.name}: {ida} overlaps {idb}"


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_nodes_sit_inside_their_lane(path):
    tree = etree.parse(str(path))
    shapes = bounds(tree)
    for lane in tree.xpath("//bpmn:lane", namespaces=NS):
        lx, ly, lw, lh = shapes[lane.get("id")]
        for ref in lane.xpath("bpmn:flowNodeRef/text()", namespaces=NS):
            x, y, w, h = shapes[ref]
            cy = y + h / 2
            assert lx <= x and x + w <= lx + lw and ly <= cy <= ly + lh, f"{path.name}: {ref} outside its lane"


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_layout_reads_left_to_right(path):
    """Sequence flows go right, except the loops back (rework, revise, next trigger)."""
    tree = etree.parse(str(path))
    shapes = bounds(tree)
    backwards = []
    for flow in tree.xpath("//bpmn:sequenceFlow", namespaces=NS):
        sx = shapes[flow.get("sourceRef")][0]
        tx = shapes[flow.get("targetRef")][0]
        if tx <= sx and not flow.get("sourceRef").endswith(("_timer",)):
            backwards.append((flow.get("id"), flow.get("name")))
    assert all(name in ("rework", "revise", "another management cycle", "wait for the next trigger")
               for _, name in backwards), backwards


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_edges_do_not_cross_other_shapes(path):
    tree = etree.parse(str(path))
    shapes = bounds(tree)
    nodes = {el.get("id"): el for el in flow_nodes(tree)}
    flows = {f.get("id"): f for f in tree.xpath("//bpmn:sequenceFlow", namespaces=NS)}
    for edge in tree.xpath("//bpmndi:BPMNEdge", namespaces=NS):
        flow = flows[edge.get("bpmnElement")]
        skip = {flow.get("sourceRef"), flow.get("targetRef"), nodes[flow.get("sourceRef")].get("attachedToRef")}
        pts = [(float(p.get("x")), float(p.get("y"))) for p in edge.findall("di:waypoint", NS)]
        for (x1, y1), (x2, y2) in zip(pts, pts[1:], strict=False):
            for nid in nodes:
                if nid in skip:
                    continue
                bx, by, bw, bh = shapes[nid]
                crosses = (min(x1, x2) < bx + bw and max(x1, x2) > bx and min(y1, y2) < by + bh and max(y1, y2) > by)
                assert not crosses, f"{path.name}: {flow.get('id')} crosses {nid}"
