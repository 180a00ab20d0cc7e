"""Registers (and the organisation's relationship portfolio) as spreadsheets: template, export, previewed import."""
