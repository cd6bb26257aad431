"""docs/benchmarks.md: the figures of the latest `make bench`, written between two markers. The
rest of the file (how the benchmarks work, fixes before and after, the Reports section) is
written by hand and kept as it is."""

from pathlib import Path
from statistics import median

START = "<!-- bench/run.py writes from here: do not edit by hand -->"
END = "<!-- bench/run.py writes up to here -->"
# `bench/run.py growth` (make bench-growth) writes its own section, between its own markers.
GROWTH = (
    "<!-- bench/run.py growth writes from here: do not edit by hand -->",
    "<!-- bench/run.py growth writes up to here -->",
)

HEADER = """# Benchmarks

`make bench` runs `bench/run.py` against the real stack on loopback and writes the section
below. See "How the benchmarks work" after it.

"""


def med(values) -> float:
    values = [v for v in values if v == v]  # not NaN
    return median(values) if values else float("nan")


def ok(met: bool) -> str:
    return "met" if met else "**missed**"


def spread(values, fmt="{:.0f}") -> str:
    return " / ".join(fmt.format(v) for v in values)


def render(run: dict) -> str:
    m = run["machine"]
    before, after = run["load"]
    lines = [
        "## Latest run",
        "",
        f"{run['when']}: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['os']}, "
        f"Python {m['python']}, PostgreSQL {m['postgresql']}, Redis {m['redis']}. "
        f"Load average {before[0]:.2f} / {before[1]:.2f} / {before[2]:.2f} (1, 5, 15 min) "
        f"at the start, {after[0]:.2f} at the end: the machine is shared, so the ratios "
        f"(project and reference measured in the same run, moments apart) are what count. "
        f"Each figure is the median of the rounds run ({run['repeats']}, fewer where a "
        f"benchmark's time budget ran out; each round's values are listed after it); "
        f"`make bench` took {run['total_seconds'] / 60:.1f} minutes.",
        "",
    ]
    results = run["results"]
    if "pages" in results:
        lines += pages(results["pages"])
    if "burst" in results:
        lines += burst(results["burst"])
    if "delivery" in results:
        lines += delivery(results["delivery"])
    if "reports" in results:
        lines += reports(results["reports"])
    if "growth" in results:
        lines = growth(results["growth"], run)
    return "\n".join(lines) + "\n"


def growth(r: dict, run: dict) -> list[str]:
    m = run["machine"]
    rows = [
        "### Growth: the history of walks, bookings and the outbox",
        "",
        f"{run['when']}, `make bench-growth`: {m['cores']} cores ({m['cpu']}), load average "
        f"{r['load'][0]:.1f} when it started, {r['load'][1]:.1f} after; took "
        f"{run['total_seconds'] / 60:.1f} minutes. One process; medians, milliseconds of wall "
        "clock (CPU in brackets). Rows: bookings, with a tenth as many past walks and one sent "
        "outbox row each, on top of seed_demo's and the 1,000 upcoming walks of the pages "
        "benchmark.",
        "",
        "| rows | walks / bookings / outbox | `/walks/` rendered afresh | a walk page rendered "
        "afresh | a booking POST | a sweep, per reminder |",
        "|---|---|---|---|---|---|",
    ]
    for size in r["sizes"]:
        c = size["counts"]
        cells = [
            size["pages"]["list"],
            size["pages"]["walk"],
            size["post"],
            size["sweep"],
        ]
        shown = " | ".join(f"{x['wall_ms']:.1f} ({x['cpu_ms']:.1f})" for x in cells)
        rows.append(
            f"| {size['size']:,} | {c['walks']:,} / {c['bookings']:,} / {c['notifications']:,} "
            f"| {shown} |"
        )
    queries = {
        f"{s['pages']['list']['queries']} / {s['pages']['walk']['queries']}" for s in r["sizes"]
    }
    rows += [
        "",
        f"Queries of the list / a walk page at every size: {', '.join(sorted(queries))}.",
        "",
    ]
    return rows


def load_note(result: dict) -> str:
    return f"Load average {result['load'][0]:.1f} when it started, {result['load'][1]:.1f} after."


def pages(r: dict) -> list[str]:
    t = r["targets"]
    bare = t["bare"]
    rows = [
        "### 1. Pages: 16 concurrent connections, 1,000 upcoming walks",
        "",
        f"gunicorn with 4 sync workers; {r['listed']} walks listed. {load_note(r)}",
        "",
        "| page | requests/s | ratio to bare (target at least 0.5) | p50 | p99 (target under "
        "100 ms) | 5xx |",
        "|---|---|---|---|---|---|",
        f"| bare Django view (`/bench/bare/`, {r['sizes']['bare'] // 1024} KiB) | "
        f"{med(bare['rps']):.0f} ({spread(bare['rps'])}) | 1 | {med(bare['p50_ms']):.1f} ms | "
        f"{med(bare['p99_ms']):.1f} ms | {bare['errors']} |",
    ]
    cookies = ", ".join(f"`{name}`" for name in r.get("cookies", []))
    labels = {
        "list": "`/walks/`",
        "walk": "a walk page",
        "list_cookies": f"`/walks/`, returning with the booking form's cookies ({cookies})",
        "walk_cookies": "a walk page, returning with the same cookies",
        "about": "for comparison, not a target: `/about/` (template only, no query)",
    }
    for name, label in labels.items():
        if name not in t:
            continue
        x = t[name]
        ratio = med(x["ratio"])
        p99 = med(x["p99_ms"])
        judged = name != "about"
        rows.append(
            f"| {label} ({r['sizes'][name] // 1024} KiB) | {med(x['rps']):.0f} "
            f"({spread(x['rps'])}) | {ratio:.2f} ({spread(x['ratio'], '{:.2f}')})"
            f"{': ' + ok(ratio >= 0.5) if judged else ''} | {med(x['p50_ms']):.1f} ms | "
            f"{p99:.1f} ms ({spread(x['p99_ms'])}){': ' + ok(p99 < 100) if judged else ''} | "
            f"{x['errors']} |"
        )
    cpu = med([c for x in t.values() for c in x["client_cpu_ms"]])
    rows += [
        "",
        f"The load generator (bench/stack.py, threads) used about {cpu:.2f} ms of CPU per "
        "request on the same two cores.",
        "",
    ]
    return rows


def burst(r: dict) -> list[str]:
    rounds = r["rounds"]
    checks = r["checks"]
    ratio = med(r["ratio"])
    five = sum(int(n) for rd in rounds for s, n in rd["statuses"].items() if int(s) >= 500)
    errors = sum(rd["errors"] for rd in rounds)
    overbooked = sum(c["overbooked"] for c in checks + r.get("reference_checks", []))
    p99 = med([x["p99_ms"] for x in rounds])
    missing = sum(c["missing_confirmation_rows"] for c in checks)
    statuses = {}
    for rd in rounds:
        for s, n in rd["statuses"].items():
            statuses[s] = statuses.get(s, 0) + n
    c0 = checks[0]
    return [
        f"### 2. Booking burst: {r['clients']} clients, {r['walks']} walks of "
        f"{r['capacity']} places",
        "",
        f"Each round: {c0['bookings']} bookings through the form (CSRF token fetched once per "
        f"client), {c0['confirmed']} confirmed and {c0['waitlisted']} on waiting lists. "
        f"PUBLIC_FORM_RATE_LIMIT raised to {r['rate_limit']} for the run (all clients share "
        f"127.0.0.1); the limiter still counts every post in Redis. The same-work reference "
        f"(`/bench/book/<code>/`: the booking's database work by hand with psycopg, the same "
        f"redirect) books as many on 20 walks of its own, just before. {load_note(r)}",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| booking posts/s | {med([x['rps'] for x in rounds]):.1f} "
        f"({spread([x['rps'] for x in rounds], '{:.1f}')}) | |",
        f"| bare view at 64 connections, req/s | {med([b['rps'] for b in r['bare']]):.0f} "
        f"({spread([b['rps'] for b in r['bare']])}) | |",
        f"| ratio to the bare view | {ratio:.2f} ({spread(r['ratio'], '{:.2f}')}) | |",
        *same_work_rows(r),
        f"| post latency p50 / p99 | {med([x['p50_ms'] for x in rounds]):.0f} ms / "
        f"{p99:.0f} ms ({spread([x['p99_ms'] for x in rounds])}) | p99 under 1 s: "
        f"{ok(p99 < 1000)} |",
        f"| responses | {', '.join(f'{n} x {s}' for s, n in sorted(statuses.items()))} | |",
        f"| 5xx and connection errors | {five + errors} | 0: {ok(five + errors == 0)} |",
        f"| places taken beyond capacity | {overbooked} | 0: {ok(overbooked == 0)} |",
        f"| bookings without their confirmation row | {missing} | 0: {ok(missing == 0)} |",
        f"| emails at the sink / bookings, all rounds | {r['messages']} / "
        f"{r['expected_messages']}, "
        f"{r['duplicate_messages']} duplicates | every one, once: "
        f"{ok(r['messages'] == r['expected_messages'] and not r['duplicate_messages'])} |",
        "",
        *cpu_rows(r),
    ]


CPU_PARTS = {
    "web": "gunicorn (4 workers)",
    "database": "PostgreSQL backends",
    "worker": "Celery worker (her email)",
    "sink": "SMTP sink",
    "client": "load generator",
}


def cpu_rows(r: dict) -> list[str]:
    """What a post costs, by part of the stack: CPU milliseconds per post, medians of rounds."""
    same = [x.get("cpu_ms") for x in r.get("reference", [])]
    mine = [x.get("cpu_ms") for x in r["rounds"]]
    until = [x.get("cpu_ms_until_delivered") for x in r["rounds"]]
    if not same or None in same + mine + until:
        return []

    def cell(values, part):
        return f"{med([v.get(part, 0) for v in values]):.2f}"

    rows = [
        "CPU time per booking post, by part of the stack (milliseconds, median of the rounds; "
        "read from /proc for each process during the burst; the last column runs on until the "
        "sink has every email of the round):",
        "",
        "| part | same-work reference | booking form, during the burst | booking form, until "
        "her email is delivered |",
        "|---|---|---|---|",
    ]
    for part, label in CPU_PARTS.items():
        rows.append(f"| {label} | {cell(same, part)} | {cell(mine, part)} | {cell(until, part)} |")
    totals = [[sum(v.values()) for v in values] for values in (same, mine, until)]
    rows += [
        f"| all | {med(totals[0]):.2f} | {med(totals[1]):.2f} | {med(totals[2]):.2f} |",
        "",
    ]
    return rows


def same_work_rows(r: dict) -> list[str]:
    if "reference" not in r:
        return []
    same = r["reference"]
    ratio = med(r["same_work_ratio"])
    return [
        f"| same-work reference posts/s | {med([x['rps'] for x in same]):.1f} "
        f"({spread([x['rps'] for x in same], '{:.1f}')}); p50 / p99 "
        f"{med([x['p50_ms'] for x in same]):.0f} ms / {med([x['p99_ms'] for x in same]):.0f} ms "
        "| |",
        f"| **ratio to the same-work reference** | {ratio:.2f} "
        f"({spread(r['same_work_ratio'], '{:.2f}')}) | at least 0.5: {ok(ratio >= 0.5)} |",
    ]


def delivery(r: dict) -> list[str]:
    workers, plains = r["worker"], r["plain"]
    ratio = med(r["ratio"])
    dupes = sum(w["duplicates"] for w in workers)
    complete = all(
        w["messages"] == r["messages"] and w["rows_sent"] == r["messages"] for w in workers
    )
    concurrency = r.get("concurrency", 1)
    lines = [
        f"### 3. Delivery: {r['messages']:,} due reminders, the worker as deployed",
        "",
        f"Messages of {r['average_bytes'] / 1024:.1f} KiB on average (text, HTML). {load_note(r)}",
        "",
        "| measure | messages/s | target |",
        "|---|---|---|",
        f"| Celery worker as docker-compose.yml runs it (concurrency {concurrency}, a process "
        f"per core), beat's sweep | {med([w['rate'] for w in workers]):.0f} "
        f"({spread([w['rate'] for w in workers])}) | |",
        f"| plain smtplib loop, same messages, one connection | "
        f"{med([p['rate'] for p in plains]):.0f} ({spread([p['rate'] for p in plains])}) | |",
        f"| ratio | {ratio:.2f} ({spread(r['ratio'], '{:.2f}')}) | at least 0.5: "
        f"{ok(ratio >= 0.5)} |",
        f"| each message exactly once (sink, by recipient) | "
        f"{'yes' if complete and not dupes else 'no'}: {dupes} duplicates, rows sent "
        f"{spread([w['rows_sent'] for w in workers], '{:,}')} | {ok(complete and not dupes)} |",
        "",
    ]
    single = r.get("single")
    if single:
        plain = med([p["rate"] for p in plains])
        once = single["messages"] == single["rows_sent"] == r["messages"]
        verdict = "" if once and not single["duplicates"] else ": NOT exactly once"
        lines += [
            "Beside the target, not its measure: one worker process (`--concurrency=1`), one "
            f"round: {single['rate']:.0f} messages/s, {single['rate'] / plain:.2f} of the plain "
            f"loop's median; {single['duplicates']} duplicates, rows sent "
            f"{single['rows_sent']:,}{verdict}.",
            "",
        ]
    return lines


def reports(r: dict) -> list[str]:
    rows = [
        f"### 4. Reports: {r['concerns']:,} concerns",
        "",
        "One gunicorn worker; the commander's page over HTTP (its counts summed from the "
        "concerns counted by day) beside the reference: the same figures computed from the "
        "concerns themselves (`reports.reference`), its SQL sent over a bare psycopg "
        f"connection. {load_note(r)}",
        "",
        "| report | page (target under 300 ms) | reference, from the concerns | page / "
        "reference | statements (page, reference) |",
        "|---|---|---|---|---|",
    ]
    for label, p in r["pages"].items():
        page = med(p["page_ms"])
        rows.append(
            f"| {label} | {page:.0f} ms ({spread(p['page_ms'])}): {ok(page < 300)} | "
            f"{med(p['reference_ms']):.0f} ms ({spread(p['reference_ms'])}) | "
            f"{med(p['ratio']):.2f} | {p['queries']}, {p['reference_queries']} |"
        )
    c = r["csv"]
    complete = c["status"] == 200 and c["rows"] == c["expected_rows"]
    peak = max(c["hwm_mib"], c["rss_peak_sampled_mib"])
    rows += [
        "",
        "| CSV export of every concern | value | target |",
        "|---|---|---|",
        f"| rows | {c['rows']:,} of {c['expected_rows']:,} | all: {ok(complete)} |",
        f"| size, time | {c['bytes'] / 1e6:.0f} MB in {c['seconds']:.1f} s (first byte after "
        f"{c['first_byte'] or 0:.2f} s) | |",
        f"| web worker's peak resident memory | {peak:.0f} MiB (idle before: "
        f"{c['rss_before_mib']:.0f} MiB) | under 150 MB: {ok(peak * 1.048576 < 150)} |",
        "",
    ]
    return rows


def write(path: Path, text: str, section: tuple[str, str] = (START, END)) -> None:
    start, end = section
    if section != (START, END):
        current = path.read_text()
        block = f"{start}\n{text}{end}"
        if start in current and end in current:
            head, _, rest = current.partition(start)
            _, _, tail = rest.partition(end)
            path.write_text(head + block + tail)
        else:
            path.write_text(current.rstrip("\n") + "\n\n" + block + "\n")
        return
    block = f"{START}\n{text}{END}\n"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER + block)
        return
    current = path.read_text()
    if START in current and END in current:
        head, _, rest = current.partition(START)
        _, _, tail = rest.partition(END)
        path.write_text(head + block.rstrip("\n") + tail)
    else:
        # The hand-written sections stay; the figures go after the title.
        title, newline, body = current.partition("\n")
        if title.startswith("# "):
            path.write_text(title + "\n\n" + block + newline + body.lstrip("\n"))
        else:
            path.write_text(HEADER + block + "\n" + current)
