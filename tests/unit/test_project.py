"""dlc_tasks.project: go.mod parsing and the values derived from a module's shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlc_tasks.config import Settings
from dlc_tasks.errors import ConfigError, NotFoundError
from dlc_tasks.project import derive, gomod, layout, remote
from tests.support.files import write_files

write = write_files


MAIN = "package main\n\nfunc main() {}\n"


def test_parse_reads_module_go_and_tools_with_comments_and_blocks() -> None:
    mod = gomod.parse(
        '// header\nmodule "github.com/Acme/My_Tool/v2" // the path\n\ngo 1.24\n'
        "require (\n\tgolang.org/x/mod v0.1.0\n)\n"
        "tool golang.org/x/tools/cmd/stringer\n"
        "tool (\n\texample.com/gen // comment\n\texample.com/other\n)\n"
    )
    assert mod.module == "github.com/Acme/My_Tool/v2"
    assert mod.go == "1.24"
    assert mod.tools == ["golang.org/x/tools/cmd/stringer", "example.com/gen", "example.com/other"]
    assert mod.elements == ["github.com", "Acme", "My_Tool"]  # /v2 is a version, not a name


def test_parse_refuses_a_go_mod_without_module() -> None:
    with pytest.raises(ConfigError, match="no module directive"):
        gomod.parse("go 1.22\n")


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("github.com/arcodange/dance-lessons-coach", ("arcodange", "dance-lessons-coach")),
        ("gitea.example.com/Team/Some.Tool/v3", ("team", "some.tool")),
        ("example.com/hello", ("example", "hello")),
        ("golang.org/x/tools", ("x", "tools")),
        ("hello", ("hello", "hello")),
        ("corp/app", ("corp", "app")),
    ],
)
def test_org_and_repo_come_from_the_module_path(module: str, expected: tuple[str, str]) -> None:
    assert derive.names(gomod.GoMod(module)) == expected


def test_main_packages_follow_go_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "go.mod": "module example.com/m\n",
            "cmd/a/main.go": "// Command a.\n/* package lib */\npackage main\n",
            "cmd/a/a_test.go": "package main\n",
            "lib/lib.go": "package lib\n",
            "lib/x_test.go": "package main\n",  # tests do not make a main package
            "vendor/v/main.go": MAIN,
            "testdata/t/main.go": MAIN,
            ".hidden/main.go": MAIN,
            "_skip/main.go": MAIN,
            "nested/go.mod": "module example.com/nested\n",
            "nested/main.go": MAIN,
        },
    )
    assert layout.main_packages(tmp_path) == ["./cmd/a"]
    assert layout.the_main_package(tmp_path) == "./cmd/a"


def test_the_modules_own_tools_are_not_main_packages(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "go.mod": "module example.com/m\n\ngo 1.24\n\ntool (\n\texample.com/m/internal/gen\n"
            "\tgolang.org/x/tools/cmd/stringer\n)\n",
            "cmd/app/main.go": MAIN,
            "internal/gen/main.go": MAIN,
        },
    )
    assert layout.tool_packages(tmp_path) == {"./internal/gen"}
    assert layout.main_packages(tmp_path) == ["./cmd/app"]


def test_several_or_no_main_packages_are_one_line_naming_the_candidates(tmp_path: Path) -> None:
    write(tmp_path, {"go.mod": "module example.com/m\n", "lib/l.go": "package lib\n"})
    with pytest.raises(layout.MainPackageAmbiguous, match="no package main"):
        layout.the_main_package(tmp_path)
    write(tmp_path, {"main.go": MAIN, "cmd/b/main.go": MAIN})
    with pytest.raises(layout.MainPackageAmbiguous) as err:
        layout.the_main_package(tmp_path)
    assert err.value.one_line() == (
        "2 main packages, pick one: ./, ./cmd/b "
        "(set dlc.main_package (or dlc.images, one per main package))"
    )


def test_settings_derive_values_and_defer_the_main_package_error_to_its_use(
    tmp_path: Path,
) -> None:
    write(
        tmp_path, {"go.mod": "module example.com/acme/app\n", "a/main.go": MAIN, "b/main.go": MAIN}
    )
    s = Settings.from_mapping({"project_dir": str(tmp_path)})
    assert (s.org, s.repo, s.main_package, s.binary_name) == ("acme", "app", None, "app")
    with pytest.raises(layout.MainPackageAmbiguous, match=r"\./a, \./b"):
        s.require_main_package()
    s = Settings.from_mapping({"project_dir": str(tmp_path), "main_package": "./b"})
    assert (s.require_main_package(), s.binary_name) == ("./b", "b")


def test_explicit_values_need_no_derivation_and_a_plain_directory_is_named_after_itself(
    tmp_path: Path,
) -> None:
    plain = tmp_path / "My Dir"
    plain.mkdir()
    s = Settings.from_mapping({"project_dir": str(plain)})
    assert (s.org, s.repo) == ("my-dir", "my-dir")
    s = Settings.from_mapping({"project_dir": str(plain), "org": "o", "repo": "r"})
    assert (s.org, s.repo, s.binary_name) == ("o", "r", "r")


def test_a_go_work_workspace_is_refused_in_one_line(tmp_path: Path) -> None:
    write(tmp_path, {"go.mod": "module example.com/m\n", "go.work": "go 1.22\nuse .\n"})
    with pytest.raises(layout.WorkspaceRefused) as err:
        Settings.from_mapping({"project_dir": str(tmp_path)})
    assert "\n" not in err.value.one_line()
    assert "go.work workspaces are not built" in err.value.one_line()


def test_vendor_detection_and_a_missing_go_mod(tmp_path: Path) -> None:
    assert not layout.vendored(tmp_path)
    write(tmp_path, {"vendor/modules.txt": "# example.com/dep v1.0.0\n"})
    assert layout.vendored(tmp_path)
    with pytest.raises(NotFoundError, match=r"go\.mod not found"):
        gomod.read(tmp_path)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/Acme/Tool.git", ("Acme", "Tool")),
        ("https://bot:token@gitea.example.com:3000/team/tool", ("team", "tool")),
        ("git@gitea.example.com:team/tool.git", ("team", "tool")),
        ("ssh://git@gitlab.example.com:2222/group/sub/tool.git", ("sub", "tool")),
        ("gitea.example.com:tool.git", None),
        ("/srv/git/team/tool.git", None),
        ("file:///srv/git/team/tool.git", None),
    ],
)
def test_the_remotes_owner_and_name(url: str, expected: tuple[str, str] | None) -> None:
    assert remote.owner_and_name(url) == expected


def test_a_worktrees_remote_is_read_from_the_common_config(tmp_path: Path) -> None:
    main = tmp_path / "main"
    (main / ".git" / "worktrees" / "wt").mkdir(parents=True)
    (main / ".git" / "config").write_text(
        '[core]\n\tbare = false\n[remote "origin"]\n\turl = git@forge.example.com:owner/name.git\n'
    )
    (main / ".git" / "worktrees" / "wt" / "commondir").write_text("../..\n")
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'wt'}\n")
    (wt / "go.mod").write_text("module example.com/other/thing\n")
    assert derive.org_and_repo(wt) == ("owner", "name", "the git remote origin")
    (main / ".git" / "config").write_text("[core]\n\tbare = false\n")
    assert derive.org_and_repo(wt) == ("other", "thing", "go.mod's module path")
