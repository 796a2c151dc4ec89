"""Peerloop's pure domain: templates, validation, requirements, cycles and the state machine."""
