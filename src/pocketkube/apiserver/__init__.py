"""HTTP API server: routing, handlers by verb, watch streaming, discovery and OpenAPI."""
