#!/usr/bin/python3
"""Renders docs/openapi.yaml as one self-contained HTML page (no scripts, no external assets),
served by GET /4/docs/spec with Accept: text/html. Usage: openapi_html.py IN.yaml OUT.html

Only python3 and PyYAML are needed. Descriptions are rendered from a small Markdown subset
(paragraphs, '- ' lists, '#'..'####' headings, `code`, **bold**, [text](url)); everything
else is escaped. Output is deterministic for a given input (the build embeds it)."""
import html
import json
import os
import re
import sys

import yaml

METHODS = ("get", "put", "post", "patch", "delete", "options", "head", "trace")


def esc(v):
    return html.escape(str(v), quote=True)


# --- Markdown subset -----------------------------------------------------------------------

_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)")


def md_inline(text):
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(esc(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append(f"<code>{esc(m.group(1))}</code>")
        elif m.group(2) is not None:
            out.append(f"<strong>{esc(m.group(2))}</strong>")
        else:
            href = m.group(4)
            if not re.match(r"^(https?://|#|/)", href):
                href = "#"
            out.append(f"<a href='{esc(href)}'>{esc(m.group(3))}</a>")
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def md(text):
    """Block-level Markdown: blank-line separated paragraphs, '- ' lists (continuation lines
    indented), '#' headings (shifted down so they sit below the page's own headings)."""
    if text is None:
        return ""
    lines = str(text).strip("\n").split("\n")
    blocks, para, items = [], [], []

    def flush_para():
        if para:
            blocks.append(f"<p>{md_inline(' '.join(s.strip() for s in para))}</p>")
            para.clear()

    def flush_list():
        if items:
            blocks.append("<ul>" + "".join(f"<li>{md_inline(' '.join(i))}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in lines:
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush_para()
            flush_list()
            continue
        h = re.match(r"^(#{1,4})\s+(.*)$", stripped)
        if h and not line.startswith(" "):
            flush_para()
            flush_list()
            level = min(max(len(h.group(1)), 3), 6)
            blocks.append(f"<h{level}>{md_inline(h.group(2))}</h{level}>")
        elif stripped.startswith("- "):
            flush_para()
            items.append([stripped[2:]])
        elif items and line.startswith(" "):
            items[-1].append(stripped)
        else:
            flush_list()
            para.append(stripped)
    flush_para()
    flush_list()
    return "\n".join(blocks)


# --- References and schemas ----------------------------------------------------------------

def ref_name(ref):
    return ref.split("/")[-1]


def resolve(spec, obj):
    """Follows a local $ref (#/components/<kind>/<name>) once; returns obj otherwise."""
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj and seen < 10:
        parts = obj["$ref"].lstrip("#/").split("/")
        node = spec
        for p in parts:
            node = node.get(p, {}) if isinstance(node, dict) else {}
        obj = node
        seen += 1
    return obj


def constraints(s):
    out = []
    if "format" in s:
        out.append(esc(s["format"]))
    lo, hi = s.get("minLength"), s.get("maxLength")
    if lo is not None and hi is not None:
        out.append(f"{lo}..{hi} characters" if lo != hi else f"exactly {lo} characters")
    elif hi is not None:
        out.append(f"≤ {hi} characters")
    elif lo is not None:
        out.append(f"≥ {lo} characters")
    lo, hi = s.get("minimum"), s.get("maximum")
    if lo is not None and hi is not None:
        out.append(f"{lo}..{hi}")
    elif lo is not None:
        out.append(f"≥ {lo}")
    elif hi is not None:
        out.append(f"≤ {hi}")
    lo, hi = s.get("minItems"), s.get("maxItems")
    if lo is not None or hi is not None:
        out.append(f"{lo if lo is not None else 0}..{hi if hi is not None else '∞'} items")
    if "pattern" in s:
        out.append(f"pattern <code>{esc(s['pattern'])}</code>")
    if "enum" in s:
        out.append("one of " + ", ".join(f"<code>{esc(json.dumps(v, ensure_ascii=False))}</code>" for v in s["enum"]))
    if "default" in s:
        out.append(f"default <code>{esc(json.dumps(s['default'], ensure_ascii=False))}</code>")
    if s.get("nullable"):
        out.append("nullable")
    return out


def schema_html(s, spec, depth=0):
    """A schema as nested HTML lists; named schemas are links to their section."""
    if not isinstance(s, dict):
        return "any"
    if "$ref" in s:
        name = ref_name(s["$ref"])
        return f"<a href='#schema-{esc(name)}'>{esc(name)}</a>"
    t = s.get("type", "")
    if t == "array":
        extra = constraints(s)
        tail = f" <small>({', '.join(extra)})</small>" if extra else ""
        return f"array{tail} of {schema_html(s.get('items'), spec, depth + 1)}"
    if t == "object" or "properties" in s:
        props = s.get("properties", {})
        req = set(s.get("required", []))
        head = "object"
        if s.get("additionalProperties") is False:
            head += " <small>(no other properties)</small>"
        elif isinstance(s.get("additionalProperties"), dict):
            head += f" <small>(any other property: {schema_html(s['additionalProperties'], spec, depth + 1)})</small>"
        if not props or depth > 3:
            return head
        rows = []
        for k, v in props.items():
            desc = v.get("description") if isinstance(v, dict) else None
            rows.append(f"<li><code>{esc(k)}</code>{' <em>required</em>' if k in req else ''}: "
                        f"{schema_html(v, spec, depth + 1)}{'<div class=d>' + md(desc) + '</div>' if desc else ''}</li>")
        return f"{head}<ul class=props>{''.join(rows)}</ul>"
    extra = constraints(s)
    return f"{esc(t or 'any')}" + (f" <small>({', '.join(extra)})</small>" if extra else "")


def example_of(media, spec):
    """The example of a media type object (or of its schema), as pretty JSON/text."""
    if "example" in media:
        return [(None, media["example"])]
    if "examples" in media:
        return [(v.get("summary", k), resolve(spec, v).get("value")) for k, v in media["examples"].items()]
    s = resolve(spec, media.get("schema", {}))
    if isinstance(s, dict) and "example" in s:
        return [(None, s["example"])]
    return []


def pretty(v):
    if isinstance(v, str):
        return v
    return json.dumps(v, indent=2, ensure_ascii=False)


# --- Page ----------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:auto;padding:1em 1.5em;line-height:1.45;color:#222}
h1{margin-bottom:.2em}h1 small{color:#777;font-weight:normal;font-size:.55em}
h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
code{background:#f3f3f3;padding:0 3px;border-radius:3px;font-size:.92em}
pre{background:#f6f8fa;border:1px solid #e3e3e3;padding:.5em .8em;overflow-x:auto;font-size:.88em;margin:.3em 0}
a{color:#0b5ed7;text-decoration:none}a:hover{text-decoration:underline}
.op{border:1px solid #ddd;border-left-width:6px;border-radius:6px;margin:1.2em 0;padding:.3em 1em .8em}
.op h3{margin:.5em 0 .2em}.op .sum{color:#555;font-size:1.05em;margin:0 0 .6em}
.m{font-weight:bold;text-transform:uppercase;display:inline-block;min-width:4.2em;padding:1px 6px;border-radius:4px;color:#fff;text-align:center;font-size:.85em;margin-right:.4em}
.m-get{background:#1f7ae0}.m-post{background:#2e9d4f}.m-patch{background:#c68a00}.m-put{background:#8a5cd0}.m-delete{background:#d0453a}
.op-get{border-left-color:#1f7ae0}.op-post{border-left-color:#2e9d4f}.op-patch{border-left-color:#c68a00}.op-put{border-left-color:#8a5cd0}.op-delete{border-left-color:#d0453a}
table{border-collapse:collapse;width:100%;margin:.4em 0}td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#fafafa}td p{margin:.2em 0}
.st{font-weight:bold;white-space:nowrap}.st2{color:#2e7d32}.st3{color:#555}.st4{color:#c62828}.st5{color:#8e24aa}
.auth{display:inline-block;background:#eef3fb;border:1px solid #cfdcf3;border-radius:4px;padding:0 6px;margin-right:4px;font-size:.9em}
.none{background:#f2f2f2;border-color:#ddd}
ul.props{margin:.2em 0;padding-left:1.3em}ul.props li{margin:.15em 0}.d{color:#555;font-size:.93em}.d p{margin:.1em 0}
.toc td{border:none;padding:2px 6px}.toc{width:auto}
.lbl{font-weight:bold;margin:.8em 0 .2em}
small{color:#666}
.codes td:first-child,.pn{white-space:nowrap}
small code{word-break:break-all}
"""


def auth_html(op, spec):
    sec = op.get("security", spec.get("security"))
    if sec is None:
        return ""
    if not sec or all(not s for s in sec):
        return "<span class='auth none'>none (public)</span>"
    names = []
    for alt in sec:
        names.append(" + ".join(alt.keys()) if alt else "none")
    return " or ".join(f"<a class=auth href='#security'>{esc(n)}</a>" for n in names)


def response_html(status, resp, spec, first_cell=None):
    """One table row: the status (or first_cell, already HTML) and what the response holds."""
    name = ref_name(resp["$ref"]) if "$ref" in resp else None
    r = resolve(spec, resp)
    parts = [md(r.get("description", ""))]
    if name:
        parts.append(f"<small>(<a href='#response-{esc(name)}'>{esc(name)}</a>)</small>")
    headers = r.get("headers", {})
    if headers:
        parts.append("<div><small>Headers: " + ", ".join(f"<code>{esc(h)}</code>" for h in headers) + "</small></div>")
    for ctype, media in r.get("content", {}).items():
        exs = example_of(media, spec)
        codes = [(summary, v) for summary, v in exs if isinstance(v, dict) and "error_code" in v]
        if codes:
            rows = "".join(f"<tr><td><code>{esc(v['error_code'])}</code></td><td>{esc(v.get('detail', ''))}</td></tr>"
                           for _, v in codes)
            parts.append(f"<table class=codes><tr><th>error_code</th><th>detail</th></tr>{rows}</table>")
        else:
            schema = media.get("schema")
            parts.append(f"<div><code>{esc(ctype)}</code>: {schema_html(schema, spec) if schema else ''}</div>")
            for summary, v in exs:
                if summary:
                    parts.append(f"<div><small>{esc(summary)}</small></div>")
                parts.append(f"<pre>{esc(pretty(v))}</pre>")
    if first_cell is None:
        first_cell = f"<td class='st st{esc(str(status)[:1])}'>{esc(status)}</td>"
    return f"<tr>{first_cell}<td>{''.join(parts)}</td></tr>"


def operation_html(path, method, op, item, spec, anchor):
    out = [f"<div class='op op-{esc(method)}' id='{esc(anchor)}'>",
           f"<h3><span class='m m-{esc(method)}'>{esc(method)}</span><code>{esc(path)}</code></h3>"]
    if op.get("summary"):
        out.append(f"<p class=sum>{esc(op['summary'])}</p>")
    if op.get("description"):
        out.append(md(op["description"]))
    auth = auth_html(op, spec)
    if auth:
        out.append(f"<p><strong>Authentication:</strong> {auth}</p>")
    # Path-level parameters first, then the operation's (which override by name+in).
    params = {}
    for p in list(item.get("parameters", [])) + list(op.get("parameters", [])):
        rp = resolve(spec, p)
        params[(rp.get("name"), rp.get("in"))] = rp
    if params:
        out.append("<div class=lbl>Parameters</div><table><tr><th>name</th><th>in</th><th>schema</th><th>description</th></tr>")
        for p in params.values():
            sch = p.get("schema")
            ex = f"<div><small>example: <code>{esc(p['example'])}</code></small></div>" if "example" in p else ""
            out.append(f"<tr><td class=pn><code>{esc(p.get('name'))}</code>{' <em>required</em>' if p.get('required') else ''}</td>"
                       f"<td>{esc(p.get('in'))}</td><td>{schema_html(sch, spec) if sch else ''}</td>"
                       f"<td>{md(p.get('description', ''))}{ex}</td></tr>")
        out.append("</table>")
    body = op.get("requestBody")
    if body:
        body = resolve(spec, body)
        req = " <em>required</em>" if body.get("required") else ""
        for ctype, media in body.get("content", {}).items():
            out.append(f"<div class=lbl>Request body{req}: <code>{esc(ctype)}</code></div>")
            schema = media.get("schema")
            if schema:
                out.append(f"<div>{schema_html(resolve(spec, schema), spec)}</div>")
                if "$ref" in schema:
                    out.append(f"<small>(<a href='#schema-{esc(ref_name(schema['$ref']))}'>"
                               f"{esc(ref_name(schema['$ref']))}</a>)</small>")
            for summary, v in example_of(media, spec):
                out.append(f"<div><small>Example{': ' + esc(summary) if summary else ''}</small></div><pre>{esc(pretty(v))}</pre>")
    out.append("<div class=lbl>Responses</div><table><tr><th>status</th><th>meaning</th></tr>")
    for status, resp in op.get("responses", {}).items():
        out.append(response_html(status, resp, spec))
    out.append("</table></div>")
    return "\n".join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: openapi_html.py IN.yaml OUT.html")
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    info = spec.get("info", {})
    comps = spec.get("components", {})
    title = info.get("title", "API")
    out = [
        "<!doctype html><html lang=en><head><meta charset='utf-8'>",
        "<meta name=viewport content='width=device-width, initial-scale=1'>",
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(title)} <small>{esc(info.get('version', ''))} · OpenAPI {esc(spec.get('openapi', ''))}</small></h1>",
    ]

    # Operations, grouped by their first tag in the order of the top-level tags list.
    tag_order = [t["name"] for t in spec.get("tags", [])]
    tag_desc = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    ops = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                op = item[method]
                anchor = "op-" + re.sub(r"[^A-Za-z0-9]+", "-", f"{method}{path}").strip("-")
                tag = (op.get("tags") or ["other"])[0]
                ops.append((tag, path, method, op, item, anchor))
    for tag in sorted({o[0] for o in ops}, key=lambda t: (tag_order.index(t) if t in tag_order else len(tag_order), t)):
        if tag not in tag_order:
            tag_order.append(tag)
    groups = [(t, [o for o in ops if o[0] == t]) for t in tag_order if any(o[0] == t for o in ops)]

    out.append("<h2 id=contents>Contents</h2><table class=toc>")
    for tag, items in groups:
        out.append(f"<tr><td colspan=3><a href='#tag-{esc(tag)}'><strong>{esc(tag)}</strong></a></td></tr>")
        for _, path, method, op, _, anchor in items:
            out.append(f"<tr><td><span class='m m-{esc(method)}'>{esc(method)}</span></td>"
                       f"<td><a href='#{esc(anchor)}'><code>{esc(path)}</code></a></td><td>{esc(op.get('summary', ''))}</td></tr>")
    out.append("<tr><td colspan=3><a href='#overview'>Overview</a> · <a href='#security'>Authentication schemes</a> · "
               "<a href='#responses'>Common responses</a> · <a href='#schemas'>Schemas</a></td></tr></table>")

    out.append("<h2 id=overview>Overview</h2>")
    out.append(md(info.get("description", "")))

    for tag, items in groups:
        out.append(f"<h2 id='tag-{esc(tag)}'>{esc(tag)}</h2>")
        if tag_desc.get(tag):
            out.append(md(tag_desc[tag]))
        for _, path, method, op, item, anchor in items:
            out.append(operation_html(path, method, op, item, spec, anchor))

    schemes = comps.get("securitySchemes", {})
    out.append("<h2 id=security>Authentication schemes</h2>")
    if schemes:
        out.append("<table><tr><th>name</th><th>kind</th><th>description</th></tr>")
        for name, s in schemes.items():
            kind = f"HTTP {s.get('scheme', '')}" if s.get("type") == "http" else \
                f"{s.get('type')} in {s.get('in')} <code>{esc(s.get('name'))}</code>" if s.get("type") == "apiKey" else esc(s.get("type"))
            out.append(f"<tr><td><code>{esc(name)}</code></td><td>{kind}</td><td>{md(s.get('description', ''))}</td></tr>")
        out.append("</table>")

    responses = comps.get("responses", {})
    if responses:
        out.append("<h2 id=responses>Common responses</h2><table><tr><th>name</th><th>meaning</th></tr>")
        for name, r in responses.items():
            out.append(response_html("", r, spec, f"<td id='response-{esc(name)}'><code>{esc(name)}</code></td>"))
        out.append("</table>")

    schemas = comps.get("schemas", {})
    if schemas:
        out.append("<h2 id=schemas>Schemas</h2>")
        for name, s in schemas.items():
            out.append(f"<div class=op id='schema-{esc(name)}'><h3>{esc(name)}</h3>")
            if s.get("description"):
                out.append(md(s["description"]))
            body = dict(s)
            body.pop("description", None)
            out.append(schema_html(body, spec))
            if "example" in s:
                out.append(f"<div><small>Example</small></div><pre>{esc(pretty(s['example']))}</pre>")
            out.append("</div>")
    out.append("</body></html>\n")

    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    os.replace(tmp, sys.argv[2])


if __name__ == "__main__":
    main()
