"""pocketkube: real Kubernetes pods on one Linux machine, behind the real Kubernetes API."""

__version__ = "0.1.0"
