"""Images as data: OCI layers, configurations, manifests and indexes, built as values.

Pure (no engine, no registry, no clock): the same inputs give the same bytes, so the
same digests, on any machine at any time. The shapes follow go-containerregistry
(``pkg/v1/mutate``, ``pkg/v1/layout``) and ko (``pkg/build/gobuild.go``): a base
image's manifest and configuration plus layers appended to them, one manifest per
platform, and an index over them. :mod:`dlc_tasks.clients.registry` writes them.
"""
