"""Abuse protection: failed-attempt counters, reputation, mail sending limits."""
