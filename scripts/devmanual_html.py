#!/usr/bin/python3
"""Renders the developer manual (README.md and docs/*.md) as one self-contained HTML page (no
scripts, no external assets), served at GET /docs/dev/index.html (GET /4/docs/dev redirects
there). Usage: devmanual_html.py OUT.html DOC.md...

Needs python3 and python3-markdown (Debian; scripts/setup.sh installs it). The documents
appear in the order given, each as a section with a contents entry. Links between them
(`docs/MATCHING.md`, `MATCHING.md#limits`, `../README.md`) become in-page links; links to
other repository files (`src/...`, `bench/...`) cannot be followed from the server and are
kept as their text; absolute links (https://...) stay. Every heading id is prefixed with its
document's id, so the ids are unique in the page. Output is deterministic for a given input
(the build embeds it)."""
import html
import os
import re
import sys

import markdown

CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#222}
h1,h2,h3,h4{line-height:1.25}section>h1{border-bottom:2px solid #ddd;padding-bottom:.3rem;margin-top:3rem}
code,pre{font:13px/1.4 ui-monospace,monospace;background:#f5f5f5}code{padding:0 .2em}
pre{padding:.6rem;overflow-x:auto}pre code{padding:0}
table{border-collapse:collapse;margin:1rem 0;font-size:13px;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.2rem .4rem;vertical-align:top}th{background:#f0f0f0}
nav li{margin:.1rem 0}a{color:#0550ae}
"""


def doc_id(path):
    return os.path.splitext(os.path.basename(path))[0].lower().replace("_", "-")


def slugify_for(prefix):
    def slugify(value, separator):
        s = re.sub(r"[^\w\s-]", "", value, flags=re.UNICODE).strip().lower()
        return prefix + separator + re.sub(r"[\s-]+", separator, s)

    return slugify


_HREF = re.compile(r'<a href="([^"]*)"([^>]*)>(.*?)</a>', re.S)


def rewrite_links(body, ids, did):
    """ids: file basename (e.g. MATCHING.md) -> document id; did: this document's id."""

    def fix(m):
        href, rest, text = m.group(1), m.group(2), m.group(3)
        if href.startswith("#"):  # within this document: its ids carry the prefix
            return '<a href="#%s-%s"%s>%s</a>' % (did, href[1:], rest, text)
        if re.match(r"^[a-z][a-z0-9+.-]*:", href):
            return m.group(0)
        target, _, frag = html.unescape(href).partition("#")
        name = os.path.basename(target)
        if name in ids:
            anchor = ids[name] if not frag else ids[name] + "-" + frag
            return '<a href="#%s"%s>%s</a>' % (html.escape(anchor, quote=True), rest, text)
        return text  # another repository file: not served, keep the words

    return _HREF.sub(fix, body)


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: devmanual_html.py OUT.html DOC.md...")
    out, docs = argv[1], argv[2:]
    ids = {os.path.basename(d): doc_id(d) for d in docs}
    sections, toc = [], []
    for d in docs:
        with open(d, encoding="utf-8") as f:
            text = f.read()
        did = doc_id(d)
        md = markdown.Markdown(
            extensions=["tables", "fenced_code", "toc", "sane_lists"],
            extension_configs={"toc": {"slugify": slugify_for(did)}},
        )
        body = rewrite_links(md.convert(text), ids, did)
        first = next((t for t in md.toc_tokens), None)
        title = html.unescape(first["name"]) if first else os.path.basename(d)
        toc.append('<li><a href="#%s">%s</a> <small>(%s)</small></li>'
                   % (did, html.escape(title), html.escape(os.path.relpath(d, os.path.dirname(docs[0])))))
        sections.append('<section id="%s">\n%s\n</section>' % (did, body))
    page = (
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>faceport developer manual</title>\n<style>%s</style>\n</head>\n<body>\n"
        "<h1>faceport developer manual</h1>\n"
        "<p>The project's documents as of this build. The API itself: "
        "<a href=\"/4/docs/spec\">/4/docs/spec</a> (send <code>Accept: text/html</code> or "
        "<code>application/x-yaml</code>).</p>\n"
        "<nav><ul>\n%s\n</ul></nav>\n%s\n</body>\n</html>\n"
    ) % (CSS, "\n".join(toc), "\n".join(sections))
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv)
