"""Flows: list, overview, stage and policy bindings, diagram, simulator, import and export."""
