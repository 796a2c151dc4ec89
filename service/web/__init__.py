"""Web pages for people: server-rendered HTML over the same use cases as the JSON API."""
