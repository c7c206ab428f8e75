"""Invitation links."""
