"""Failure reports: secrets scrubbed from them, and `--agentkit-html`'s page of the diverging cassette named in them."""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path

import pytest

from agentkit_testing._pytest._stats import scrubber_key, test_called_key, test_failed_key


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Failure output goes to CI logs: secrets are scrubbed from it with the test's cassette rules."""
    report = yield
    if report.when == "call":
        item.stash[test_called_key] = True
    if report.when in ("setup", "call") and not report.passed:
        item.stash[test_failed_key] = True
    if report.failed and call.excinfo is not None and item.config.getoption("--agentkit-html"):
        _point_to_divergence_page(item, report, call.excinfo.value)
    if report.failed:
        from agentkit_testing._secrets import Scrubber

        scrubber = (item.stash.get(scrubber_key, None) or Scrubber()).refresh()
        if report.longrepr is not None:
            text = str(report.longrepr)
            clean = scrubber.scrub_text(text)
            if clean != text:  # a failure without secrets keeps its rich (coloured) form
                report.longrepr = clean
        report.sections = [(title, scrubber.scrub_text(content)) for title, content in report.sections]
    return report


def _point_to_divergence_page(item: pytest.Item, report: pytest.TestReport, error: BaseException) -> None:
    """`--agentkit-html`: write the page of the cassette the test's replay diverged from; name it in the report."""
    if "agentkit_testing._exceptions" not in sys.modules:
        return  # no divergence can exist before its class is imported: a session without cassettes skips the viewer
    from agentkit_testing._viewer._divergence_page import report_divergence_page

    directory = Path(str(item.config.invocation_params.dir)) / str(item.config.getoption("--agentkit-html"))
    text = report_divergence_page(error, directory, item.nodeid)
    if text is None:
        return
    add_section = getattr(report.longrepr, "addsection", None)  # pytest's ExceptionRepr
    if callable(add_section):  # inside the failure, so --show-capture=no keeps it
        add_section("agentkit cassette page", text)
    else:
        report.sections.append(("agentkit cassette page", text))
