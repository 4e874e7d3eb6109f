"""``index.html`` of a ``qc`` batch: the page people open after a shooting day.

One row per clip: a filmstrip, a timeline with the target's soft sections in red and the racks and pulls
marked, the totals, and links to the clip's report, markers and events. Plain files only: the page, its
small script and its styles are inline (no server, no CDN), and the images are the clips' own outputs.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from assistant.qc.clips import Skipped
from assistant.qc.job import OUTPUT_FILES, ClipOutcome

SOFT_RED = "#e5484d"
RACK_AMBER = "#ffb224"
PULL_BLUE = "#52a9ff"
TIMELINE_W, TIMELINE_H = 360, 22


def write_index(out_dir: Path, outcomes: list[ClipOutcome], skipped: list[Skipped]) -> Path:
    """Write ``out_dir/index.html`` (rows sorted by seconds soft, most first) and return its path."""
    rows = sorted(outcomes, key=lambda o: (o.status == "ok", -o.soft_s, o.name))
    soft_total = sum(o.soft_s for o in outcomes)
    bad = sum(o.status != "ok" for o in outcomes)
    body = "\n".join(_row(out_dir, o) for o in rows)
    skipped_list = "".join(f"<li>{html.escape(str(s.path))}: {html.escape(s.reason)}</li>" for s in skipped)
    page = PAGE.format(
        clips=len(outcomes), bad=bad, soft_total=f"{soft_total:.1f}", rows=body,
        skipped=f"<h2>Skipped files</h2><ul>{skipped_list}</ul>" if skipped else "",
        red=SOFT_RED, amber=RACK_AMBER, blue=PULL_BLUE)
    path = out_dir / "index.html"
    partial = path.with_name(".index.html.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, path)
    return path


def _row(out_dir: Path, o: ClipOutcome) -> str:
    name = html.escape(o.name)
    folder = html.escape(o.name, quote=True)
    strip = out_dir / o.name / OUTPUT_FILES["filmstrip"]
    film = f'<img class="film" src="{folder}/{OUTPUT_FILES["filmstrip"]}" alt="frames of {name}">' if strip.exists() else ""
    if o.status != "ok":
        return (f'<tr class="error" data-soft="-1" data-name="{folder}" data-duration="{o.duration_s or 0}">'
                f'<td class="clip"><b>{name}</b><br><small>{html.escape(o.path)}</small></td>'
                f'<td>{film}</td><td colspan="4" class="reason">not analysed: {html.escape(o.error or "unknown")}</td>'
                f"<td></td></tr>")
    links = " · ".join(f'<a href="{folder}/{OUTPUT_FILES[kind]}">{label}</a>'
                     for kind, label in (("report", "report"), ("markers", "EDL"), ("events", "events"))
                     if (out_dir / o.name / OUTPUT_FILES[kind]).exists())
    return (f'<tr data-soft="{o.soft_s}" data-name="{folder}" data-duration="{o.duration_s or 0}">'
            f'<td class="clip"><b>{name}</b><br><small>{html.escape(o.path)}</small></td>'
            f"<td>{film}</td><td>{timeline_svg(o)}</td>"
            f'<td class="num">{o.duration_s or 0:.1f}</td>'
            f'<td class="num">{o.events.get("rack", 0)} / {o.events.get("pull", 0)}</td>'
            f'<td class="num{" soft" if o.soft_s > 0 else ""}">{_soft_cell(o)}</td><td class="files">{links}</td></tr>')


def _soft_cell(o: ClipOutcome) -> str:
    if o.subjects == 0:
        return '<span class="none" title="no face was found, so nothing could be judged soft">no face</span>'
    return f"{o.soft_s:.1f}"


def timeline_svg(o: ClipOutcome) -> str:
    """The clip's time as a strip: soft sections red, racks amber and pulls blue (ticks at their spans)."""
    duration = o.duration_s or 0.0
    if duration <= 0:
        return ""

    def x(t: float) -> float:
        return round(max(0.0, min(1.0, t / duration)) * TIMELINE_W, 1)

    parts = [f'<rect width="{TIMELINE_W}" height="{TIMELINE_H}" fill="#2a2d33"/>']
    for start, end in o.soft_sections:
        parts.append(f'<rect x="{x(start)}" width="{max(1.0, x(end) - x(start))}" height="{TIMELINE_H}" '
                     f'fill="{SOFT_RED}"><title>soft {start:.2f}-{end:.2f} s</title></rect>')
    for kind, start, end in o.marks:
        colour = RACK_AMBER if kind == "rack" else PULL_BLUE
        parts.append(f'<rect x="{x(start)}" y="{TIMELINE_H - 6}" width="{max(2.0, x(end) - x(start))}" height="6" '
                     f'fill="{colour}"><title>{kind} {start:.2f}-{end:.2f} s</title></rect>')
    return (f'<svg class="timeline" viewBox="0 0 {TIMELINE_W} {TIMELINE_H}" width="{TIMELINE_W}" '
            f'height="{TIMELINE_H}" role="img" aria-label="timeline">{"".join(parts)}</svg>')


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Focus QC: {clips} clips</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ background: #16181c; color: #e8e8e8; font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; }}
h1 {{ font-size: 1.4em; margin: 0 0 .3em; }} a {{ color: #8cc8ff; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ padding: 6px 10px; border-bottom: 1px solid #2c3036; vertical-align: middle; text-align: left; }}
th {{ cursor: pointer; user-select: none; position: sticky; top: 0; background: #1d2025; }}
th[aria-sort="descending"]::after {{ content: " \\25BC"; }} th[aria-sort="ascending"]::after {{ content: " \\25B2"; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }} td.soft {{ color: {red}; font-weight: 600; }}
tr.error td {{ color: #ff9b9b; }} .none {{ color: #9aa0a6; font-weight: 400; }} .film {{ width: 300px; height: auto; display: block; }}
td.clip small {{ word-break: break-all; }} td.files {{ white-space: nowrap; }} td.clip {{ max-width: 260px; }} small {{ color: #9aa0a6; }}
.legend span {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: -1px; }}
</style></head>
<body>
<h1>Focus QC</h1>
<p>{clips} clips, {soft_total} s soft in all, {bad} not analysed.
<span class="legend"><span style="background:{red}"></span>target soft
<span style="background:{amber}"></span>rack <span style="background:{blue}"></span>pull</span></p>
<table id="clips">
<thead><tr><th data-key="name" data-type="text">clip</th><th>frames</th><th>timeline</th>
<th data-key="duration" data-type="number">seconds</th><th>racks / pulls</th>
<th data-key="soft" data-type="number" aria-sort="descending">seconds soft</th><th>files</th></tr></thead>
<tbody>
{rows}
</tbody></table>
{skipped}
<script>
// Click a header with a key to sort by it; click again to reverse.
document.querySelectorAll("#clips th[data-key]").forEach(function (th) {{
  th.addEventListener("click", function () {{
    var key = th.dataset.key, numeric = th.dataset.type === "number";
    var down = th.getAttribute("aria-sort") !== "descending";
    document.querySelectorAll("#clips th").forEach(function (h) {{ h.removeAttribute("aria-sort"); }});
    th.setAttribute("aria-sort", down ? "descending" : "ascending");
    var body = document.querySelector("#clips tbody");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {{
      var x = a.dataset[key], y = b.dataset[key];
      var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return down ? -order : order;
    }});
    rows.forEach(function (r) {{ body.appendChild(r); }});
  }});
}});
</script>
</body></html>
"""
