"""The soak's results as markdown (bench/results/soak-*.md and README "Performance")."""


def _ratio(a, b):
    if a is None or b in (None, 0):
        return "–"
    return f"{a / b:.2f}"


def _ms(value):
    return "–" if value is None else f"{value:.0f}"


def markdown(results):
    base = results.get("baseline") or {}
    fault = results.get("faults") or {}
    s = results["settings"]
    lines = [
        f"### Soak {results['started_at']}: {s['minutes']:g} min per run, {s['users']} users, "
        f"scale {s['scale']:g}, {results['machine']['nproc']} cores",
        "",
        f"Load average at start {results['machine']['load_average_at_start']}, "
        f"at end {results['machine']['load_average_at_end']}. Verdict: **{'OK' if results['ok'] else 'FAILED'}**"
        + ("" if s["pg_restart"] else " (PostgreSQL restart left out: SOAK_PG_RESTART=0)"),
        "",
        "| kind | baseline req/s | p50 / p95 / p99 ms | with faults req/s | p50 / p95 / p99 ms | p95 ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    b_kinds = (base.get("requests") or {}).get("by_kind", {})
    f_kinds = (fault.get("requests") or {}).get("by_kind", {})
    for kind in sorted(set(b_kinds) | set(f_kinds)):
        b, f = b_kinds.get(kind, {}), f_kinds.get(kind, {})
        lines.append(
            f"| {kind} | {b.get('per_second', '–')} | {_ms(b.get('p50_ms'))} / {_ms(b.get('p95_ms'))} / "
            f"{_ms(b.get('p99_ms'))} | {f.get('per_second', '–')} | {_ms(f.get('p50_ms'))} / "
            f"{_ms(f.get('p95_ms'))} / {_ms(f.get('p99_ms'))} | {_ratio(f.get('p95_ms'), b.get('p95_ms'))} |"
        )
    b_req, f_req = base.get("requests") or {}, fault.get("requests") or {}
    lines.append(
        f"| **all** | {b_req.get('per_second', '–')} | {_ms(b_req.get('p50_ms'))} / {_ms(b_req.get('p95_ms'))} / "
        f"{_ms(b_req.get('p99_ms'))} | {f_req.get('per_second', '–')} | {_ms(f_req.get('p50_ms'))} / "
        f"{_ms(f_req.get('p95_ms'))} / {_ms(f_req.get('p99_ms'))} | {_ratio(f_req.get('p95_ms'), b_req.get('p95_ms'))} |"
    )
    lines += [
        "",
        "| fault | time to recover | detail | requests in window | 503 | no answer | answered/s vs baseline | p95 vs baseline |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    windows = {w["fault"]: w for w in f_req.get("fault_windows", [])}
    for f in fault.get("faults", []):
        w = windows.get(f["fault"], {})
        detail = []
        if f.get("taken_out_after_s") is not None:
            detail.append(f"out of rotation after {f['taken_out_after_s']} s")
        if f.get("back_in_rotation_after_restart_s") is not None:
            detail.append(f"back {f['back_in_rotation_after_restart_s']} s after restart")
        if "mid_send" in f:
            detail.append("killed mid-send" if f["mid_send"] else "no send in flight: killed idle")
        if f.get("restart_took_s") is not None:
            detail.append(f"restart took {f['restart_took_s']} s")
        if f.get("away_s") is not None:
            detail.append(f"away {f['away_s']:g} s; recovery counted from its return")
        if f.get("error"):
            detail.append(f"ERROR {f['error']}")
        lines.append(
            f"| {f['fault']} | {f.get('time_to_recover_s', '–')} s | {'; '.join(detail)} | {w.get('requests', '–')} | "
            f"{w.get('status_503', '–')} | {w.get('no_answer', '–')} | "
            f"{_ratio(w.get('answered_per_second'), b_req.get('answered_per_second'))} | "
            f"{_ratio(w.get('p95_ms'), b_req.get('p95_ms'))} |"
        )
    lines += ["", "| errors (run, phase, status) | count |", "|---|---:|"]
    for name, run in (("baseline", base), ("faults", fault)):
        for e in (run.get("requests") or {}).get("errors_by_phase_and_status", []):
            lines.append(f"| {name}, {e['phase']}, {e['status']} | {e['count']} |")
    lines += [
        "",
        "| reconciliation | baseline | with faults |",
        "|---|---:|---:|",
    ]
    rows = [
        ("writes (keys)", lambda r: r["writes"]),
        ("acknowledged", lambda r: r["acknowledged"]),
        ("refused (4xx, or 503 after 6 tries)", lambda r: r["refused"]),
        ("answers replayed for a retried key", lambda r: r["replayed_answers"]),
        ("lost", lambda r: r["lost"]),
        ("duplicated", lambda r: r["duplicated"]),
        ("refused but in the database", lambda r: r["unacknowledged_in_database"]),
        ("over-committed budgets", lambda r: r["budgets"]["over_committed"]),
        ("notifications sent (once each)", lambda r: r["notifications"]["sent_by_the_sink"]),
        ("notifications sent twice", lambda r: r["notifications"]["sent_twice"]),
        ("notifications still queued", lambda r: r["notifications"]["still_queued"]),
        ("audit chain valid (verify_audit)", lambda r: "yes" if r["audit"]["valid"] else "NO"),
        ("orphan objects / rows (sweep_orphans)",
         lambda r: f"{r['orphans']['objects_without_row']} / {r['orphans']['rows_without_object']}"),
    ]  # fmt: skip
    for label, get in rows:
        values = []
        for run in (base, fault):
            rec = run.get("reconciliation")
            values.append(str(get(rec)) if rec else "–")
        lines.append(f"| {label} | {values[0]} | {values[1]} |")
    lines += [
        "",
        f"5xx outside fault windows: baseline {b_req.get('server_errors_outside_fault_windows', '–')}, "
        f"with faults {f_req.get('server_errors_outside_fault_windows', '–')}; inside the windows other than "
        f"503 with Retry-After: {f_req.get('server_errors_inside_windows_not_503_with_retry_after', '–')}; "
        f"connections closed without an answer by the app server's SIGKILL (in flight on it): "
        f"{f_req.get('connections_cut_by_the_app_server_kill', '–')}.",
        "",
    ]
    for run in (base, fault):
        if run.get("error"):
            lines += [f"Run `{run.get('mode')}` failed:", "", "```", run["error"][-1500:], "```", ""]
    return "\n".join(lines)
