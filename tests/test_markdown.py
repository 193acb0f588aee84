"""Lesson Markdown: ordinary Markdown renders, and nothing that runs code or
styles the page survives (scripts, javascript: URLs, event handlers, raw HTML)."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from portal.courses.markdown import render_markdown, sanitize


def test_ordinary_markdown_renders():
    """Headings, emphasis, lists, code, quotes, links and images come out as HTML."""
    out = render_markdown("# Title\n\nSome **bold**, *italic* and `code`.\n\n- one\n- two\n\n1. first\n\n"
                          "> quoted\n\n```\nblock\n```\n\n[site](https://example.test \"Site\") "
                          "![cat](https://img.example.test/cat.png)\n\n---")
    for piece in ("<h1>Title</h1>", "<strong>bold</strong>", "<em>italic</em>", "<code>code</code>",
                  "<ul>", "<li>one</li>", "<ol>", "<blockquote>", "<pre><code>block", "<hr>",
                  '<a href="https://example.test" title="Site" rel="noopener noreferrer nofollow">site</a>',
                  '<img src="https://img.example.test/cat.png" alt="cat">'):
        assert piece in out, piece


def test_result_is_markup_and_empty_text_is_empty():
    """The result is safe Markup for Jinja; nothing or blanks render as an empty string."""
    assert isinstance(render_markdown("hi"), Markup)
    assert render_markdown(None) == "" and render_markdown("  \n ") == ""


def test_tables_render():
    """GitHub-style tables are allowed (table parts are on the list); alignment, an inline style, is dropped."""
    out = render_markdown("| a | b |\n|---|--:|\n| 1 | 2 |")
    assert "<table>" in out and "<th>a</th>" in out and "<td>2</td>" in out and "style=" not in out


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "hello <script src=https://evil.test/x.js></script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="https://example.test" onclick="steal()">x</a>',
    '<div style="position:fixed">overlay</div>',
    "<iframe src=https://evil.test></iframe>",
    "<svg onload=alert(1)>",
])
def test_raw_html_is_not_rendered(text):
    """Raw HTML in Markdown is shown as text, never as tags."""
    out = render_markdown(text)
    assert "<script" not in out and "<img" not in out and "<iframe" not in out and "<svg" not in out
    assert "<div" not in out and "<a " not in out
    assert "&lt;" in out


@pytest.mark.parametrize("text", [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
])
def test_dangerous_urls_do_not_become_links(text):
    """javascript:, vbscript: and data: URLs never become an href or a src."""
    out = render_markdown(text).lower()
    assert 'href="javascript' not in out and 'href="vbscript' not in out and 'href="data' not in out
    assert 'src="javascript' not in out


def test_images_only_load_over_http():
    """An image with a relative or data: source keeps its alt text but loses its source."""
    out = render_markdown("![local](/etc/passwd) ![inline](data:image/png;base64,AAAA) "
                          "![ok](http://i.example.test/a.png)")
    assert 'src="/etc/passwd"' not in out and "data:image" not in out
    assert 'src="http://i.example.test/a.png"' in out


@pytest.mark.parametrize("html, kept, gone", [
    ('<p onclick="x()">hi</p>', "<p>hi</p>", "onclick"),
    ('<a href="javascript:alert(1)">x</a>', ">x</a>", "javascript"),
    ('<a href="https://e.test" target="_blank" rel="opener">x</a>', 'rel="noopener noreferrer nofollow"', "_blank"),
    ("<script>alert(1)</script>after", "after", "alert"),
    ('<style>body{display:none}</style><p style="color:red">p</p>', "<p>p</p>", "display"),
    ('<img src="https://i.test/a.png" onerror="x()">', 'src="https://i.test/a.png"', "onerror"),
    ("<form action=/x><input name=a></form>text", "text", "<input"),
])
def test_the_sanitizer_is_the_second_line(html, kept, gone):
    """Even HTML that did not come from the Markdown parser loses handlers, scripts, styles and forms."""
    out = sanitize(html)
    assert kept in out and gone not in out
