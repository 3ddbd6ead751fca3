"""What a Go module tells the chain about itself, read from its files (pure: no engine, no git).

* :mod:`.gomod` parses ``go.mod`` (module path, ``go`` version, ``tool`` directives);
* :mod:`.layout` finds the main packages, ``vendor/`` and a ``go.work`` workspace;
* :mod:`.derive` turns those into the ``dlc`` values a project did not set
  (org, repo, main package, binary name).
"""
