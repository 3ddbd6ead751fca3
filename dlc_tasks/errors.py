"""One exception tree for the package.

Every failure a user can meet is a :class:`DlcError`; the task wrapper in
:mod:`dlc_tasks.cli.task` turns it into one line on stderr and a non-zero exit.
Each subclass says what failed and, in ``hint``, what to do about it. Every error class of
the package is declared here (the modules that raise them import them from here, and the
names they were first declared under still work), and every conversion of a lower-level
fault chains it (``raise … from err``): ``DLC_DEBUG=1`` shows the whole chain, redacted.
"""

from __future__ import annotations

from dlc_tasks.secrets import redact


def printable(text: str) -> str:
    """``text`` safe to print on any terminal or log: the bytes of a file name that is not
    UTF-8 (``os.fsdecode``'s surrogates) shown as ``\\xNN`` instead of failing the write."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate that no file name decoded to
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class DlcError(Exception):
    """Base of every error the tool reports to the user."""

    exit_code = 1
    hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def one_line(self) -> str:
        """The message and the fix, on one line, as the CLI prints it; every registered
        secret masked (before the lines are joined, so a secret holding a line break is
        found whole)."""
        text = " ".join(printable(redact(str(self))).split())
        hint = " ".join(printable(redact(self.hint)).split())
        return f"{text} ({hint})" if hint else text


class ConfigError(DlcError):
    """A configuration value is missing or malformed."""

    exit_code = 2
    hint = "fix it in invoke.yaml, an INVOKE_DLC_* variable or the task flag"


class InvalidValue(ConfigError):
    """A value that would become part of an image reference, a tag or a path is refused."""


class VersionFileError(ConfigError):
    """The VERSION file is missing or does not follow the ADR's shell format."""

    hint = "VERSION must hold MAJOR=<n>, MINOR=<n>, PATCH=<n> and optionally PRERELEASE=<tag>"


class NotFoundError(DlcError):
    """A file or an artefact an earlier task should have made is missing."""


class ToolError(DlcError):
    """An external command (git, docker-registry) failed."""


class EngineError(DlcError):
    """The Docker engine could not be reached or refused a request."""

    hint = "start the engine (./dev does) or set DOCKER_HOST"


class BuildError(EngineError):
    """``docker build`` failed; ``log`` keeps the build output's last lines."""

    hint = "read the build output above"

    def __init__(self, message: str, *, hint: str | None = None, log: list[str] | None = None):
        super().__init__(message, hint=hint)
        self.log = list(log or [])


class GoStepFailed(DlcError):
    """A Go step (generate, vet, build, test) exited non-zero inside the cache image;
    ``lines`` keeps what the command printed."""

    hint = "read the Go output above"

    def __init__(self, message: str, *, hint: str | None = None, lines: list[str] | None = None):
        super().__init__(message, hint=hint)
        self.lines = list(lines or [])


class RegistryError(DlcError):
    """The registry could not be reached or answered with an error."""

    hint = "check dlc.registry and that the registry is up"


class RegistryAuthError(RegistryError):
    """The registry refused the credentials (401/403/denied)."""

    hint = "set DLC_REGISTRY_USERNAME and DLC_REGISTRY_PASSWORD, or run docker login"


class CredentialHelperError(RegistryAuthError):
    """A credential helper (credsStore / credHelpers) failed, or answered something that is
    not a login."""

    hint = "run docker login again, or check the helper named in ~/.docker/config.json"


class RegistryTLSError(RegistryError):
    """The registry's certificate could not be verified."""

    hint = "set dlc.ca_file to the registry's CA certificate"


class RegistryRefused(RegistryError):
    """The registry refused a request; ``codes`` are the codes of its error body
    (``NAME_UNKNOWN``, ``MANIFEST_UNKNOWN``, ``TOOMANYREQUESTS``…), empty when it sent none."""

    def __init__(
        self, message: str, *, hint: str | None = None, codes: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, hint=hint)
        self.codes = codes


class RegistryUnsupported(RegistryRefused):
    """The registry does not support the request (``UNSUPPORTED``, a 405): a ``DELETE`` on a
    registry whose deletes are disabled, most often."""


class RegistryAnswerError(RegistryError):
    """The registry (or its token server) answered something the tool cannot read: a body
    that is not the JSON the API defines, a header of the wrong shape."""


class PushError(RegistryError):
    """A push failed, or a pushed tag does not name the expected digest."""


class PullError(RegistryError):
    """A pull failed, or the image pulled is not in the registry."""


class DeadlineExceeded(DlcError):
    """Something the tool waits for (a credential helper, git, a registry or token request)
    did not answer within its deadline; the hint names the setting that changes it."""

    def __init__(self, what: str, seconds: float, setting: str) -> None:
        super().__init__(
            f"{what} did not answer within {seconds:g} s",
            hint=f"check it is up, or give it longer with dlc.timeouts.{setting}",
        )
        self.setting = setting


class Inactive(DlcError):
    """A streaming step (a Go command in the cache image, an image build, a push, a pull)
    printed nothing and made no progress for the inactivity deadline."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(
            f"{what} printed nothing and made no progress for {seconds:g} s; stopped it",
            hint="find what hangs (a test waiting forever, a registry not answering), "
            "or allow longer silences with dlc.timeouts.inactivity",
        )


class FileError(DlcError):
    """A file the tool reads or writes could not be: permissions, a read-only or full file
    system, a file where a folder should be (a ``.dlc`` left by ``sudo inv``, say)."""

    @classmethod
    def of(cls, err: OSError, doing: str, path: object = None) -> FileError:
        """One line for ``err``: what could not be done to which path, and the likely fix."""
        where = str(path or err.filename or "a file")
        return cls(f"cannot {doing} {where}: {err.strerror or err}", hint=_file_fix(err, where))


def _file_fix(err: OSError, where: str) -> str:
    """The usual fix for an OSError's errno."""
    import errno  # noqa: PLC0415

    if err.errno in (errno.EACCES, errno.EPERM):
        return (
            f"give this user write access to {where} and its folder "
            "(a .dlc made by `sudo inv`: sudo chown -R $(id -u):$(id -g) .dlc)"
        )
    if err.errno == errno.EROFS:
        return "the file system is read-only there: run in a writable checkout"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk (or your quota) is full: free some space"
    if err.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return "a file stands where a folder is needed (or the reverse): move it away"
    return "check the path and its permissions; DLC_DEBUG=1 shows the traceback"


class NotAssemblable(DlcError):
    """A production Dockerfile does what only a builder can (``RUN``, ``ADD``, a build stage
    that builds, variables the tool does not expand): the engine builds it instead."""

    hint = "the engine's builder builds a Dockerfile.prod.template with such instructions"


# -- the errors of each part of the package (raised there, declared here) ----------------


class CIFileFailed(DlcError):
    """A file a CI system asked for (``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``) could not be
    written."""


class DirtyTree(DlcError):
    """A CI run found changes in its own checkout."""

    hint = "commit them (generated files out of date?), or pass --allow-dirty"


class NotAGoModule(ConfigError):
    """A task that builds or reports on a Go module was run outside one."""

    hint = (
        "run it in the module's root, where go.mod is, or set dlc.project_dir to it; "
        "`dlc init` adopts a module"
    )


class SmokeTestFailed(DlcError):
    """The production container did not start, or did not pass its health check."""

    hint = "run the image by hand: docker run --rm IMAGE"


class CheckFailed(DlcError):
    """A step of the build-cache environment check failed."""


class DoctorFailed(DlcError):
    """At least one check failed."""

    hint = "fix the lines marked FAIL above"


class PruneRefused(DlcError):
    """A tag the prune keeps now names a digest it was about to delete."""

    hint = "nothing was deleted; run inv cache.prune again"


class WorkspaceRefused(ConfigError):
    """The project is a ``go.work`` workspace, which the chain does not build."""

    hint = (
        "run dlc in one module of the workspace, or set dlc.project_dir to it: each module is "
        "built alone (GOWORK=off), its dependencies from go.mod"
    )


class MainPackageAmbiguous(ConfigError):
    """The module has no ``package main``, or more than one."""

    hint = "set dlc.main_package (or dlc.images, one per main package)"


class WouldOverwrite(DlcError):
    """``init`` found files it would change."""

    exit_code = 2
    hint = "run with --force to replace them, or --dry-run to see what would be written"


class NoRepository(DlcError):
    """The project is in no git repository and ``dlc.revision`` is not set."""

    exit_code = 2
    hint = "set dlc.revision to the revision to tag (outside git no dirty check is possible)"


class ReportWriteFailed(DlcError):
    """The run's report or history could not be written."""

    hint = "check that project_dir/.dlc is writable and the disk is not full"


class RegistryNotRunning(DlcError):
    """No registry is configured and the local one is not running, outside a chain task."""

    hint = "run inv cache (a chain task starts the local registry), or set dlc.registry"


class NoCommit(ToolError):
    """The git repository has no commit yet, so no sha can name the source."""

    hint = "commit your files first (git add -A && git commit), or set dlc.revision"


class TokenError(RegistryAuthError):
    """The token server refused, was unreachable, or answered something that is not a token."""

    hint = "check the credentials (inv doctor names their source) and that the token server is up"


class CopyBackRefused(DlcError):
    """Files the Go steps changed could not be brought back without losing or leaking something."""

    hint = "nothing was copied back; your files are as you left them"


class VersionTagTaken(DlcError):
    """``dlc.version_tags: immutable`` and the release tag already names another image."""

    hint = "run inv version.bump patch (or set dlc.version_tags: move)"


class BinaryNotTested(DlcError):
    """The binary is not the one the last successful ``test`` built (its sha256 differs)."""

    hint = "run inv test (it rebuilds the binary from the current sources)"


class GenerateFailed(GoStepFailed):
    """A ``dlc.generate`` step failed; the message names the directive when Go said which."""

    hint = (
        "leave it out in dlc.generate (go generate -skip REGEX ./..., as dlc init writes for "
        "directives the cache image cannot run) and commit its output, or make it a Go command"
    )


class EnvironmentValue(ConfigError):
    """An ``INVOKE_DLC_*`` variable that is not what its option takes."""


class VerifyFailed(DlcError):
    """The image is not what its commit builds."""

    exit_code = 1
    hint = "the image was not built from the commit its provenance names, as configured there"


class BaseNotAvailable(DlcError):
    """The base image cannot be had for every configured platform from a registry."""

    hint = (
        "pin the base by digest in a registry (REGISTRY/REPO@sha256:…) whose index has every "
        "platform of dlc.platforms, or run inv setup.base-images --platforms …"
    )


class DoctorWarning(Exception):
    """A ``doctor`` check found something worth knowing that does not fail the doctor."""
