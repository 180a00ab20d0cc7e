"""The process owner workbench: version history, the BPMN modeller, uploads, diffs, migrations, forms."""
