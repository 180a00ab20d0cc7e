"""The bundled decision tables (bpmn/partner_selection.dmn, issue_escalation.dmn, review_cadence.dmn) and edits to them,
as a process owner makes."""

from __future__ import annotations

from lxml import etree

from tests.support.bundles import ROOT

DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
PARTNER_SELECTION = ROOT / "bpmn" / "partner_selection.dmn"
ISSUE_ESCALATION = ROOT / "bpmn" / "issue_escalation.dmn"
REVIEW_CADENCE = ROOT / "bpmn" / "review_cadence.dmn"


def cell(content: bytes, entry_id: str) -> str:
    """The text of one input or output cell, by its element id (e.g. rule_culture_factor)."""
    tree = etree.fromstring(content)
    return tree.find(f".//*[@id='{entry_id}']/{{{DMN}}}text").text


def with_cells(content: bytes, cells: dict[str, str]) -> bytes:
    """The decision table with the given cells ({entry id: new text}) changed, everything else as it was."""
    tree = etree.fromstring(content)
    for entry_id, text in cells.items():
        node = tree.find(f".//*[@id='{entry_id}']/{{{DMN}}}text")
        assert node is not None, f"no cell {entry_id}"
        node.text = text
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
