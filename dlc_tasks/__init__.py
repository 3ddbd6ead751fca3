"""dlc-tasks: ADR 0020's two-stage Docker build for a Go service, as Invoke tasks.

The package is split by concern: ``config`` (the ``dlc`` section of Invoke's
configuration), ``depshash`` (what names the build-cache image), ``versionfile``
and ``refs`` (what the image is tagged), ``registry`` and ``engine`` (the two
seams to the outside world), ``gosteps`` (Go inside the cache image),
``render`` (the production Dockerfile) and ``chain`` (the tasks that wire them).
Heavy imports (the docker SDK, plumbum) happen inside task bodies so that
``inv --list`` and tab completion stay fast.
"""

__version__ = "0.1.0"
