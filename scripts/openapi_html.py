#!/usr/bin/python3
"""Renders docs/openapi.yaml as one self-contained HTML page (no scripts, no external assets),
served by GET /4/docs/spec with Accept: text/html. Usage: openapi_html.py IN.yaml OUT.html"""
import html
import json
import sys

import yaml


def esc(v):
    return html.escape(str(v), quote=True)


def schema_text(s, spec, depth=0):
    if s is None:
        return ""
    if "$ref" in s:
        name = s["$ref"].split("/")[-1]
        return f'<a href="#schema-{esc(name)}">{esc(name)}</a>'
    t = s.get("type", "")
    if t == "array":
        return "array of " + schema_text(s.get("items"), spec, depth + 1)
    if t == "object" and "properties" in s and depth < 2:
        req = set(s.get("required", []))
        rows = "".join(
            f"<li><code>{esc(k)}</code>{' (required)' if k in req else ''}: {schema_text(v, spec, depth + 1)}"
            f"{' — ' + esc(v.get('description')) if isinstance(v, dict) and v.get('description') else ''}</li>"
            for k, v in s["properties"].items())
        return f"object<ul>{rows}</ul>"
    extras = []
    for key in ("format", "pattern", "minLength", "maxLength", "minimum", "maximum", "enum", "default"):
        if key in s:
            extras.append(f"{key}: {esc(json.dumps(s[key]))}")
    return esc(t or "any") + (f" <small>({', '.join(extras)})</small>" if extras else "")


def main():
    spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    info = spec.get("info", {})
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(info.get('title', 'API'))}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em;line-height:1.4}"
        "code{background:#f3f3f3;padding:0 3px}.op{border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.5em 1em}"
        ".m{font-weight:bold;text-transform:uppercase;display:inline-block;width:5em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px;vertical-align:top}</style>",
        "</head><body>",
        f"<h1>{esc(info.get('title', ''))} <small>{esc(info.get('version', ''))}</small></h1>",
        f"<p>{esc(info.get('description', ''))}</p>",
        "<h2>Operations</h2><ul>",
    ]
    ops = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete", "options", "head"):
                continue
            anchor = f"{method}-{path}".replace("/", "_").replace("{", "").replace("}", "")
            ops.append((path, method, op, anchor))
            out.append(f"<li><a href='#{esc(anchor)}'><span class='m'>{esc(method)}</span> <code>{esc(path)}</code></a>"
                       f" — {esc(op.get('summary', ''))}</li>")
    out.append("</ul>")
    for path, method, op, anchor in ops:
        out.append(f"<div class='op' id='{esc(anchor)}'><h3><span class='m'>{esc(method)}</span> <code>{esc(path)}</code></h3>")
        if op.get("description") or op.get("summary"):
            out.append(f"<p>{esc(op.get('description') or op.get('summary'))}</p>")
        sec = op.get("security", spec.get("security"))
        if sec is not None:
            names = [k for s in sec for k in s] or ["none"]
            out.append(f"<p>Authentication: {esc(', '.join(names))}</p>")
        params = op.get("parameters", []) + spec.get("paths", {}).get(path, {}).get("parameters", [])
        if params:
            out.append("<table><tr><th>parameter</th><th>in</th><th>schema</th><th>description</th></tr>")
            for p in params:
                if "$ref" in p:
                    p = spec["components"]["parameters"][p["$ref"].split("/")[-1]]
                out.append(f"<tr><td><code>{esc(p['name'])}</code>{' (required)' if p.get('required') else ''}</td>"
                           f"<td>{esc(p.get('in'))}</td><td>{schema_text(p.get('schema'), spec)}</td>"
                           f"<td>{esc(p.get('description', ''))}</td></tr>")
            out.append("</table>")
        body = op.get("requestBody")
        if body:
            for ctype, media in body.get("content", {}).items():
                out.append(f"<p>Body <code>{esc(ctype)}</code>: {schema_text(media.get('schema'), spec)}</p>")
        out.append("<table><tr><th>status</th><th>meaning</th></tr>")
        for status, resp in op.get("responses", {}).items():
            if "$ref" in resp:
                resp = spec["components"]["responses"][resp["$ref"].split("/")[-1]]
            out.append(f"<tr><td>{esc(status)}</td><td>{esc(resp.get('description', ''))}</td></tr>")
        out.append("</table></div>")
    schemas = spec.get("components", {}).get("schemas", {})
    if schemas:
        out.append("<h2>Schemas</h2>")
        for name, s in schemas.items():
            out.append(f"<div class='op' id='schema-{esc(name)}'><h3>{esc(name)}</h3>{schema_text(s, spec)}</div>")
    out.append("</body></html>")
    with open(sys.argv[2] + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    import os
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])


if __name__ == "__main__":
    main()
