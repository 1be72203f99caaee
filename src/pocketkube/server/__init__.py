"""Composition root: starts the store, the API server and (later) controllers and the node agent."""
