"""Thin controllers, one module per resource; `ROUTES` lists them for `create_app`."""
