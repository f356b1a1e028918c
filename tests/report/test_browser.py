"""The reality check's report opened in a real headless Chromium: no console errors, every figure decodes, names
are text."""

from browser import IMAGE_WIDTHS, SCRIPT_COUNT, open_page

from scalecheck.report.reality import write_report


def test_report_renders_in_headless_chromium(tmp_path, small_result, hostile):
    tb, result = small_result
    files = write_report(result, tb, tmp_path / "out")
    heading = "document.querySelector('#task-script-alert-1-script-co h3').innerText"
    problems, (widths, scripts, title), text = open_page(files.html, IMAGE_WIDTHS, SCRIPT_COUNT, heading)
    assert not problems, problems
    assert len(widths) == 3 and all(w > 0 for w in widths), widths
    assert scripts == 0  # the hostile task name stayed text
    assert title == hostile
    assert "Predictable (confidence" in text
