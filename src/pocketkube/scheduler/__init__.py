"""The scheduler: binds pending pods to nodes that fit them (filter → score → pods/binding)."""
