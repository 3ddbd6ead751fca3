"""What a person reads of an image build, and what is kept of it: the build display, the
engine's log parsed (Docker's and Buildah's), the log files in .dlc/logs, push summaries."""

from __future__ import annotations

import io
import itertools
import os
import re
from pathlib import Path

import pytest

from dlc_tasks.errors import BuildError
from dlc_tasks.model.status import Status
from dlc_tasks.reporting import buildview
from dlc_tasks.reporting.buildlog import BuildSteps, Instruction, Mark, classify, clean
from dlc_tasks.reporting.console import Command, Console, Outcome
from dlc_tasks.reporting.runlogs import RunLogs

# What Docker 20.10's legacy builder streams for a production build (cache hits, one RUN
# whose stderr the engine paints red, an intermediate container), line by line.
DOCKER = """\
Step 1/7 : ARG RUNTIME_IMAGE=alpine:3.18
Step 2/7 : FROM ${RUNTIME_IMAGE}
 ---> 94194c72038f
Step 3/7 : WORKDIR /app
 ---> Using cache
 ---> c5054519b16b
Step 4/7 : COPY dance-lessons-coach /app/dance-lessons-coach
 ---> 6b981931efc5
Step 5/7 : RUN echo checking &&     ls /app
 ---> Running in 64fd1178e1f5
checking
\x1b[91mls: warning on stderr
\x1b[0mdance-lessons-coach
Removing intermediate container 64fd1178e1f5
 ---> 7f90ba0111e2
Step 6/7 : USER 65532:65532
 ---> Running in 0a1b2c3d4e5f
Removing intermediate container 0a1b2c3d4e5f
 ---> a582a9c0808b
Step 7/7 : LABEL "io.dlc-tasks.deps-hash"="bceb19ccf5955c98"
 ---> Running in 1392f038905f
Removing intermediate container 1392f038905f
 ---> 1f2dc35f7774
Successfully built 1f2dc35f7774
Successfully tagged 127.0.0.1:5000/arcodange/dance-lessons-coach:62ae420fba94
""".splitlines()

# The same build by Buildah (podman build, or Podman's Docker API): ARG before FROM is not
# a step of its own there.
BUILDAH = """\
STEP 1/6: FROM alpine:3.18
STEP 2/6: WORKDIR /app
--> Using cache 5e27eca7c921855759cb8139b3e16ccf5b0190c09ca73994ee9fbb323cb59a2d
--> 5e27eca7c92
STEP 3/6: COPY dance-lessons-coach /app/dance-lessons-coach
--> bc2f8bdc522
STEP 4/6: RUN echo checking &&     ls /app
checking
dance-lessons-coach
--> 1a2b3c4d5e6
STEP 5/6: USER 65532:65532
--> 0a1b2c3d4e5
STEP 6/6: LABEL "io.dlc-tasks.deps-hash"="bceb19ccf5955c98"
COMMIT 127.0.0.1:5000/arcodange/dance-lessons-coach:62ae420fba94
--> 249c6efa5e3
Successfully tagged 127.0.0.1:5000/arcodange/dance-lessons-coach:62ae420fba94
249c6efa5e35878db2b86a66d84eaeb727eea7a0f3f84c965a684af0e9b5973c
""".splitlines()


def ticking() -> BuildSteps:
    """Steps whose clock advances one second per reading."""
    clock = itertools.count(0.0, 1.0)
    return BuildSteps(clock=lambda: next(clock))


def steps_of(lines: list[str]) -> tuple[list[str], list[str]]:
    steps, output, ended = ticking(), [], []
    for line in lines:
        done, text = steps.feed(clean(line))
        ended += done
        if text is not None:
            output.append(text)
    ended += steps.close()
    return [
        f"{d.instruction.keyword} {'cached' if d.cached else ''}".strip() for d in ended
    ], output


@pytest.mark.parametrize("lines", [DOCKER, BUILDAH], ids=["docker", "buildah"])
def test_one_step_per_layer_instruction_and_only_the_commands_output(lines: list[str]) -> None:
    steps, output = steps_of(lines)
    assert steps == ["FROM", "WORKDIR cached", "COPY", "RUN"]
    assert [line for line in output if "stderr" not in line] == ["checking", "dance-lessons-coach"]


def test_lines_are_classified_for_both_engines() -> None:
    assert classify("Step 5/7 : RUN echo a &&     ls") == Instruction(5, 7, "RUN echo a && ls")
    assert classify("STEP 4/6: RUN echo hi") == Instruction(4, 6, "RUN echo hi")
    assert classify(" ---> Using cache") is Mark.CACHED
    assert classify("--> Using cache 5e27eca7c921855759cb8139b3e16ccf") is Mark.CACHED
    for noise in (
        " ---> 94194c72038f",
        " ---> Running in 64fd1178e1f5",
        "Removing intermediate container 64fd1178e1f5",
        "Successfully built 1f2dc35f7774",
        "Successfully tagged r/x:1",
        "COMMIT r/x:1",
        "--> 249c6efa5e3",
        "249c6efa5e35878db2b86a66d84eaeb727eea7a0f3f84c965a684af0e9b5973c",
    ):
        assert classify(noise) is Mark.NOISE, noise
    assert (
        classify("go: downloading example.com/x v1.0.0") == "go: downloading example.com/x v1.0.0"
    )


def test_clean_removes_the_engines_control_characters() -> None:
    assert clean("\x1b[91mwarning\x1b[0m\n") == "warning"
    assert clean("10%\r50%\r100%") == "100%"
    assert clean("bell\x07 and tab\tkept") == "bell and tab\tkept"


def view_for(tmp_path: Path, stream: io.StringIO) -> tuple[Console, Path]:
    return Console(stream=stream), tmp_path / "logs" / "run" / "prod.log"


def test_plain_build_prints_one_line_per_step_with_its_duration_and_logs_everything(
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    console, log = view_for(tmp_path, out)
    with console.build(log) as view:
        for line in DOCKER:
            view.feed(line + "\n" if line.startswith("Step") else line)
    printed = out.getvalue().splitlines()
    assert len(printed) == 4  # FROM, WORKDIR, COPY, RUN: the settings add no line
    assert [line.split("] ", 1)[1].split()[0] for line in printed] == [
        "[2/7]",
        "[3/7]",
        "[4/7]",
        "[5/7]",
    ]
    assert "WORKDIR /app" in printed[1] and printed[1].endswith("s  cached")
    assert all(line.rstrip().split()[-1].endswith("s") for line in (printed[0], *printed[2:]))
    text = out.getvalue()
    for noise in ("--->", "Running in", "Removing intermediate", "Successfully", "stderr"):
        assert noise not in text
    assert "\x1b" not in text
    kept = log.read_text().splitlines()
    assert kept == [clean(line) for line in DOCKER]  # the whole log, without control characters


def test_a_failed_build_shows_the_last_30_lines_and_the_log_path(tmp_path: Path) -> None:
    out = io.StringIO()
    console, log = view_for(tmp_path, out)
    output = [f"compiling package {n}" for n in range(40)]
    with pytest.raises(BuildError), console.build(log) as view:
        for line in ["Step 1/2 : FROM x", " ---> 1f2dc35f7774", "Step 2/2 : RUN make", *output]:
            view.feed(line)
        raise BuildError("docker build of x failed: The command returned a non-zero code: 2")
    printed = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert printed[0].startswith("    [1/2] FROM x")  # the failed RUN gets no line of its own
    assert printed[1] == "    the build failed; the engine's last 30 lines:"
    assert printed[2:32] == [f"      | compiling package {n}" for n in range(10, 40)]
    assert printed[32] == f"    full log: {log}"
    assert log.read_text().splitlines()[-1] == (
        "FAILED: docker build of x failed: The command returned a non-zero code: 2"
    )


def test_every_logged_and_shown_line_goes_through_the_redaction_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(buildview, "redact", lambda text: text.replace("s3cret", "***"))
    out = io.StringIO()
    console, log = view_for(tmp_path, out)
    with pytest.raises(BuildError), console.build(log) as view:
        view.feed("Step 1/1 : RUN echo s3cret")
        view.feed("token s3cret")
        raise BuildError("failed")
    assert "s3cret" not in out.getvalue()
    assert "s3cret" not in log.read_text()
    assert "token ***" in log.read_text()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_each_step_collapses_into_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = Terminal()
    console, log = view_for(tmp_path, out)
    with console.build(log) as view:
        for line in BUILDAH:
            view.feed(line)
    text = out.getvalue()
    for step in ("[1/6] FROM alpine:3.18", "[2/6] WORKDIR /app", "[4/6] RUN echo checking"):
        assert step in text
    assert "--> " not in text and "COMMIT" not in text
    assert not any(line.startswith("[") for line in text.splitlines())  # no timestamps


def test_run_logs_keep_the_last_20_runs(tmp_path: Path) -> None:
    root = tmp_path / ".dlc" / "logs"
    for n in range(25):
        (root / f"2026010{n // 10}T0000{n % 10}0Z-{100 + n}").mkdir(parents=True)
    (root / "notes").mkdir()  # not a run's folder: left alone
    logs = RunLogs(root)
    path = logs.path("prod:api")
    assert path.name == "prod-api.log"
    assert path.parent.name.endswith(f"-{os.getpid()}")
    runs = sorted(p.name for p in root.iterdir() if p.name != "notes")
    assert len(runs) == 20
    assert path.parent.name in runs
    assert "20260100T000000Z-100" not in runs
    assert (root / "notes").is_dir()
    assert logs.path("cache").parent == path.parent  # one folder per run


def test_a_symlinked_logs_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "logs").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(Exception, match="symbolic link"):
        RunLogs(tmp_path / "logs").path("cache")


def test_a_push_is_one_line_in_plain_mode() -> None:
    out = Console(stream=io.StringIO())
    for layer in ("a1", "b2"):
        out.layer(layer, "Preparing", None, None)
        out.layer(layer, "Pushing", 1_000_000, 4_000_000)
        out.layer(layer, "Pushed", None, None)
    out.layer("c3", "Layer already exists", None, None)
    out.end_layers()
    out.layer("a1", "Layer already exists", None, None)  # the next tag: nothing sent
    out.end_layers()
    lines = [line.split("] ", 1)[1] for line in out.stream.getvalue().splitlines()]
    assert lines == ["    pushed 2 layer(s), 8.0 MB; 1 already in the registry"]


def test_announced_commands_are_left_out_in_plain_mode_unless_debugging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decision lists the commands (a cold first push stays within 60 lines); under
    ``DLC_DEBUG=1`` each is echoed, timestamped, as it starts (the publish-invariant test
    signals the process at the second ``$ go build`` line)."""
    monkeypatch.delenv("DLC_DEBUG", raising=False)
    plain = Console(stream=io.StringIO())
    plain.output(Command("$ go vet ./..."))
    plain.output("ok  example.com/x  0.1s")
    assert "go vet" not in plain.stream.getvalue()
    assert "ok  example.com/x" in plain.stream.getvalue()
    monkeypatch.setenv("DLC_DEBUG", "1")
    debugging = Console(stream=io.StringIO())
    debugging.output(Command("$ go vet ./..."))
    assert re.fullmatch(r"\[ *\d+\.\ds\] \$ go vet \./\.\.\.\n", debugging.stream.getvalue())
    monkeypatch.delenv("DLC_DEBUG")


def test_the_plain_summary_is_one_line() -> None:
    out = Console(stream=io.StringIO())
    out.summary([Outcome("hash", Status.RAN, 0.01), Outcome("cache", Status.HIT, 0.5)])
    [line] = out.stream.getvalue().splitlines()
    assert line.endswith("] summary: hash ran 0.0s, cache hit 0.5s (0.5s)")
