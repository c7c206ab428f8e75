"""The dashboard and the event log."""
