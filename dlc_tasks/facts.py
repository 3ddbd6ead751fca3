"""What one run reads from the world: each fact computed lazily, once, and shared by its tasks.

The settings, the VERSION, the revision and the dirty state of the tree, the source and
dependency digests, the registry's address, the repositories and the tags every image is
pushed under, and the cache image the run stands on. A step's ``decide`` is a function of
these, its stamps and read-only lookups (a manifest ``HEAD``, the engine's image list).

Reading a fact changes nothing on any machine: the registry's address is the configured
one or the local registry's, which is not started here (that is
:meth:`dlc_tasks.run.Run.prepare`'s). What a step changes itself, it says, and only the
facts that depend on it are computed again: :meth:`Facts.sources_changed` after
``generate`` wrote files, :meth:`Facts.version_changed` after ``version.bump`` rewrote
VERSION. Nothing else invalidates a fact: a watch loop's next cycle is a new run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import file_sha256
from dlc_tasks.errors import NoRepository, NotFoundError
from dlc_tasks.model import depshash, sourcetree
from dlc_tasks.model.dirtytree import TreeState, judge
from dlc_tasks.model.refs import check_tag
from dlc_tasks.model.stamps import CacheStamp, GenerateStamp
from dlc_tasks.model.state import State
from dlc_tasks.model.versionfile import Version, image_tags, read_version

if TYPE_CHECKING:
    from dlc_tasks.config import Settings
    from dlc_tasks.model.refs import Repository
    from dlc_tasks.model.targets import ImageTarget

__all__ = ["CacheImage", "Facts"]


@dataclass(frozen=True)
class CacheImage:
    """The build-cache image of the run's dependency hash: its tag and its digest."""

    ref: str
    digest: str


class Facts:
    """One run's view of the world, each value computed on first use and kept."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._version: Version | None = None
        self._deps: depshash.DepsHash | None = None
        self._source: str | None = None
        self._tree: TreeState | None = None
        self._registry: str | None = None
        self._cache_image: CacheImage | None = None
        self._commit_time: int | None = None

    # -- what a step changes itself ---------------------------------------------------------

    def sources_changed(self) -> None:
        """``generate`` wrote files: the source digest and the tree's state are read again."""
        self._source = None
        self._tree = None

    def version_changed(self) -> None:
        """VERSION was rewritten: the version, the tags and the tree's state are read again."""
        self._version = None
        self._tree = None

    def learn_cache_image(self, image: CacheImage) -> None:
        """The cache step found (or built) the cache image of the hash: later steps use it."""
        self._cache_image = image

    # -- files -------------------------------------------------------------------------------

    def version(self) -> Version:
        """The parsed VERSION file."""
        if self._version is None:
            self._version = read_version(self.settings.version_file)
        return self._version

    def deps(self) -> depshash.DepsHash:
        """The dependency hash of the current inputs."""
        if self._deps is None:
            s = self.settings
            self._deps = depshash.compute(
                s.project_dir,
                s.dockerfile_build,
                s.cache_build_args,
                s.goproxy_dir,
                [str(p) for p in s.platforms],
            )
        return self._deps

    def source_digest(self) -> str:
        """The digest of the Go source tree, minus what the chain writes itself."""
        if self._source is None:
            self._source = sourcetree.digest(self.settings.project_dir, exclude=self.not_source())
        return self._source

    def source_fingerprints(self) -> dict[str, tuple[str, int]]:
        """Each source file's (sha256, mtime) now: a measurement, not a kept fact (``generate``
        compares the tree before and after its work)."""
        return sourcetree.fingerprints(self.settings.project_dir, exclude=self.not_source())

    def not_source(self) -> list[Path]:
        """The tool's own outputs in the tree, which no source digest covers."""
        s = self.settings
        return [s.hash_file, s.coverage_file, s.dockerfile_prod]

    def build_inputs(self) -> list[Path]:
        """Every file the build reads: the source digest's files and the configured inputs
        inside the project (``prod_files``, VERSION, the Dockerfiles), unresolved, so that the
        dirty check judges a link and what it leads to."""
        s = self.settings
        configured = [s.version_file, s.dockerfile_build, s.dockerfile_prod_template]
        configured += [s.project_dir / name for t in s.all_images() for name in t.prod_files]
        inside = [p for p in configured if p.is_relative_to(s.project_dir) and p.is_file()]
        found = sourcetree.iter_files(s.project_dir, exclude=self.not_source())
        return list(dict.fromkeys([*found, *inside]))

    # -- git ---------------------------------------------------------------------------------

    def tree(self) -> TreeState:
        """The revision and the uncommitted changes the build sees, judged by the dirty-tree
        rule (:mod:`dlc_tasks.model.dirtytree`).

        The revision is ``dlc.revision`` when set, else git's commit; the git check runs
        wherever there is a git repository, whatever names the revision. Outside one,
        ``dlc.revision`` is required and no dirty check is possible.
        """
        if self._tree is None:
            from dlc_tasks.clients import git  # noqa: PLC0415

            s = self.settings
            within = s.timeouts.git
            if git.toplevel(s.project_dir, deadline=within) is None:
                if not s.revision:
                    raise NoRepository(f"{s.project_dir} is not in a git repository")
                revision, changed = check_tag(s.revision), []
            else:
                revision = check_tag(s.revision) if s.revision else ""
                revision = revision or git.head(s.project_dir, deadline=within)
                changed = git.uncommitted(
                    s.project_dir,
                    self.build_inputs(),
                    generated=self._generated_outputs(),
                    deadline=within,
                )
            under_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
            self._tree = judge(revision, changed, under_ci=under_ci, allow_dirty=s.allow_dirty)
        return self._tree

    def commit_time(self) -> int:
        """The time every layer and configuration of an assembled image carries: the commit's
        (0 outside git), so one commit gives one image whenever and wherever it is built."""
        if self._commit_time is None:
            from dlc_tasks.clients import git  # noqa: PLC0415

            s = self.settings
            inside = git.toplevel(s.project_dir, deadline=s.timeouts.git) is not None
            self._commit_time = (
                git.commit_time(s.project_dir, deadline=s.timeouts.git) if inside else 0
            )
        return self._commit_time

    def revision(self) -> str:
        """The revision the images are tagged and labelled with (see :meth:`tree`)."""
        return self.tree().revision

    def _generated_outputs(self) -> set[str]:
        """The files the last generate wrote that are still as it wrote them."""
        stamp = State(self.settings.state_dir).load("generate", GenerateStamp)
        if stamp is None:
            return set()
        root = self.settings.project_dir
        return {
            rel
            for rel, sha in stamp.outputs.items()
            if (root / rel).is_file() and file_sha256(root / rel) == sha
        }

    # -- names in the registry ---------------------------------------------------------------

    def registry(self) -> str:
        """The registry's address: ``dlc.registry``, else the local registry's (which may not
        be running: starting it is the run's preparation, not a fact)."""
        if self._registry is None:
            self._registry = self.settings.registry_or_local()
        return self._registry

    def cache_repository(self) -> Repository:
        """``registry/org/repo-build-cache``."""
        return self.settings.cache_repository(self.registry())

    def prod_repository(self, target: ImageTarget | None = None) -> Repository:
        """``registry/org/NAME`` of one image (the module's one image by default)."""
        if target is None:
            return self.settings.prod_repository(self.registry())
        return self.settings.prod_repository(self.registry(), target)

    def release_tags(self) -> list[str]:
        """The tags every image is pushed under, immutable ones first and ``latest`` last.

        A tree with uncommitted changes gets only ``SHA-dirty``: never the version tag nor
        ``latest``, unless ``--allow-dirty``.
        """
        tree = self.tree()
        if not tree.release_tags:
            return [tree.revision]
        return image_tags(self.version(), tree.revision, self.settings.latest)

    def release_tag(self) -> str | None:
        """``MAJOR.MINOR.PATCH`` when VERSION has no PRERELEASE: the tag that should not move."""
        version = self.version()
        return None if version.prerelease else str(version)

    # -- what an earlier step established ----------------------------------------------------

    def cache_image(self) -> CacheImage:
        """The cache image of the current hash: the one this run's cache step found or built,
        else the one the cache stamp recorded for this hash."""
        if self._cache_image is None:
            deps = self.deps().value
            stamp = State(self.settings.state_dir).load("cache", CacheStamp)
            if stamp is None or stamp.inputs != deps:
                raise NotFoundError(
                    "no build-cache image for the current hash", hint="run inv cache"
                )
            self._cache_image = CacheImage(stamp.ref, stamp.digest)
        return self._cache_image
