"""The service: use cases, the HTTP app, the CLI and the composition root."""
