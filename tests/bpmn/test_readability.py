"""Diagrams a process owner can read: each drawing (every BPMNPlane, a collapsed sub-process's included) fits
1,700 × 1,100 px, so the modeller opens it on a 1366×768 screen at a zoom of at least 0.5 (the browser test
measures that zoom), and bookkeeping lives in the pre- and post-scripts of the tasks it serves: script tasks are
at most 10 % of a process's flow nodes."""

import pytest
from lxml import etree

from tests.bpmn.test_di import NS, flow_nodes
from tests.support import diagrams as driver

FILES = driver.bpmn_files()
MAX_WIDTH, MAX_HEIGHT = 1700, 1100
MAX_SCRIPT_SHARE = 0.10


def plane_size(plane) -> tuple[float, float]:
    """The width and height of everything drawn on one plane: shapes, their labels and the edges' waypoints."""
    xs, ys = [], []
    for b in plane.iter(f"{{{NS['dc']}}}Bounds"):
        x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
        xs += [x, x + w]
        ys += [y, y + h]
    for p in plane.iter(f"{{{NS['di']}}}waypoint"):
        xs.append(float(p.get("x")))
        ys.append(float(p.get("y")))
    return max(xs) - min(xs), max(ys) - min(ys)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_drawing_fits_a_laptop_screen_at_half_zoom(path):
    tree = etree.parse(str(path))
    planes = tree.xpath("//bpmndi:BPMNPlane", namespaces=NS)
    assert planes
    for plane in planes:
        width, height = plane_size(plane)
        assert width <= MAX_WIDTH and height <= MAX_HEIGHT, (
            f"{path.name}: the drawing of {plane.get('bpmnElement')} is {width:.0f} × {height:.0f} px; "
            f"at most {MAX_WIDTH} × {MAX_HEIGHT} px opens at a readable zoom")


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_script_tasks_are_at_most_a_tenth_of_the_flow_nodes(path):
    tree = etree.parse(str(path))
    nodes = flow_nodes(tree)
    scripts = [el.get("id") for el in nodes if etree.QName(el).localname == "scriptTask"]
    assert len(scripts) <= MAX_SCRIPT_SHARE * len(nodes), (
        f"{path.name}: {len(scripts)} script tasks of {len(nodes)} flow nodes ({scripts}); move bookkeeping into "
        "the pre- or post-script of the task it serves")


def test_the_measure_sees_an_oversized_drawing_and_a_script_heavy_process():
    """The two checks above fail on what they are meant to catch."""
    wide = etree.fromstring(
        f'<bpmndi:BPMNPlane xmlns:bpmndi="{NS["bpmndi"]}" xmlns:dc="{NS["dc"]}" xmlns:di="{NS["di"]}">'
        '<bpmndi:BPMNShape><dc:Bounds x="100" y="100" width="100" height="80"/></bpmndi:BPMNShape>'
        '<bpmndi:BPMNEdge><di:waypoint x="200" y="140"/><di:waypoint x="1850" y="140"/></bpmndi:BPMNEdge>'
        '</bpmndi:BPMNPlane>')
    assert plane_size(wide) == (1750, 80)
    heavy = etree.fromstring(
        f'<definitions xmlns="{NS["bpmn"]}"><process id="p"><startEvent id="s"/><scriptTask id="a"/>'
        '<userTask id="u"/><endEvent id="e"/></process></definitions>').getroottree()
    kinds = [etree.QName(el).localname for el in flow_nodes(heavy)]
    assert sorted(kinds) == ["endEvent", "scriptTask", "startEvent", "userTask"]
