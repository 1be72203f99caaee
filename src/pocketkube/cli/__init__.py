"""Command line: `pocketkube server | kubeconfig | …`; thin wrappers over the server package."""
