"""Tests of the diagrams and forms in bpmn/ and forms/, run with plain SpiffWorkflow (see driver.py)."""
