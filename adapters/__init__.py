"""Adapters: the engine's ports implemented with real technology (files, SQL, scheduler, mail)."""
