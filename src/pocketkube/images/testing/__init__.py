"""The image seam's conformance suite (`checks`) and the in-memory archive builders it and the
image tests share (`archives`)."""

from pocketkube.images.testing.checks import (
    CHECKS,
    FILES,
    FULL_CONFIG,
    NO_CONFIG,
    AddImage,
    Check,
    Harness,
    import_with_archive,
    write_docker_archive,
)

__all__ = ["CHECKS", "FILES", "FULL_CONFIG", "NO_CONFIG", "AddImage", "Check", "Harness", "import_with_archive",
           "write_docker_archive"]
