"""dlc_tasks.model.gocommands and clients.gocontainer: Go's command lines and output."""

from __future__ import annotations

from dlc_tasks.clients.gocontainer import cache_volume_name
from dlc_tasks.model.gocommands import binary_command, failed_tests, total_coverage

GO_TEST_FAILURES = """\
=== RUN   TestGreet
--- PASS: TestGreet (0.00s)
=== RUN   TestParse
=== RUN   TestParse/empty
    parse_test.go:12: got "", want "x"
    --- FAIL: TestParse/empty (0.00s)
--- FAIL: TestParse (0.00s)
=== RUN   TestOther
--- FAIL: TestOther (0.01s)
FAIL
FAIL\texample.com/hello/internal/parse\t0.012s
ok  \texample.com/hello/internal/greet\t0.003s
FAIL
""".splitlines()

GO_BUILD_FAILURE = """\
# example.com/hello/internal/greet
internal/greet/greet.go:3:1: syntax error: non-declaration statement outside function body
FAIL\texample.com/hello/internal/greet [build failed]
FAIL\texample.com/hello/cmd/hello [build failed]
FAIL\texample.com/hello/internal/greet [build failed]
FAIL
""".splitlines()

COVER_FUNC = """\
example.com/hello/internal/greet/greet.go:5:\tHello\t\t100.0%
example.com/hello/cmd/hello/main.go:9:\t\tmain\t\t0.0%
total:\t\t\t\t\t\t(statements)\t\t85.7%
""".splitlines()


def test_failed_tests_names_each_failed_test_once_in_order() -> None:
    assert failed_tests(GO_TEST_FAILURES) == ["TestParse/empty", "TestParse", "TestOther"]


def test_failed_tests_falls_back_to_failed_packages() -> None:
    assert failed_tests(GO_BUILD_FAILURE) == [
        "example.com/hello/internal/greet",
        "example.com/hello/cmd/hello",
    ]


def test_failed_tests_of_a_passing_run_is_empty() -> None:
    assert failed_tests(["ok  \texample.com/hello\t0.01s", "PASS"]) == []


def test_total_coverage() -> None:
    assert total_coverage(COVER_FUNC) == "85.7%"
    assert total_coverage(["total:\t(statements)\t100.0%", "trailing noise"]) == "100.0%"
    assert total_coverage(GO_TEST_FAILURES) is None


def test_binary_command_passes_the_link_flags() -> None:
    assert binary_command("./cmd/hello", ".dlc/hello") == [
        "go",
        "build",
        "-ldflags=-s -w",
        "-o",
        ".dlc/hello",
        "./cmd/hello",
    ]
    assert binary_command("./cmd/hello", "out", "-s -w -X main.version=1.2.3-rc.1")[2] == (
        "-ldflags=-s -w -X main.version=1.2.3-rc.1"
    )


def test_cache_volume_name_uses_sixteen_hash_digits() -> None:
    assert cache_volume_name("svc", "0123456789abcdef" * 4) == "dlc-gocache-svc-0123456789abcdef"
