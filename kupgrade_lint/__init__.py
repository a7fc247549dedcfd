"""kupgrade-lint: find what breaks at every hop of a Kubernetes upgrade, before you start."""

__version__ = "0.1.0"
