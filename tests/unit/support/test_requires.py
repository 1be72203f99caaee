"""A missing prerequisite skips locally and fails in CI; in CI no skip of any kind passes quietly.

Each case runs a small test file in a pytest of its own (pytester), with the hooks of
tests/support/requires.py installed as tests/conftest.py installs them for the real suite.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

from tests.support import requires


@pytest.mark.skipif(True, reason="a skipif mark")
def test_marked():
    pass


def test_bare_skip():
    pytest.skip("a bare skip")


def test_missing_binary():
    requires.binary("pocketkube-no-such-binary")


@pytest.mark.xfail(reason="a known bug")
def test_expected_failure():
    assert False


def test_runs():
    assert requires.path(__import__("pathlib").Path(__file__), "this file")
"""


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: bool, **files: str) -> pytest.RunResult:
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(**files)
    return pytester.runpytest_inprocess("-p", "tests.support.requires", "-p", "no:cacheprovider", "-rA",
                                        "-W", "ignore::pytest.PytestAssertRewriteWarning",
                                        "-o", "asyncio_default_fixture_loop_scope=function")


def test_locally_every_kind_of_skip_is_a_skip(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(pytester, monkeypatch, False, test_skips=SKIPPING)
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    result.stdout.fnmatch_lines(["*a skipif mark*", "*a bare skip*", "*pocketkube-no-such-binary not found*"])


def test_in_ci_every_kind_of_skip_fails(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(pytester, monkeypatch, True, test_skips=SKIPPING)
    # a skipif mark is decided in setup, so it reports as an error; the xfail stays an xfail
    result.assert_outcomes(passed=1, failed=2, errors=1, xfailed=1)
    result.stdout.fnmatch_lines_random([
        "*skipped in CI, where every test must run: a skipif mark*",
        "*skipped in CI, where every test must run: a bare skip*",
        "*test prerequisite missing in CI: pocketkube-no-such-binary not found*",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_in_ci_a_module_level_skip_fails(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    module = 'import pytest\npytest.importorskip("pocketkube_no_such_module")\n\ndef test_never():\n    pass\n'
    run(pytester, monkeypatch, False, test_module=module).assert_outcomes(skipped=1)
    result = run(pytester, monkeypatch, True, test_module=module)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*module skipped in CI, where every test must run: *pocketkube_no_such_module*"])
