"""Controllers: one package per controller; event handlers only enqueue keys, reconcile is level-triggered."""
